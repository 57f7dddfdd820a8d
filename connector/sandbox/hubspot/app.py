"""The HubSpot emulator as one ASGI app: CountingMiddleware(FaultMiddleware(gate(router)))."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.routing import BaseRoute, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ..counters import CallCounter, CountingMiddleware
from ..faults import FaultMiddleware, FaultPlan
from .control import control_routes
from .errors import HubSpotError, error_response
from .gate import HubSpotGate, render_fault
from .routes_assoc import association_routes
from .routes_events import event_routes
from .routes_meta import meta_routes
from .routes_objects import object_routes
from .routes_prefs import preference_routes
from .services import Services
from .state import HubSpotState

__all__ = ["create_app"]

OBJECT_PREFIXES = ("/crm/v3/objects", "/crm/objects/2026-03")


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """HubSpot-shaped 404 for paths the sandbox does not emulate."""
    request = Request(scope, receive)
    response = error_response(request, HubSpotError(
        404, "OBJECT_NOT_FOUND", f"No HubSpot endpoint {request.method} {request.url.path} in the sandbox"))
    await response(scope, receive, send)


def create_app(state: HubSpotState, *, counter: CallCounter, faults: FaultPlan,
               control_routes: Sequence[BaseRoute] = ()) -> ASGIApp:
    """Build the emulator app for `state`; `control_routes` are the lead's shared /_sandbox routes."""
    svc = Services(state)
    routes: list[BaseRoute] = [*control_routes, *_control(svc)]
    for prefix in OBJECT_PREFIXES:
        routes += object_routes(svc, prefix)
    routes += association_routes(svc) + meta_routes(svc) + event_routes(svc) + preference_routes(svc)
    router = Router(routes=routes, redirect_slashes=False, default=_not_found)
    return CountingMiddleware(FaultMiddleware(HubSpotGate(router, state), faults, render_fault), counter)


def _control(svc: Services) -> list[BaseRoute]:
    return control_routes(svc)
