"""Salesforce sandbox: REST, sObject Collections, Composite and Bulk API 2.0 emulated over SQLite.

Usage::

    state = SalesforceState(data_dir, clock)
    app = create_app(state, counter=CallCounter(), faults=FaultPlan(), control_routes=[...])

See docs/sandbox/salesforce.md for what is emulated, what is not, and the choices made.
"""

from __future__ import annotations

from ._app import create_app, render_fault
from ._schema import DEFAULT_CUSTOM_FIELDS, CustomField
from ._state import (DEFAULT_API_VERSION, SUPPORTED_VERSIONS, BulkTiming, DatetimeMillis, SalesforceLimits,
                     SalesforceState)

__all__ = [
    "SalesforceState", "SalesforceLimits", "CustomField", "DEFAULT_CUSTOM_FIELDS", "create_app", "render_fault",
    "DEFAULT_API_VERSION", "SUPPORTED_VERSIONS", "BulkTiming", "DatetimeMillis",
]
