"""The daemon's HTTP endpoint: `/healthz`, `/readyz`, `/metrics` and the status page `/`.

`build_app` makes the Starlette app and `start_server` serves it with uvicorn in a daemon thread, on a socket
bound before it returns (a port in use raises `OSError` at once; port 0 picks a free one, `Server.port`
says which). `/healthz` and `/readyz` never need the token, so a container's health check and a load
balancer need no secret. With a token (`[daemon] token`, required beyond loopback) `/metrics` and `/` need
``Authorization: Bearer <token>``; a browser, which cannot send a bearer token, may give it as the Basic
password instead (any user name). Without one (the loopback default) they are open.

Every figure is read from the store when asked (`metrics.py`, `page.py`, SQL in `connector.store.operations`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..store.operations import check_reachable
from . import page
from .metrics import BudgetLimit, build_registry
from .state import DaemonState

__all__ = ["build_app", "start_server", "Server", "STORE_PROBE_TIMEOUT_S"]

log = logging.getLogger(__name__)

#: /readyz waits this long for the store's `SELECT 1` (a PostgreSQL server that drops packets would
#: otherwise hold the probe until the TCP timeout)
STORE_PROBE_TIMEOUT_S = 5.0
#: the page asks a browser for the token as a Basic password (its sign-in dialog; Basic first, or Chromium
#: reads no further); the metrics ask a scraper for a bearer token
_PAGE_CHALLENGE = 'Basic realm="connector", charset="UTF-8", Bearer realm="connector"'
_METRICS_CHALLENGE = 'Bearer realm="connector"'
#: the page loads nothing and runs nothing: a value that got through unescaped still could not run
_PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                            "frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _presented(request: Request) -> bytes | None:
    """The token a request presents: a bearer token, or a Basic password."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials.encode()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError):
            return None
        return decoded.partition(b":")[2]
    return None


class _Check:
    """One `SELECT 1` in a daemon thread of its own (a store that hangs holds that thread, never a request's)."""

    def __init__(self, engine: Engine) -> None:
        self.done = threading.Event()
        self.problem: str | None = None
        threading.Thread(target=self._run, args=(engine,), name="readyz-store", daemon=True).start()

    def _run(self, engine: Engine) -> None:
        try:
            check_reachable(engine)
        except SQLAlchemyError as exc:
            self.problem = f"the state store is unreachable ({type(exc).__name__})"
        finally:
            self.done.set()


class _Probe:
    """The store's reachability, bounded in time. Requests that come while a check is still waiting share it,
    so probes of a store that hangs do not pile up threads."""

    def __init__(self, engine: Engine, timeout_s: float) -> None:
        self.engine, self.timeout_s = engine, timeout_s
        self._lock = threading.Lock()
        self._check: _Check | None = None

    def __call__(self) -> str | None:
        """None when the store answered, else why not."""
        with self._lock:
            if self._check is None or self._check.done.is_set():
                self._check = _Check(self.engine)
            check = self._check
        if not check.done.wait(self.timeout_s):
            return f"the state store did not answer within {self.timeout_s:g} s"
        return check.problem


def build_app(engine: Engine, state: DaemonState, *, token: str | None, clock: Callable[[], float] = time.time,
              budgets: Mapping[str, BudgetLimit] | None = None,
              store_probe_timeout_s: float = STORE_PROBE_TIMEOUT_S) -> Starlette:
    """The endpoint's app over `engine` and the daemon's `state`. `token` None leaves `/metrics` and `/` open
    (loopback only: the config refuses an exposed address without one); `budgets` are the configured daily
    limits (`metrics.budget_limits(cfg)`), without which the remaining calls are unknown."""
    expected = token.encode() if token is not None else None
    limits = dict(budgets or {})
    registry = build_registry(engine, state, limits=limits, clock=clock)
    probe = _Probe(engine, store_probe_timeout_s)

    def allowed(request: Request) -> bool:
        if expected is None:
            return True
        presented = _presented(request)
        return presented is not None and hmac.compare_digest(presented, expected)

    def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    def readyz(request: Request) -> Response:
        ready, reason = state.ready(clock())
        problem = probe()
        if problem is not None:
            ready, reason = False, problem if ready else f"{reason}; {problem}"
        return PlainTextResponse(f"{'ready' if ready else 'not ready'}: {reason}\n", status_code=200 if ready else 503)

    def metrics(request: Request) -> Response:
        if not allowed(request):
            return PlainTextResponse("the metrics need the daemon's token (Authorization: Bearer <token>)\n",
                                     status_code=401, headers={"WWW-Authenticate": _METRICS_CHALLENGE})
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def status_page(request: Request) -> Response:
        if not allowed(request):
            return HTMLResponse(page.unauthorized_page(), status_code=401,
                                headers={"WWW-Authenticate": _PAGE_CHALLENGE, **_PAGE_HEADERS})
        view = page.gather(engine, state, limits, clock())
        return HTMLResponse(page.render(view), headers=_PAGE_HEADERS)

    # plain functions: Starlette runs them in its thread pool, so a slow store never blocks the event loop
    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics),
                             Route("/", status_page)])


class Server:
    """A running endpoint: `port` is the bound port; `stop()` ends it."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, sock: socket.socket) -> None:
        self._server, self._thread, self._socket = server, thread, sock
        self.host, self.port = sock.getsockname()[:2]

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop serving: open connections get `timeout_s` to finish, then are dropped; returns once the thread
        has ended (or after twice `timeout_s`, logged)."""
        self._server.should_exit = True
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.warning("the HTTP endpoint did not stop within %.0f s", 2 * timeout_s)
        self._socket.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def start_server(app: Starlette, host: str, port: int) -> Server:
    """Serve `app` on host:port in a daemon thread; raises OSError when the address cannot be bound. The
    socket listens before this returns, so a request sent at once waits for the server instead of failing."""
    sock = _bind(host, port)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", server_header=False,
                            timeout_graceful_shutdown=2, limit_concurrency=64)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="http-endpoint", daemon=True)
    thread.start()
    return Server(server, thread, sock)
