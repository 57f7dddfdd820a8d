"""The revert planner (pure): a replaced value goes back only where the record still holds what the run wrote."""

from __future__ import annotations

from typing import Any

from connector.reconcile.revert import SAMPLE, JournalEntry, RecordNow, plan_revert, same_value
from connector.reconcile.writes import OPT_OUT


def entry(rid: str, field: str, old: Any, new: Any, *, person: str = "", system: str = "salesforce",
          object_type: str = "Lead", created: bool = False) -> JournalEntry:
    return JournalEntry(system, object_type, rid, person or f"p-{rid}", field, old, new, created)  # type: ignore[arg-type]


def now(*records: tuple[str, dict[str, Any]], system: str = "salesforce", object_type: str = "Lead",
        deleted: frozenset[str] = frozenset()) -> dict[tuple[str, str, str], RecordNow]:
    return {(system, object_type, rid): RecordNow(values, rid in deleted) for rid, values in records}


def test_puts_back_what_the_run_replaced_where_nobody_changed_it() -> None:
    plan = plan_revert(7, [entry("a", "LeadSource", "Web", "Other"), entry("b", "LeadSource", "Partner Referral",
                                                                           "Other")],
                       now(("a", {"LeadSource": "Other"}), ("b", {"LeadSource": "Phone Inquiry"})))
    assert [(c.record_id, c.field, c.old, c.new, c.reason, c.person_id) for c in plan.changes] == [
        ("a", "LeadSource", "Other", "Web", "revert of run 7", "p-a")]
    tally = plan.fields[("salesforce", "Lead", "LeadSource")]
    assert tally.restore == 1 and tally.skipped == {"changed_since": 1}
    assert tally.sample == {"restore": ["p-a"], "changed_since": ["p-b"]}
    assert plan.restore == 1 and plan.skipped("changed_since") == 1 and plan.people == ["p-a"]


def test_one_write_per_record_through_plan_writes() -> None:
    plan = plan_revert(3, [entry("a", "LeadSource", "Web", "Other"), entry("a", "Title", "CTO", "cto"),
                           entry("b", "Title", None, "VP")],
                       now(("a", {"LeadSource": "Other", "Title": "cto"}), ("b", {"Title": "VP"})))
    writes = plan.writes
    assert writes.creates == () and writes.held == ()
    assert [(w.record_id, w.values, w.old) for w in writes.updates] == [
        ("a", {"LeadSource": "Web", "Title": "CTO"}, {"LeadSource": "Other", "Title": "cto"}),
        ("b", {"Title": None}, {"Title": "VP"})]  # a value that was blank before is blanked again


def test_deleted_erased_created_and_kept_are_left_alone() -> None:
    entries = [entry("gone", "Title", "A", "B"), entry("erased", "Title", "A", "B"),
               entry("new", "Title", None, "B", created=True), entry("x", "HubSpot_Contact_Id__c", None, "42"),
               entry("h", OPT_OUT, None, "true", system="hubspot", object_type="contacts")]
    records = {**now(("gone", {"Title": "B"}), ("new", {"Title": "B"}), ("x", {"HubSpot_Contact_Id__c": "42"}),
                     deleted=frozenset({"gone"})),
               **now(("h", {OPT_OUT: "true"}), system="hubspot", object_type="contacts")}
    plan = plan_revert(1, entries, records, kept_fields={"HubSpot_Contact_Id__c", OPT_OUT})
    assert plan.changes == ()
    assert plan.skipped("gone") == 2 and plan.skipped("created") == 1 and plan.skipped("kept") == 2


def test_only_the_value_the_run_wrote_is_replaced() -> None:
    assert plan_revert(1, [entry("a", "Title", "CTO", "cto")], now(("a", {"Title": "cto"}))).restore == 1
    # someone else's value since: theirs
    assert plan_revert(1, [entry("a", "Title", "CTO", "cto")], now(("a", {"Title": "Boss"}))).skipped(
        "changed_since") == 1
    # back at the value from before (by hand, or reverted already): a change since too, and no write
    back = plan_revert(1, [entry("a", "Title", "CTO", "cto")], now(("a", {"Title": "CTO"})))
    assert back.changes == () and back.skipped("changed_since") == 1
    # a blank written over a blank (None before, "" written): nothing to put back
    blank = plan_revert(1, [entry("a", "Title", None, "")], now(("a", {"Title": ""})))
    assert blank.changes == () and blank.skipped("already") == 1


def test_blank_forms_compare_as_the_store_compares_snapshots() -> None:
    assert same_value(None, "") and same_value("", None) and same_value("x", "x")
    assert not same_value(0, None) and not same_value(False, "") and not same_value(" ", "")
    # HubSpot blanks with "", the snapshot may hold None: the run's blank still counts as unchanged
    plan = plan_revert(1, [entry("a", "jobtitle", "CTO", "", system="hubspot", object_type="contacts")],
                       now(("a", {"jobtitle": None}), system="hubspot", object_type="contacts"))
    assert [(c.old, c.new) for c in plan.changes] == [(None, "CTO")]
    # a field the snapshot does not hold at all reads as blank
    plan = plan_revert(1, [entry("a", "Title", "CTO", None)], now(("a", {})))
    assert plan.restore == 1


def test_a_field_written_twice_in_one_run_counts_once() -> None:
    entries = [entry("a", "Title", "CTO", "cto"), entry("a", "Title", "cto", "c.t.o.")]
    plan = plan_revert(1, entries, now(("a", {"Title": "c.t.o."})))
    assert [(c.old, c.new) for c in plan.changes] == [("c.t.o.", "CTO")]
    assert plan.fields[("salesforce", "Lead", "Title")].restore == 1
    assert plan_revert(1, entries, now(("a", {"Title": "cto"}))).skipped("changed_since") == 1


def test_fields_are_tallied_apart_and_the_sample_is_bounded() -> None:
    entries = [entry(f"r{i}", "Title", "A", "B", person=f"p{i % 15}") for i in range(40)]
    entries += [entry("h1", "jobtitle", "A", "B", system="hubspot", object_type="contacts")]
    records = {**now(*[(f"r{i}", {"Title": "B"}) for i in range(40)]),
               **now(("h1", {"jobtitle": "B"}), system="hubspot", object_type="contacts")}
    plan = plan_revert(1, entries, records)
    assert set(plan.fields) == {("salesforce", "Lead", "Title"), ("hubspot", "contacts", "jobtitle")}
    title = plan.fields[("salesforce", "Lead", "Title")]
    assert title.restore == 40 and len(title.sample["restore"]) == SAMPLE
    assert len(set(title.sample["restore"])) == SAMPLE  # each person once
    assert len(plan.people) == 16


def test_values_in_records_the_run_created_are_counted_not_planned() -> None:
    plan = plan_revert(1, [entry("a", "Title", "A", "B")], now(("a", {"Title": "B"})),
                       created={("salesforce", "Lead", "Title"): 3, ("salesforce", "Lead", "Email"): 2})
    assert plan.restore == 1 and plan.skipped("created") == 5
    assert plan.fields[("salesforce", "Lead", "Email")].restore == 0


def test_an_empty_journal_plans_nothing() -> None:
    plan = plan_revert(1, [], {})
    assert plan.changes == () and plan.fields == {} and plan.writes.updates == ()
