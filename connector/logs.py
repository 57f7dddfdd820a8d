"""Logging that never leaks secrets and redacts personal data.

Records pass through a filter that masks e-mail addresses, phone-like numbers, bearer tokens and
Salesforce session ids in the message and its arguments, so a stray ``log.info("%s", record)`` cannot
put a person's address or a token into an aggregator.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
import logging
import re
import sys
from typing import Any

__all__ = ["redact", "RedactingFilter", "configure_logging"]

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=!-]{8,}"), r"\1[secret]"),
    (re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{20,}"), "[secret]"),  # Salesforce session id
    (re.compile(r"\bpat-[a-z0-9]{2,4}-[A-Za-z0-9-]{8,}"), "[secret]"),  # HubSpot private app token
    (re.compile(r"(?i)((?:access_token|refresh_token|client_secret|password|session_id|security_token)"
                r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"), r"\1[secret]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),

]
#: phone-like: at least 9 digits with a leading + or separators (bare digit runs are ids and timestamps)
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{7,}\d(?![\w.])")


#: a date and time ("2026-12-07 07:06:23", "2026-12-07T07:06"): digits with separators, but no phone number
_DATE_TIME = re.compile(r"(19|20)\d\d-[01]\d-[0-3]\d([ T][0-2]\d(:[0-5]\d){0,2})?")


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    if _DATE_TIME.fullmatch(text.strip()):
        return text
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 9 and (text.startswith(("+", "(")) or any(ch in text for ch in " ().-")):
        return "[phone]"
    return text


def redact(text: str) -> str:
    """`text` with secrets and personal data masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _PHONE.sub(_phone, text)


class RedactingFilter(logging.Filter):
    """Masks every record's rendered message before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload)


class _CurrentStream(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler on whatever `sys.stderr` (or `sys.stdout`) is when a record is written, not the object it was
    when logging was configured: a thread logging after the stream was swapped (a test's capture, a
    redirect) writes to the current one instead of failing on a closed one."""

    def __init__(self, stream: Any) -> None:
        self._which = "stdout" if stream is sys.stdout else "stderr"
        super().__init__()

    @property
    def stream(self) -> Any:
        return getattr(sys, self._which)

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ and setStream assign it: ignored
        pass


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    """Send logs to `stream`: stderr unless told (stdout is reserved for command output and --json; the daemon,
    which prints no summary, logs to stdout as a container expects); "auto" is plain text on a terminal and
    JSON lines otherwise (a container's log collector)."""
    stream = sys.stderr if stream is None else stream
    handler: logging.Handler = _CurrentStream(stream) if stream in (sys.stderr, sys.stdout) else \
        logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    handler.setFormatter(_JsonFormatter() if fmt == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # libraries that narrate every request or migration step: only their warnings are worth an admin's time
    for noisy in ("httpx", "httpcore", "alembic", "uvicorn.error", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
