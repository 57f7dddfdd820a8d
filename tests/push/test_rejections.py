"""Parked reasons name the real rejection: each rejected field keeps the first code the system gave for
it, a field rejected on the resend is parked with its own code too, a create refused for a field it
cannot do without is parked whole with that field's reason, and hints quote at most ~80 characters of
a value (none of a personal one)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hubspot.crm.contacts import (
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from sqlmodel import Session, select

from connector.push.engine import Pusher
from connector.push.hints import QUOTE_LIMIT, hint_for, quote_value, scrub_message
from connector.push.rejections import MAX_RESENDS
from connector.reconcile.writes import RecordWrite, WritePlan
from connector.reconcile import load_mappings
from connector.store import open_engine
from connector.store.models import ParkedRecord, WrittenValue
from connector.store.pushes import parked_rows
from connector.systems.fakes import FakeSink
from connector.systems.ports import Item, Operation, WriteOutcome

from .conftest import MAPPINGS, World, make_world, sf_type
from .test_sync_e2e import hubspot_contacts, pairs, salesforce_people

CONTACTS = load_mappings(MAPPINGS).contacts


class FakeCollections(FakeSink):
    """Answers like Salesforce's sObject Collections: each record's first bad field, in the order sent (one
    field error at a time), else REQUIRED_FIELD_MISSING for a create without a required field."""

    def __init__(self, bad: dict[str, str], required: Sequence[str] = ("LastName", "Company")) -> None:
        super().__init__()
        self.bad = bad
        self.required = required
        self.calls: list[list[dict[str, Any]]] = []

    def write(self, object_type: str, operation: Operation, items: Sequence[Item], *, id_field: str | None
              ) -> dict[str, WriteOutcome]:
        self.calls.append([dict(i.values) for i in items])
        out: dict[str, WriteOutcome] = {}
        for n, item in enumerate(items):
            field = next((f for f in item.values if f in self.bad), None)
            missing = [f for f in self.required if operation == "upsert" and not item.values.get(f)]
            if field is not None:
                out[item.key] = WriteOutcome(False, code=self.bad[field], fields=(field,),
                                             message=f"{field}: data value too large: {str(item.values[field])[:100]}")
            elif missing:
                out[item.key] = WriteOutcome(False, code="REQUIRED_FIELD_MISSING", fields=tuple(missing),
                                             message=f"Required fields are missing: [{', '.join(missing)}]")
            else:
                out[item.key] = WriteOutcome(True, item.record_id or f"00Q{n:012d}", created=item.record_id is None)
        return out


def push(store_url: str, writer: FakeCollections, *writes: RecordWrite) -> tuple[Any, Any]:
    engine = open_engine(store_url)
    pusher = Pusher(engine, sinks={"salesforce": writer}, mapping=CONTACTS, now_ms=lambda: 1_000)
    creates = tuple(w for w in writes if w.record_id is None)
    updates = tuple(w for w in writes if w.record_id is not None)
    return engine, pusher.push(WritePlan(creates, updates, ()))


def parked(engine: Any) -> dict[str, ParkedRecord]:
    with Session(engine) as session:
        return {p.record_id: p for p in session.exec(select(ParkedRecord)).all()}


def test_each_field_rejected_on_a_resend_is_parked_with_its_own_first_code(store_url: str) -> None:
    writer = FakeCollections({"Title": "STRING_TOO_LONG", "City": "FIELD_CUSTOM_VALIDATION_EXCEPTION"})
    write = RecordWrite("salesforce", "Lead", "00Q000000000001", "p1",
                        {"Title": "T" * 10_000, "City": "Gothenburg" * 30, "Website": "example.org"})
    engine, result = push(store_url, writer, write)
    assert len(writer.calls) == 3  # the record, then without Title, then without City as well
    with Session(engine) as session:
        written = {w.field for w in session.exec(select(WrittenValue)).all()}
    assert written == {"Website"}  # the record's good change landed
    row = parked(engine)["00Q000000000001"]
    assert row.field == "Title,City" and row.code == "STRING_TOO_LONG"
    (shown,) = parked_rows(engine)
    assert [(r["fields"], r["code"]) for r in shown["rejections"]] == [
        (["Title"], "STRING_TOO_LONG"), (["City"], "FIELD_CUSTOM_VALIDATION_EXCEPTION")]
    assert result.rejections[0]["field_codes"] == {"Title": "STRING_TOO_LONG",
                                                   "City": "FIELD_CUSTOM_VALIDATION_EXCEPTION"}
    # no hint or message quotes more than ~80 characters of a value
    for text in (row.hint or "", row.message, *(r["hint"] for r in shown["rejections"])):
        assert "T" * (QUOTE_LIMIT + 1) not in text and len(text) < 1_200, text
    assert "10,000 characters" in (row.hint or "")


def test_a_create_whose_required_field_is_rejected_is_parked_whole_with_that_fields_reason(store_url: str) -> None:
    writer = FakeCollections({"LastName": "STRING_TOO_LONG", "Title": "STRING_TOO_LONG"})
    only_name = RecordWrite("salesforce", "Lead", None, "hs-1", {
        "HubSpot_Contact_Id__c": "1", "LastName": "Quillfeather" * 25, "Company": "Acme", "City": "Oslo"})
    name_and_title = RecordWrite("salesforce", "Lead", None, "hs-2", {
        "HubSpot_Contact_Id__c": "2", "Title": "T" * 10_000, "LastName": "Quillfeather" * 25, "Company": "Acme"})
    engine, result = push(store_url, writer, only_name, name_and_title)
    assert result.created == {} and result.rejected["salesforce:Lead"] == 2
    rows = parked(engine)
    one, two = rows["new:hs-1"], rows["new:hs-2"]
    assert (one.field, one.code) == ("LastName", "STRING_TOO_LONG")  # not REQUIRED_FIELD_MISSING after a resend
    assert (two.field, two.code) == ("LastName,Title", "STRING_TOO_LONG")  # both reasons, the vital one first
    assert [c for call in writer.calls for c in call if c.get("HubSpot_Contact_Id__c") == "1"] == [
        only_name.values]  # never sent again without its LastName
    # the last name is personal data: quoted nowhere, not even the prefix the system's message repeats
    for row in (one, two):
        assert "Quillfeather" not in (row.hint or "") + row.message, row.hint


def test_an_org_required_field_is_recognised_from_the_resend_and_keeps_its_first_reason(store_url: str) -> None:
    writer = FakeCollections({"Region__c": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"},
                             required=("LastName", "Company", "Region__c"))
    write = RecordWrite("salesforce", "Lead", None, "hs-3", {
        "HubSpot_Contact_Id__c": "3", "LastName": "Lee", "Company": "Acme", "Region__c": "Atlantis"})
    engine, _ = push(store_url, writer, write)
    assert len(writer.calls) == 2
    row = parked(engine)["new:hs-3"]
    assert (row.field, row.code) == ("Region__c", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    assert "REQUIRED_FIELD_MISSING" not in (row.hint or "")


def test_resends_are_bounded_and_a_record_still_refused_waits_whole(store_url: str) -> None:
    bad = {f"F{i}__c": "INVALID_TYPE_ON_FIELD_IN_RECORD" for i in range(6)}
    writer = FakeCollections(bad)
    write = RecordWrite("salesforce", "Lead", "00Q000000000009", "p9", {**{f: "x" for f in bad}, "City": "Oslo"})
    engine, _ = push(store_url, writer, write)
    assert len(writer.calls) == MAX_RESENDS + 1
    row = parked(engine)["00Q000000000009"]
    assert row.field is None and row.code == "INVALID_TYPE_ON_FIELD_IN_RECORD"  # held whole until retried
    assert len(parked_rows(engine)[0]["rejections"]) == MAX_RESENDS + 1


def test_hints_quote_at_most_80_characters_and_no_personal_value() -> None:
    assert quote_value("Nurture", personal=False) == "'Nurture'"
    long = quote_value("Head of " * 1_000, personal=False)
    assert long.endswith("…' (8,000 characters)") and len(long) < QUOTE_LIMIT + 30
    assert quote_value("jane@example.org", personal=True) == "(a value of 16 characters)"
    hint = hint_for(CONTACTS, "salesforce", "Lead", ("Email",), "INVALID_EMAIL_ADDRESS",
                    "Email: invalid email address: jane@@example.org", {"Email": "jane@@example.org"})
    assert "jane" not in hint and "(a value of 17 characters)" in hint
    hint = hint_for(CONTACTS, "salesforce", "Lead", ("Phone",), "STRING_TOO_LONG",
                    "Phone: data value too large: +1 415 555 0199 ext 12345678901234567890",
                    {"Phone": "+1 415 555 0199 ext 12345678901234567890"})
    assert "555" not in hint
    # a message that repeats a long value (or the start of it) keeps at most ~80 characters of it
    said = scrub_message("Title: data value too large: " + "x" * 100 + " (max length=128)", {"Title": "x" * 10_000},
                         lambda _name: False)
    assert "x" * (QUOTE_LIMIT + 1) not in said and said.endswith("(max length=128)")
    # a short personal value is masked as a word, not inside other words
    assert scrub_message("Lee: invalid; Leeds is fine", {"LastName": "Lee"}, lambda n: n == "LastName") == (
        "[value]: invalid; Leeds is fine")


# ------------------------------------------------------------------------------------------ the sandbox


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in make_world(tmp_path_factory.mktemp("rejections"), people=120, seed=5):
        world.sync()
        yield world


def marketing_lead(email: str, **properties: str) -> SimplePublicObjectInputForCreate:
    return SimplePublicObjectInputForCreate(properties={
        "email": email, "firstname": "Al", "company": "Acme", "lifecyclestage": "marketingqualifiedlead",
        "hs_legal_basis": "Legitimate interest – prospect/lead", **properties})


def test_the_sandbox_refusing_a_long_last_name_parks_the_lead_with_that_reason(synced: World) -> None:
    """Through the real flow: Salesforce answers STRING_TOO_LONG for a 300-character LastName (and for a
    10,000-character Title): the Lead is parked as such, not as REQUIRED_FIELD_MISSING or Title alone."""
    hs = synced.hubspot_sdk().crm.contacts.basic_api
    one = hs.create(marketing_lead("long.lastname@example.org", lastname="Quillfeather" * 25)).id
    two = hs.create(marketing_lead("long.both@example.org", lastname="Quillfeather" * 25, jobtitle="T" * 10_000)).id
    result = synced.sync()
    rows = parked(synced.engine)
    for contact in (one, two):
        row = rows[f"new:hs-{contact}"]
        assert row.code == "STRING_TOO_LONG" and (row.field or "").split(",")[0] == "LastName", (row.code, row.hint)
        assert "Quillfeather" not in (row.hint or "") + row.message and len(row.hint or "") < 600
    assert not any(r.get("Email") in ("long.lastname@example.org", "long.both@example.org")
                   for r in salesforce_people(synced).values())  # never created with a cut or missing name
    sample = {r["record"]: r for r in result["push"]["rejections_sample"]}
    assert sample[f"new:hs-{one}"]["code"] == "STRING_TOO_LONG"


def test_the_sandbox_refusing_two_fields_of_an_update_parks_both_and_writes_the_rest(synced: World) -> None:
    hs, sf = hubspot_contacts(synced), salesforce_people(synced)
    h, s = next((h, s) for h, s in pairs(synced) if h in hs and s in sf and s.startswith("00Q"))
    # HubSpot's values win; State and City have no truncate transform in the shipped mapping (Title has one)
    sf_type(synced.salesforce_sdk(), "Lead").update(s, {"State": None, "City": None, "Website": None})
    synced.hubspot_sdk().crm.contacts.basic_api.update(h, SimplePublicObjectInput(properties={
        "state": "Vastra Gotaland" * 20, "city": "Gothenburg" * 30, "website": "https://quillfeather.example.org"}))
    result = synced.sync()
    assert sf_type(synced.salesforce_sdk(), "Lead").get(s)["Website"] == "https://quillfeather.example.org"
    row = parked(synced.engine)[s]
    assert set((row.field or "").split(",")) == {"State", "City"} and row.code == "STRING_TOO_LONG"
    (entry,) = [r for r in result["push"]["rejections_sample"] if r["record"] == s]
    assert entry["field_codes"] == {"State": "STRING_TOO_LONG", "City": "STRING_TOO_LONG"}
    for text in (row.hint or "", row.message):
        assert "Gothenburg" * 9 not in text and len(text) < 1_200, len(text)


def test_a_rejected_company_write_is_parked_with_a_hint_naming_companies_toml(store_url: str) -> None:
    """Each object's rejections name the mapping file its fields come from: an Account's Industry refused by
    its picklist points at the industry value map in companies.toml, not at contacts.toml."""
    companies = load_mappings(MAPPINGS).companies
    assert companies is not None
    writer = FakeCollections({"Industry": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"})
    engine = open_engine(store_url)
    pusher = Pusher(engine, sinks={"salesforce": writer}, mapping=CONTACTS, now_ms=lambda: 1_000,
                    fields_file=companies, checked={})
    account = "001000000000001AAA"
    pusher.push(WritePlan((), (RecordWrite("salesforce", "Account", account, "acct-" + account,
                                           {"Industry": "Aerospace"}),), ()))
    hint = parked(engine)[account].hint or ""
    assert "companies.toml" in hint and "industry" in hint and "'Aerospace'" in hint  # a company's, not personal
