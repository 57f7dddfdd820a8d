"""The HubSpot emulator's fixtures (hubspot_fixtures.py), offered to every test module here by pytest."""

from __future__ import annotations

from tests.sandbox.hubspot_fixtures import hub, hub_server

__all__ = ["hub", "hub_server"]
