"""Deterministic, streaming generator of a realistic two-CRM world for the sandbox emulators.

    from connector.sandbox.seed import generate, SeedProfile
    for batch in generate(100_000, seed=7, now_ms=clock.now_ms()):
        hubspot_state.load(batch); salesforce_state.load(batch)

Each `SeedBatch` holds `batch_people` people in both systems' vocabularies; records referenced across
batches (reps, campaigns, Accounts, HubSpot companies) are in the same or an earlier batch. See
docs/sandbox/seed.md for the shape of the world and the proportions `SeedProfile` controls.
"""

from __future__ import annotations

from ._generate import HUBSPOT_TYPES, SALESFORCE_TYPES, generate
from ._profile import SeedProfile

__all__ = ["generate", "SeedProfile", "HUBSPOT_TYPES", "SALESFORCE_TYPES"]
