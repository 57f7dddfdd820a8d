"""The respx fixtures (respx_vendors.py), offered to every test module here by pytest."""

from __future__ import annotations

from tests.systems.respx_vendors import router_fixture, sleeps_fixture

__all__ = ["router_fixture", "sleeps_fixture"]
