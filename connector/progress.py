"""What a long command is doing, shown on a terminal while it works; and consoles that never cut a table.

A sync of a few thousand people takes most of a minute. On a terminal (stderr is a TTY, and no --json)
the stage a run is in (the INFO line `connector.sync` logs as each stage starts and ends: records pulled
per stream, people reconciled, writes sent) stays on one spinner line with the time spent, and the log
lines print above it. On a pipe or with --json nothing extra is written.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console

from .logs import redact

__all__ = ["console", "progress"]

#: the loggers whose INFO lines tell the stage a run is in
STAGE_LOGGERS = ("connector.sync", "connector.push.lookup")


class _StageLine(logging.Handler):
    """Puts each stage line of the run on the spinner (personal data masked, as in every log line)."""

    def __init__(self, status: Any, started: float) -> None:
        super().__init__(logging.INFO)
        self.status = status
        self.started = started

    def emit(self, record: logging.LogRecord) -> None:
        if record.name in STAGE_LOGGERS and record.levelno == logging.INFO:
            message = redact(record.getMessage())
            self.status.update(f"{message}  [dim]({time.perf_counter() - self.started:.0f} s)[/dim]")


@contextmanager
def progress(enabled: bool, stream: IO[str] | None = None) -> Iterator[None]:
    """Show the running stage on `stream` (stderr) while the block runs, if `enabled` and it is a terminal."""
    stream = stream if stream is not None else sys.stderr
    if not enabled or not stream.isatty():
        yield
        return
    term = Console(file=stream, force_terminal=True)
    root = logging.getLogger()
    with term.status("starting...") as status:
        handler = _StageLine(status, time.perf_counter())
        # the log lines print above the spinner, through the console, instead of across it
        streams = [(h, h.stream) for h in root.handlers if isinstance(h, logging.StreamHandler)]
        for h, _ in streams:
            h.setStream(_ConsoleStream(term))
        logging.getLogger("connector").addHandler(handler)
        try:
            yield
        finally:
            logging.getLogger("connector").removeHandler(handler)
            for h, original in streams:
                h.setStream(original)


class _ConsoleStream:
    """A text stream that writes through a rich console (so it prints above a live display)."""

    def __init__(self, term: Console) -> None:
        self.term = term

    def write(self, text: str) -> int:
        if text.strip():
            self.term.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        pass


def console() -> Console:
    """A console for command output on stdout: the terminal's width on a terminal; on a pipe or a file, wide
    enough that no table is cut (rich would otherwise assume 80 columns and abbreviate cells)."""
    return Console() if sys.stdout.isatty() else Console(width=1_000, color_system=None)
