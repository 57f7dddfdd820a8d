"""Lexer: escapes, literals and the guarantee that simple-salesforce's format_soql round-trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce.format import format_soql

from connector.sandbox.salesforce.soql import And, Comparison, Literal, SoqlError, parse_soql
from connector.sandbox.salesforce.soql._lexer import tokenize

HOSTILE = [
    "o'brien@example.com",
    "a\\b@example.com",
    "\\'; DELETE FROM Lead --@x.com",
    "' OR Email != null OR Email = '",
    'quote"double@x.com',
    "trailing\\",
    "\\\\'",
    "new\nline\r\ttab\b\f",
    "100%_under@x.com",
    "unicode-é漢字🙂@x.com",
    "",
    "\\u0041 not an escape",
    "'",
    "''",
]


def _where_literal(query: str) -> Literal:
    where = parse_soql(query).where
    assert isinstance(where, Comparison)
    assert isinstance(where.value, Literal)
    return where.value


@pytest.mark.parametrize("value", HOSTILE)
def test_format_soql_value_parses_back_to_itself(value: str) -> None:
    lit = _where_literal(format_soql("SELECT Id FROM Lead WHERE Email = {}", value))
    assert lit.kind == "string"
    assert lit.value == value


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_string_escaped_by_format_soql_round_trips(value: str) -> None:
    lit = _where_literal(format_soql("SELECT Id FROM Lead WHERE Email = {}", value))
    assert lit.value == value


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=5))
def test_format_soql_lists_round_trip_in_IN(values: list[str]) -> None:
    where = parse_soql(format_soql("SELECT Id FROM Lead WHERE Email IN {}", values)).where
    assert isinstance(where, Comparison) and where.op == "IN"
    assert isinstance(where.value, tuple)
    assert [v.value for v in where.value] == values


def test_escape_sequences_decode() -> None:
    lit = _where_literal(r"SELECT Id FROM Lead WHERE Name = 'a\'b\"c\\d\ne\rf\tg\bh\fi\u0041\N'")
    assert lit.value == "a'b\"c\\d\ne\rf\tg\bh\fiA\n"


def test_like_escapes_stay_escaped_in_raw() -> None:
    lit = _where_literal(r"SELECT Id FROM Lead WHERE Name LIKE '50\%\_off\\%'")
    assert lit.like_escapes
    assert lit.raw == r"50\%\_off\\%"


def test_illegal_escape_is_malformed() -> None:
    with pytest.raises(SoqlError) as err:
        parse_soql(r"SELECT Id FROM Lead WHERE Name = 'a\qb'")
    assert err.value.error_code == "MALFORMED_QUERY"
    assert "Illegal character sequence '\\q'" in err.value.message


def test_unterminated_string() -> None:
    with pytest.raises(SoqlError) as err:
        parse_soql("SELECT Id FROM Lead WHERE Name = 'abc")
    assert err.value.error_code == "MALFORMED_QUERY"
    assert err.value.message.endswith("mismatched character '<EOF>' expecting '''")


def test_double_quoted_string_is_rejected() -> None:
    with pytest.raises(SoqlError) as err:
        parse_soql('SELECT Id FROM Lead WHERE Name = "abc"')
    assert err.value.message.endswith("line 1:33 no viable alternative at character '\"'")
    assert "ERROR at Row:1:Column:33" in err.value.message  # lexer errors: ANTLR's 0-based column


def test_lexer_error_at_eof_matches_salesforce_sample() -> None:
    # Salesforce answered this query with "...ERROR at Row:1:Column:75\nline 1:75 no viable alternative at
    # character '<EOF>'" and the caret under the last character (life-improver.com sample).
    text = "Select Id from Opportunity  where DAY_ONLY(CloseDate) < 2016-07-31T04:17:54"
    with pytest.raises(SoqlError) as err:
        tokenize(text)
    lines = err.value.message.split("\n")
    assert lines[3:] == ["ERROR at Row:1:Column:75", "line 1:75 no viable alternative at character '<EOF>'"]
    assert lines[2] == " " * 74 + "^"


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2024-01-01T00:00:00Z", 1704067200000),
        ("2024-01-01T00:00:00.000+0000", 1704067200000),
        ("2024-01-01T01:00:00+01:00", 1704067200000),
        ("2023-12-31T16:00:00-08:00", 1704067200000),
        ("2024-01-01T00:00:00.123Z", 1704067200123),
        ("2024-01-01T00:00:00+00:00", 1704067200000),  # format_soql's datetime form
    ],
)
def test_datetime_literals(text: str, ms: int) -> None:
    tok = tokenize(text)[0]
    assert (tok.kind, tok.value) == ("DATETIME", ms)


def test_date_and_number_literals() -> None:
    kinds = [(t.kind, t.text) for t in tokenize("2024-02-29 -1.5 42 .5")]
    assert kinds == [("DATE", "2024-02-29"), ("NUMBER", "-1.5"), ("NUMBER", "42"), ("NUMBER", ".5"), ("EOF", "<EOF>")]


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13-01"])
def test_invalid_dates(text: str) -> None:
    with pytest.raises(SoqlError, match="Invalid date"):
        tokenize(text)


def test_datetime_without_zone_is_rejected_like_salesforce() -> None:
    with pytest.raises(SoqlError) as err:
        parse_soql("SELECT Id FROM Lead WHERE CreatedDate > 2016-07-31T04:17:54")
    assert err.value.message.endswith("no viable alternative at character '<EOF>'")


def test_format_soql_datetime_and_bool_and_none() -> None:
    from datetime import UTC, datetime

    q = format_soql(
        "SELECT Id FROM Lead WHERE CreatedDate > {} AND IsDeleted = {} AND Email = {}",
        datetime(2024, 1, 1, tzinfo=UTC), False, None,
    )
    where = parse_soql(q).where
    assert isinstance(where, And)
    values = [c.value for c in where.items if isinstance(c, Comparison)]
    assert [(v.kind, v.value) for v in values if isinstance(v, Literal)] == [
        ("datetime", 1704067200000), ("boolean", False), ("null", None)]
