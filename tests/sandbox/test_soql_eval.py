"""Evaluation: matches/project/order_key semantics, a hypothesis cross-check, and speed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce.format import format_soql

from connector.sandbox.salesforce.ids import make_id
from connector.sandbox.salesforce.soql import BoundQuery, bind_query, parse_soql, sample_schema

NOW = 1704240000000  # 2024-01-03T00:00:00Z, a Wednesday
DAY = 86_400_000
SCHEMA = sample_schema()

USER: dict[str, Any] = {"Id": make_id("User", 1), "Email": "boss@x.com", "Name": "Boss",
                        "ManagerId": make_id("User", 2)}
MANAGER: dict[str, Any] = {"Id": make_id("User", 2), "Email": "ceo@x.com", "Name": "Ceo", "ManagerId": None}
ACCOUNT: dict[str, Any] = {"Id": make_id("Account", 1), "Name": "Acme", "OwnerId": USER["Id"], "Industry": "Tech"}
CONTACT: dict[str, Any] = {"Id": make_id("Contact", 1), "LastName": "Doe", "Name": "Jane Doe", "Email": "Jane@X.com",
           "AccountId": ACCOUNT["Id"], "CreatedDate": NOW - DAY, "Birthdate": "1990-05-01"}
LEAD: dict[str, Any] = {"Id": make_id("Lead", 1), "LastName": "Roe", "Name": "Rick Roe", "Email": "rick@y.com"}
DB = {(r["Id"][:3], r["Id"]): r for r in (USER, MANAGER, ACCOUNT, CONTACT, LEAD)}
CALLS: list[tuple[str, str]] = []


def resolve(sobject: str, record_id: str) -> Mapping[str, Any] | None:
    CALLS.append((sobject, record_id))
    rec = DB.get((record_id[:3], record_id))
    prefixes = {"User": "005", "Account": "001", "Contact": "003", "Lead": "00Q"}
    return rec if rec is not None and prefixes.get(sobject) == record_id[:3] else None


def bind(text: str) -> BoundQuery:
    return bind_query(parse_soql(text), SCHEMA, NOW)


def where(cond: str, record: Mapping[str, Any], sobject: str = "Lead") -> bool:
    return bind(f"SELECT Id FROM {sobject} WHERE {cond}").matches(record, resolve)


def test_no_where_matches_everything() -> None:
    assert bind("SELECT Id FROM Lead").matches({}, resolve)


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ("Email = 'RICK@Y.COM'", True),
        ("Email != 'rick@y.com'", False),
        ("Email IN ('a', 'Rick@Y.com')", True),
        ("Email NOT IN ('a', 'Rick@Y.com')", False),
        ("Email < 'S'", True),
        ("Email > 'rick@y.com'", False),
        ("Email >= 'RICK@Y.COM'", True),
        ("Email LIKE 'RICK%'", True),
        ("Email LIKE '%@Y.COM'", True),
        ("Email LIKE 'r_ck@y.com'", True),
        ("Email LIKE 'r_k%'", False),
        ("Email LIKE 'rick'", False),
        ("LastName LIKE 'R%' AND Email LIKE '%y%'", True),
    ],
)
def test_text_comparisons_ignore_case(cond: str, expected: bool) -> None:
    assert where(cond, LEAD) is expected


def test_like_escapes_match_literally() -> None:
    rec = {"Email": "100%_off\\x@y.com"}
    assert where(r"Email LIKE '100\%\_off\\x%'", rec)
    assert not where(r"Email LIKE '100\%\_off\\y%'", rec)
    assert not where(r"Email LIKE '100\%\_\_ff%'", rec)
    hostile = "a%b_c\\d'e\"f\ng"
    pattern = format_soql("Email LIKE '{:like}'", hostile)
    assert where(pattern, {"Email": hostile})
    assert not where(pattern, {"Email": "aXbYc\\d'e\"f\ng"})


@pytest.mark.parametrize(
    ("cond", "record", "expected"),
    [
        ("Email = null", {"Email": None}, True),
        ("Email = null", {}, True),
        ("Email = null", {"Email": ""}, True),  # blank text is stored as null in Salesforce
        ("Email = ''", {"Email": None}, True),
        ("Email != null", {"Email": "a"}, True),
        ("Email != 'a'", {"Email": None}, True),  # != includes nulls
        ("Email NOT IN ('a')", {"Email": None}, True),
        ("Email IN ('a', null)", {"Email": None}, True),
        ("Email LIKE '%'", {"Email": None}, False),
        ("Email < 'z'", {"Email": None}, False),
        ("NumberOfEmployees > 0", {"NumberOfEmployees": None}, False),
        ("NOT NumberOfEmployees > 0", {"NumberOfEmployees": None}, True),
        ("IsConverted = false", {"IsConverted": None}, True),  # boolean null matches FALSE
        ("IsConverted = null", {"IsConverted": False}, True),
        ("IsConverted != null", {"IsConverted": True}, True),
        ("IsConverted = true", {}, False),
    ],
)
def test_nulls(cond: str, record: dict[str, Any], expected: bool) -> None:
    assert where(cond, record) is expected


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ("NumberOfEmployees = 50", True),
        ("NumberOfEmployees = 50.0", True),
        ("NumberOfEmployees > 49.5", True),
        ("NumberOfEmployees <= -1", False),
        ("AnnualRevenue >= 1000000", True),
        ("AnnualRevenue IN (1, 1500000.5)", True),
        ("Connector_Score__c < 0", True),
    ],
)
def test_numbers(cond: str, expected: bool) -> None:
    assert where(cond, {"NumberOfEmployees": 50, "AnnualRevenue": 1500000.5, "Connector_Score__c": -3}) is expected


def test_ids_compare_exactly_after_normalisation() -> None:
    rec = {"Id": LEAD["Id"], "OwnerId": USER["Id"]}
    assert where(f"Id = '{LEAD['Id'][:15]}'", rec)
    assert where(f"Id = '{LEAD['Id']}'", rec)
    assert not where(f"Id = '{LEAD['Id'][:15].lower()}'", rec)
    assert where(f"OwnerId IN ('{USER['Id'][:15]}')", rec)
    assert where(f"Id > '{make_id('Lead', 0)}'", rec)  # keyset pagination on Id
    assert not where(f"Id > '{LEAD['Id']}'", rec)


def test_datetime_literals_with_offsets() -> None:
    rec = {"LastModifiedDate": 1704067200000}  # 2024-01-01T00:00:00Z
    assert where("LastModifiedDate = 2024-01-01T01:00:00+01:00", rec)
    assert where("LastModifiedDate >= 2024-01-01T00:00:00.000+0000", rec)
    assert not where("LastModifiedDate > 2024-01-01T00:00:00Z", rec)
    assert where("LastModifiedDate < 2024-01-01T00:00:00.001Z", rec)


def test_date_field_comparisons() -> None:
    rec = {"ConvertedDate": "2024-01-02"}
    assert where("ConvertedDate = 2024-01-02", rec)
    assert where("ConvertedDate > 2023-12-31", rec)
    assert where("ConvertedDate IN (2024-01-01, 2024-01-02)", rec)


# 2024-01-03 is a Wednesday; the week starts on Sunday 2023-12-31.
@pytest.mark.parametrize(
    ("literal", "inside", "before", "after"),
    [
        ("TODAY", "2024-01-03", "2024-01-02", "2024-01-04"),
        ("YESTERDAY", "2024-01-02", "2024-01-01", "2024-01-03"),
        ("TOMORROW", "2024-01-04", "2024-01-03", "2024-01-05"),
        ("THIS_WEEK", "2023-12-31", "2023-12-30", "2024-01-07"),
        ("LAST_WEEK", "2023-12-24", "2023-12-23", "2023-12-31"),
        ("THIS_MONTH", "2024-01-31", "2023-12-31", "2024-02-01"),
        ("LAST_MONTH", "2023-12-01", "2023-11-30", "2024-01-01"),
        ("THIS_YEAR", "2024-12-31", "2023-12-31", "2025-01-01"),
        ("LAST_N_DAYS:2", "2024-01-01", "2023-12-31", "2024-01-04"),
        ("LAST_N_DAYS:0", "2024-01-03", "2024-01-02", "2024-01-04"),
        ("NEXT_N_DAYS:2", "2024-01-05", "2024-01-03", "2024-01-06"),
        ("LAST_90_DAYS", "2023-10-05", "2023-10-04", "2024-01-04"),
        ("THIS_QUARTER", "2024-03-31", "2023-12-31", "2024-04-01"),
        ("LAST_N_MONTHS:2", "2023-11-01", "2023-10-31", "2024-01-01"),
    ],
)
def test_date_literal_ranges(literal: str, inside: str, before: str, after: str) -> None:
    for field, conv in (("ConvertedDate", lambda d: d), ("LastModifiedDate", _day_ms)):
        assert where(f"{field} = {literal}", {field: conv(inside)}), (field, literal, inside)
        assert not where(f"{field} = {literal}", {field: conv(before)}), (field, literal, before)
        assert not where(f"{field} = {literal}", {field: conv(after)}), (field, literal, after)
        assert where(f"{field} < {literal}", {field: conv(before)})
        assert where(f"{field} > {literal}", {field: conv(after)})
        assert where(f"{field} >= {literal}", {field: conv(inside)})
        assert where(f"{field} <= {literal}", {field: conv(inside)})
        assert where(f"{field} != {literal}", {field: conv(after)})


def _day_ms(day: str) -> int:
    from datetime import date

    return (date.fromisoformat(day) - date(1970, 1, 1)).days * DAY + 12 * 3_600_000  # midday


def test_last_day_boundaries_in_ms() -> None:
    start_today = NOW
    assert where("LastModifiedDate = TODAY", {"LastModifiedDate": start_today})
    assert where("LastModifiedDate = TODAY", {"LastModifiedDate": start_today + DAY - 1})
    assert not where("LastModifiedDate = TODAY", {"LastModifiedDate": start_today - 1})


def test_multipicklist_operators() -> None:
    rec = {"Interests__c": "Golf;Tennis;Chess"}
    assert where("Interests__c INCLUDES ('golf')", rec)
    assert where("Interests__c INCLUDES ('Golf;Chess', 'Opera')", rec)
    assert not where("Interests__c INCLUDES ('Golf;Opera')", rec)
    assert where("Interests__c EXCLUDES ('Opera')", rec)
    assert not where("Interests__c EXCLUDES ('tennis')", rec)
    assert where("Interests__c = 'chess;golf;tennis'", rec)
    assert not where("Interests__c = 'golf'", rec)
    assert where("Interests__c EXCLUDES ('a')", {})


def test_parent_fields_in_where() -> None:
    assert where("Account.Name = 'acme'", CONTACT, "Contact")
    assert where("Account.Owner.Email LIKE 'BOSS@%'", CONTACT, "Contact")
    assert where("Account.Owner.Manager.Email = 'ceo@x.com'", CONTACT, "Contact")
    assert where("Account.Owner.Manager.Manager.Email = null", CONTACT, "Contact")
    orphan = {**CONTACT, "AccountId": None}
    assert where("Account.Name = null", orphan, "Contact")  # missing parent: the field is null
    assert not where("Account.Name = 'Acme'", orphan, "Contact")


def test_polymorphic_who() -> None:
    task_c = {"Id": make_id("Task", 1), "WhoId": CONTACT["Id"]}
    task_l = {"Id": make_id("Task", 2), "WhoId": LEAD["Id"]}
    assert where("Who.Type = 'Contact'", task_c, "Task")
    assert where("Who.Type = 'Lead'", task_l, "Task")
    assert where("Who.Email = 'rick@y.com'", task_l, "Task")
    bq = bind("SELECT Who.Name, Who.Type FROM Task")
    assert bq.project(task_l, resolve) == {"Who": {
        "attributes": {"type": "Lead", "url": f"/services/data/v62.0/sobjects/Lead/{LEAD['Id']}"},
        "Name": "Rick Roe", "Type": "Lead"}}


def test_parents_resolved_once_per_record() -> None:
    bq = bind("SELECT Account.Name, Account.Owner.Email FROM Contact "
              "WHERE Account.Name = 'Acme' AND Account.Industry = 'Tech' AND Account.Owner.Email != null")
    CALLS.clear()
    assert bq.matches(CONTACT, resolve)
    assert CALLS == [("Account", ACCOUNT["Id"]), ("User", USER["Id"])]


def test_projection_shape_and_rendering() -> None:
    bq = bind_query(parse_soql(
        "SELECT Id, Account.Name, Email, Account.Owner.Email, CreatedDate, Birthdate, Account.Industry "
        "FROM Contact"), SCHEMA, NOW, api_version="v58.0")
    out = bq.project(CONTACT, resolve)
    assert list(out) == ["Id", "Account", "Email", "CreatedDate", "Birthdate"]
    assert out["Account"] == {
        "attributes": {"type": "Account", "url": f"/services/data/v58.0/sobjects/Account/{ACCOUNT['Id']}"},
        "Name": "Acme",
        "Owner": {"attributes": {"type": "User", "url": f"/services/data/v58.0/sobjects/User/{USER['Id']}"},
                  "Email": "boss@x.com"},
        "Industry": "Tech",
    }
    assert out["CreatedDate"] == "2024-01-02T00:00:00.000+0000"
    assert out["Birthdate"] == "1990-05-01"
    assert bq.project({**CONTACT, "AccountId": None}, resolve)["Account"] is None


def test_order_key_defaults_and_nulls() -> None:
    recs = [{"Id": str(i), "Email": e, "NumberOfEmployees": n}
            for i, (e, n) in enumerate([("b", 2), (None, 1), ("A", None), ("c", 2), ("", 3)])]
    asc = bind("SELECT Id FROM Lead ORDER BY Email")
    assert [r["Id"] for r in asc.sort(recs, resolve)] == ["1", "4", "2", "0", "3"]  # nulls (and '') first
    desc = bind("SELECT Id FROM Lead ORDER BY Email DESC")
    assert [r["Id"] for r in desc.sort(recs, resolve)] == ["3", "0", "2", "1", "4"]  # nulls last
    mixed = bind("SELECT Id FROM Lead ORDER BY NumberOfEmployees DESC NULLS FIRST, Email ASC NULLS LAST")
    assert [r["Id"] for r in mixed.sort(recs, resolve)] == ["2", "4", "0", "3", "1"]
    keys = sorted(recs, key=lambda r: (mixed.order_key(r, resolve), r["Id"]))
    assert [r["Id"] for r in keys] == ["2", "4", "0", "3", "1"]


# ---- hypothesis: matches() agrees with a straightforward reference implementation -----------------

TEXT_VALUES = [None, "", "alpha@x.com", "ALPHA@x.com", "beta@y.org", "o'hara@x.com", "50%_off@z.com", "a\\b@x.com"]
STATUS = [None, "Open - Not Contacted", "Working - Contacted", "Closed - Converted"]
TEXT_LITERALS = ["", "alpha@x.com", "Alpha@X.COM", "beta@y.org", "o'hara@x.com", "a\\b@x.com", "zzz"]
LIKE_PATTERNS = ["%", "a%", "%@x.com", "_lpha%", "%\\'%", "50\\%\\_off%", "%\\\\%", "B%"]
records_st = st.fixed_dictionaries({
    "Email": st.sampled_from(TEXT_VALUES),
    "Status": st.sampled_from(STATUS),
    "NumberOfEmployees": st.one_of(st.none(), st.integers(-3, 3)),
    "IsConverted": st.sampled_from([None, True, False]),
    "ConvertedDate": st.sampled_from([None, "2023-12-31", "2024-01-01", "2024-01-02"]),
    "LastModifiedDate": st.sampled_from([None, 1704067199999, 1704067200000, 1704067200001]),
})


def _leaf() -> st.SearchStrategy[tuple[str, Any]]:
    text = st.tuples(st.just("Email"), st.sampled_from(["=", "!=", "<", ">="]), st.sampled_from(TEXT_LITERALS + [None]))
    text_in = st.tuples(st.just("Email"), st.sampled_from(["IN", "NOT IN"]),
                        st.lists(st.sampled_from(TEXT_LITERALS + [None]), min_size=1, max_size=3))
    like = st.tuples(st.just("Email"), st.just("LIKE"), st.sampled_from(LIKE_PATTERNS))
    pick = st.tuples(st.just("Status"), st.sampled_from(["=", "!="]),
                     st.sampled_from(["open - not contacted", "Working - Contacted", None]))
    num = st.tuples(st.just("NumberOfEmployees"), st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
                    st.one_of(st.none(), st.integers(-3, 3)))
    boolean = st.tuples(st.just("IsConverted"), st.sampled_from(["=", "!="]), st.sampled_from([True, False, None]))
    day = st.tuples(st.just("ConvertedDate"), st.sampled_from(["=", "!=", "<", ">"]),
                    st.sampled_from(["2024-01-01", "2024-01-02"]))
    stamp = st.tuples(st.just("LastModifiedDate"), st.sampled_from(["=", "<", ">=", "!="]),
                      st.sampled_from([1704067200000]))
    return st.tuples(st.just("leaf"), st.one_of(text, text_in, like, pick, num, boolean, day, stamp))


conditions = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["AND", "OR"]), st.lists(inner, min_size=2, max_size=3)),
        st.tuples(st.just("NOT"), inner),
    ),
    max_leaves=6,
)


def _literal(field: str, value: Any) -> str:
    if value is None:
        return "null"
    if field == "ConvertedDate":
        return str(value)
    if field == "LastModifiedDate":
        return "2024-01-01T00:00:00Z"
    return format_soql("{}", value)


def render(cond: Any) -> str:
    kind, body = cond
    if kind == "leaf":
        field, op, value = body
        if op in ("IN", "NOT IN"):
            return f"{field} {op} ({', '.join(_literal(field, v) for v in value)})"
        if op == "LIKE":
            return f"{field} LIKE '{value}'"
        return f"{field} {op} {_literal(field, value)}"
    if kind == "NOT":
        return f"(NOT {render(body)})"
    return "(" + f" {kind} ".join(render(c) for c in body) + ")"


def _like_ref(value: str, pattern: str) -> bool:
    """Backtracking LIKE matcher over the pattern's SOQL source, independent of the code under test."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            tokens.append(("lit", pattern[i + 1]))
            i += 2
        else:
            tokens.append(({"%": "any", "_": "one"}.get(pattern[i], "lit"), pattern[i]))
            i += 1

    def go(t: int, v: int) -> bool:
        if t == len(tokens):
            return v == len(value)
        kind, ch = tokens[t]
        if kind == "any":
            return any(go(t + 1, k) for k in range(v, len(value) + 1))
        if v < len(value) and (kind == "one" or value[v].lower() == ch.lower()):
            return go(t + 1, v + 1)
        return False

    return go(0, 0)


def reference(cond: Any, rec: Mapping[str, Any]) -> bool:
    kind, body = cond
    if kind == "AND":
        return all(reference(c, rec) for c in body)
    if kind == "OR":
        return any(reference(c, rec) for c in body)
    if kind == "NOT":
        return not reference(body, rec)
    field, op, lit = body
    v = rec.get(field)
    if field in ("Email", "Status"):
        v = v.lower() if v else None
        lit = [x.lower() if x else None for x in lit] if isinstance(lit, list) else (
            lit.lower() if lit and op != "LIKE" else (None if lit == "" else lit))
    if field == "IsConverted":
        v = bool(v)
        lit = bool(lit)
    if op == "=":
        return bool(v == lit)
    if op == "!=":
        return bool(v != lit)
    if op == "IN":
        return v in lit
    if op == "NOT IN":
        return v not in lit
    if op == "LIKE":
        return v is not None and _like_ref(v, lit)
    if v is None or lit is None:
        return False
    return bool({"<": v < lit, "<=": v <= lit, ">": v > lit, ">=": v >= lit}[op])


@settings(max_examples=250, deadline=None)
@given(conditions, st.lists(records_st, min_size=1, max_size=8))
def test_matches_agrees_with_reference(cond: Any, recs: list[dict[str, Any]]) -> None:
    bq = bind(f"SELECT Id FROM Lead WHERE {render(cond)}")
    for rec in recs:
        assert bq.matches(rec, resolve) == reference(cond, rec), (render(cond), rec)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_like_with_escaped_value_is_equality_ignoring_case(value: str, other: str) -> None:
    bq = bind(format_soql("SELECT Id FROM Lead WHERE Email LIKE '{:like}'", value))
    assert bq.matches({"Email": value}, resolve) == (value != "")
    assert bq.matches({"Email": other}, resolve) == (other != "" and other.lower() == value.lower())


# ---- performance -----------------------------------------------------------------------------------

def test_matches_100k_records() -> None:
    statuses = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted"]
    recs = [{"Id": make_id("Lead", i), "Email": f"u{i}@x.com", "LastModifiedDate": 1704067200000 + i * 1000,
             "IsDeleted": i % 7 == 0, "Status": statuses[i % 3]} for i in range(100_000)]
    bq = bind("SELECT Id FROM Lead WHERE LastModifiedDate > 2024-01-01T01:00:00Z AND IsDeleted = false "
              "AND Status = 'working - contacted'")
    hits = sum(1 for r in recs if bq.matches(r, resolve))
    expected = sum(1 for i in range(100_000) if i * 1000 > 3_600_000 and i % 7 and i % 3 == 1)
    assert hits == expected  # (how fast, and parse-and-bind time: bench/bench_soql.py)


# ---- hypothesis: order_key agrees with a reference multi-key sort ----------------------------------

order_terms = st.lists(
    st.tuples(st.sampled_from(["Email", "NumberOfEmployees", "IsConverted", "LastModifiedDate"]),
              st.booleans(), st.sampled_from([None, True, False])),
    min_size=1, max_size=3, unique_by=lambda t: t[0],
)


def _reference_sort(recs: list[dict[str, Any]], terms: list[tuple[str, bool, bool | None]]) -> list[str]:
    ordered = list(recs)
    for field, desc, nulls_first in reversed(terms):  # stable sorts, least significant key first
        first = (not desc) if nulls_first is None else nulls_first

        def norm(rec: dict[str, Any], field: str = field) -> Any:
            v = rec.get(field)
            if field == "Email":
                return v.lower() if v else None
            if field == "IsConverted":
                return bool(v)
            return v

        present = [r for r in ordered if norm(r) is not None]
        missing = [r for r in ordered if norm(r) is None]
        present.sort(key=norm, reverse=desc)  # reverse=True keeps ties stable in Python
        ordered = missing + present if first else present + missing
    return [r["Id"] for r in ordered]


@settings(max_examples=150, deadline=None)
@given(order_terms, st.lists(records_st, min_size=1, max_size=10))
def test_order_key_agrees_with_reference_sort(terms: list[tuple[str, bool, bool | None]],
                                              recs: list[dict[str, Any]]) -> None:
    recs = [{**r, "Id": f"{i:03d}"} for i, r in enumerate(recs)]
    clause = ", ".join(
        f"{f} {'DESC' if d else 'ASC'}{'' if n is None else (' NULLS FIRST' if n else ' NULLS LAST')}"
        for f, d, n in terms)
    bq = bind(f"SELECT Id FROM Lead ORDER BY {clause}")
    got = [r["Id"] for r in bq.sort(recs, resolve)]
    assert got == _reference_sort(recs, terms), clause
