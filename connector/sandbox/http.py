"""Serving an emulator over HTTPS on loopback from a background thread.

Tests, the demo and ``connector sandbox`` all need real servers on real sockets (the official SDKs
must run unmodified against them), started on an ephemeral port and stopped cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

from .tls import TLSFiles

__all__ = ["ServerThread"]


class _InjectedFaultFilter(logging.Filter):
    """Keeps uvicorn from logging a traceback for connections the fault plan drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        from .faults import DroppedConnection

        if record.exc_info and isinstance(record.exc_info[1], DroppedConnection):
            return False
        # a client that keeps a connection alive past shutdown is cut after the grace period: not an error
        return "timeout graceful shutdown exceeded" not in record.getMessage()


_uvicorn_log = logging.getLogger("uvicorn.error")
if not any(isinstance(f, _InjectedFaultFilter) for f in _uvicorn_log.filters):
    _uvicorn_log.addFilter(_InjectedFaultFilter())


class ServerThread:
    """One uvicorn server for one ASGI app, on 127.0.0.1, in a daemon thread."""

    def __init__(self, app: ASGIApp, tls: TLSFiles | None, *, port: int = 0, name: str = "sandbox") -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the listening
        # socket says so; without it every response waits ~40 ms for a delayed ACK
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            log_level=logging.WARNING,
            access_log=False,
            lifespan="off",
            ssl_certfile=str(tls.cert_file) if tls else None,
            ssl_keyfile=str(tls.key_file) if tls else None,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=1,
            limit_concurrency=None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"{name}-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
