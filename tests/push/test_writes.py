"""Write planning without I/O: one write per record, placeholders, parking holds, hashes and hints."""

from __future__ import annotations

from connector.push.hints import hint_for
from connector.reconcile.writes import group_writes, hold_parked, plan_writes, resolve_new_ids
from connector.store.pushes import value_hash
from connector.reconcile import FieldChange, NewRecordId, load_mappings
from connector.store.staging import CREATED_MARK, same_content

from .conftest import MAPPINGS

NEW_LEAD = NewRecordId("salesforce", "Lead")


def change(system: str, obj: str, rid: str | None, field: str, new: object, person: str = "p1") -> FieldChange:
    return FieldChange(system, obj, rid, field, None, new, f"why {field}", person)  # type: ignore[arg-type]


def test_changes_to_one_record_become_one_write_in_a_stable_order() -> None:
    chs = [change("salesforce", "Lead", "00Q2", "Phone", "+1"), change("hubspot", "contacts", "7", "city", "Oslo"),
           change("salesforce", "Lead", "00Q2", "City", "Oslo"), change("salesforce", "Lead", None, "LastName", "X")]
    writes = group_writes(chs)
    assert [(w.system, w.record_id) for w in writes] == [("hubspot", "7"), ("salesforce", "00Q2"), ("salesforce", None)]
    assert writes[1].values == {"Phone": "+1", "City": "Oslo"} and writes[1].reasons["City"] == "why City"
    assert group_writes(reversed(chs)) == writes
    plan = plan_writes(chs)
    assert len(plan.creates) == 1 and len(plan.updates) == 2
    assert plan.counts()["salesforce:Lead"] == {"create": 1, "update": 1, "fields": 3}


def test_placeholders_take_the_new_id_or_drop_out() -> None:
    (write,) = group_writes([change("hubspot", "contacts", "7", "salesforce_lead_id", NEW_LEAD),
                             change("hubspot", "contacts", "7", "city", "Oslo")])
    assert write.waits_for_ids
    done = resolve_new_ids(write, {("p1", "salesforce", "Lead"): "00QNEW"})
    assert done is not None and done.values == {"salesforce_lead_id": "00QNEW", "city": "Oslo"}
    failed = resolve_new_ids(write, {})
    assert failed is not None and failed.values == {"city": "Oslo"}  # never a placeholder written as a value
    (alone,) = group_writes([change("hubspot", "contacts", "7", "salesforce_lead_id", NEW_LEAD)])
    assert resolve_new_ids(alone, {}) is None


def test_parked_fields_are_held_back_until_due_the_rest_goes() -> None:
    (write,) = group_writes([change("salesforce", "Lead", "00Q2", "Title", "x" * 200),
                             change("salesforce", "Lead", "00Q2", "City", "Oslo")])
    kept = hold_parked(write, {("salesforce", "Lead", "00Q2"): frozenset({"Title"})})
    assert kept is not None and kept.values == {"City": "Oslo"}
    assert hold_parked(write, {("salesforce", "Lead", "00Q2"): frozenset()}) is None  # whole record parked
    (create,) = group_writes([change("salesforce", "Lead", None, "LastName", "X")])
    assert hold_parked(create, {("salesforce", "Lead", "new:p1"): frozenset({"Title"})}) is None
    plan = plan_writes([change("salesforce", "Lead", "00Q2", "Title", "t")],
                       {("salesforce", "Lead", "00Q2"): frozenset({"Title"})})
    assert plan.updates == () and len(plan.held) == 1


def test_value_hashes_are_stable_and_typed() -> None:
    assert value_hash("1") == value_hash("1") and value_hash("1") != value_hash(1)
    assert value_hash({"a": 1, "b": 2}) == value_hash({"b": 2, "a": 1}) and len(value_hash(None)) == 32


def test_hints_name_the_field_the_value_and_the_mapping_to_fix() -> None:
    mapping = load_mappings(MAPPINGS).contacts
    hint = hint_for(mapping, "salesforce", "Lead", ("Status",), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    "bad value for restricted picklist field: Nurture", {"Status": "Nurture"})
    assert hint.startswith("Salesforce rejected Lead.Status 'Nurture': not an allowed value; add it to the value map "
                           "for lead_status in ")
    assert "contacts.toml" in hint
    hint = hint_for(mapping, "hubspot", "contacts", ("salesforce_lead_id",), "PROPERTY_DOESNT_EXIST", "no such",
                    {"salesforce_lead_id": "00Q1"})
    assert "run `connector setup`" in hint
    hint = hint_for(mapping, "salesforce", "Lead", (), "UNKNOWN_THING", "odd", {})
    assert hint.startswith("Salesforce rejected Lead: ") and "connector retry" in hint


def test_same_content_ignores_volatile_fields_and_a_creates_system_defaults() -> None:
    old = {"Email": "a@b.c", "Phone": None, "SystemModstamp": "1"}
    assert same_content({"Email": "a@b.c", "Phone": "", "SystemModstamp": "2", "LastModifiedDate": "2"}, old)
    assert not same_content({"Email": "x@b.c", "Phone": None}, old)
    assert not same_content({"Email": "a@b.c", "Status": "Open"}, old)  # a new non-blank field is a change
    assert same_content({"Email": "a@b.c", "Status": "Open"}, {**old, CREATED_MARK: True})  # ... except defaults


# ------------------------------------------------------------------------- never blind: what is stale


def test_same_value_takes_each_systems_form_of_one_value() -> None:
    from connector.reconcile.writes import same_value

    assert same_value(None, "") and same_value(True, "true") and same_value("TRUE", True) and same_value(12, "12.0")
    assert same_value(12.5, 12.5) and same_value("Oslo", "Oslo")
    assert same_value("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000+0000")
    assert not same_value("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z") and not same_value("2026-01-01", "2026-01-02")
    # HubSpot takes a date as epoch ms (what a patched snapshot holds) and answers ISO-8601: one instant
    assert same_value("1800316800000", "2027-01-19T00:00:00.000Z") and same_value(1800316800000, "2027-01-19")
    assert not same_value("1800316800000", "2027-01-20T00:00:00.000Z")
    assert not same_value(12, "2027-01-19") and same_value(12, "12")  # small numbers are numbers, not instants
    assert not same_value("Oslo", "oslo") and not same_value(None, "x") and not same_value(12, "twelve")
    assert not same_value(False, "true") and not same_value(0, "")


def test_a_field_edited_since_the_read_is_left_out_and_the_rest_goes() -> None:
    from connector.reconcile.writes import RecordWrite, without_stale

    write = RecordWrite("salesforce", "Lead", "00Q1", "p1", {"Email": "old@x.io", "Title": "CTO", "Score__c": 40},
                        old={"Email": "first@x.io", "Title": None, "Score__c": 10})
    checked = {"Email", "Title"}
    # the Lead still holds what the plan was made from: the write goes whole
    assert without_stale(write, {"Email": "first@x.io", "Title": ""}, checked) == (write, ())
    # someone changed the e-mail since: it is left for the next run, the title goes
    kept, stale = without_stale(write, {"Email": "newer@x.io", "Title": None}, checked)
    assert stale == ("Email",) and kept is not None and kept.values == {"Title": "CTO", "Score__c": 40}
    # someone already set the planned value: nothing to defer (writing it again changes nothing)
    assert without_stale(write, {"Email": "old@x.io", "Title": None}, checked) == (write, ())
    # the connector's own field (not checked) is never deferred, whatever it holds
    assert without_stale(write, {"Email": "first@x.io", "Title": None, "Score__c": 99}, checked) == (write, ())
    # a record gone since the read is left whole
    assert without_stale(write, None, checked) == (None, ("Email", "Title", "Score__c"))
    # every field stale: nothing left to write
    only = RecordWrite("hubspot", "contacts", "7", "p1", {"city": "Oslo"}, old={"city": "Bergen"})
    assert without_stale(only, {"city": "Paris"}, {"city"}) == (None, ("city",))


def test_the_checked_fields_are_the_mapped_ones_per_object() -> None:
    from connector.reconcile.writes import edited_fields

    mappings = load_mappings(MAPPINGS)
    checked = edited_fields(mappings.contacts.fields, "contacts")
    assert {"email", "jobtitle"} <= checked[("hubspot", "contacts")]
    assert {"Email", "Title"} <= checked[("salesforce", "Lead")] and "Email" in checked[("salesforce", "Contact")]
    ident = mappings.contacts.identity
    assert ident.hubspot_lead_id_property not in checked[("hubspot", "contacts")]
    assert ident.salesforce_hubspot_id_field not in checked[("salesforce", "Lead")]
