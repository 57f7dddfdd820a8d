"""Logs never carry secrets or personal data."""

from __future__ import annotations

import logging

import pytest

from connector.logs import RedactingFilter, redact


@pytest.mark.parametrize("text, leaked", [
    ("Authorization: Bearer pat-na1-1234abcd-ffff-eeee", "pat-na1-1234abcd"),
    ("session 00D5g000004Cpq1!AQ4AQFhJ1x7kp.bQdl3f0aIuL0Tq8XwH used", "AQ4AQFhJ1x7kp"),
    ("contact jane.doe+x@example.co.uk changed", "jane.doe"),
    ("phone +1 (415) 555-0100 updated", "555-0100"),
    ('{"client_secret": "abc123xyz"}', "abc123xyz"),
    ("refresh_token=zzzzTOKENzzzz&x=1", "zzzzTOKENzzzz"),
])
def test_redact_masks_secrets_and_personal_data(text: str, leaked: str) -> None:
    assert leaked not in redact(text)


def test_redact_keeps_ordinary_numbers_and_ids() -> None:
    assert redact("pulled 12345 records in 2.5 s, cursor 1700000000000, id 00Q5g00000ABCDEF") == \
        "pulled 12345 records in 2.5 s, cursor 1700000000000, id 00Q5g00000ABCDEF"


def test_redact_keeps_dates_and_times_but_not_phone_numbers_beside_them() -> None:
    text = "next run at: 2026-12-07 07:06:23 UTC (2026-12-07T07:06), call +1 415 555 0100 or (415) 555-0100"
    assert redact(text) == "next run at: 2026-12-07 07:06:23 UTC (2026-12-07T07:06), call [phone] or [phone]"


def test_filter_redacts_arguments_too() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "upserting %s", ("bob@example.com",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "upserting [email]"
