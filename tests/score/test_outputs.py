"""What the scorer writes: native values on every live record, only where they differ; lifecycle forward only."""

from __future__ import annotations

from typing import Any

from connector.score.decide import Prior, decide
from connector.score.model import ScoringModel
from connector.score.outputs import output_changes, outputs_of
from connector.score.signals import LinkedRecord, signals_of, to_ms
from connector.score.status import StatusState
from connector.score.timeline import Touch

from .conftest import DAY, NOW

MQL_AT = 1_779_000_000_123


def rec(system: str, object_type: str, data: dict[str, Any], role: str = "primary", rid: str = "1",
        deleted: bool = False) -> LinkedRecord:
    return LinkedRecord(system, object_type, rid, role, NOW - DAY, deleted, data)


def test_every_output_goes_to_both_systems_in_their_native_form(model: ScoringModel) -> None:
    outputs = outputs_of(55, "A", "MQL", MQL_AT, "Score 55 reached 50", "Senior title; 1 form submission")
    hs, lead = rec("hubspot", "contacts", {}), rec("salesforce", "Lead", {"Status": "Open"}, rid="00Q1")
    written = {(c.system, c.field): c.new for c in output_changes(model, "p1", outputs, [hs, lead])}
    assert written[("hubspot", "connector_score")] == "55" and written[("salesforce", "Connector_Score__c")] == 55
    assert written[("hubspot", "connector_mql_date")] == "2026-05-17T06:40:00.123Z"
    assert written[("salesforce", "Connector_MQL_Date__c")] == "2026-05-17T06:40:00.123+0000"
    assert written[("hubspot", "lifecyclestage")] == "marketingqualifiedlead"
    assert {written[("hubspot", "connector_grade")], written[("salesforce", "Connector_Grade__c")]} == {"A"}
    assert len(written) == 13  # six outputs in each system, and HubSpot's lifecycle stage


def test_values_the_records_hold_are_not_written_again(model: ScoringModel) -> None:
    outputs = outputs_of(55, None, "SAL", MQL_AT, None, "r")
    hs = rec("hubspot", "contacts", {"connector_score": "55", "connector_status": "SAL", "connector_score_reason": "r",
                                     "connector_mql_date": "2026-05-17T06:40:00.123Z",
                                     "lifecyclestage": "salesqualifiedlead"})
    sf = rec("salesforce", "Contact", {"Connector_Score__c": 55.0, "Connector_Status__c": "SAL",
                                       "Connector_Score_Reason__c": "r",
                                       "Connector_MQL_Date__c": "2026-05-17T06:40:00.123+0000"})
    assert output_changes(model, "p1", outputs, [hs, sf]) == []  # lifecycle is never moved back either


def test_only_live_records_are_written(model: ScoringModel) -> None:
    outputs = outputs_of(1, None, "Lead", None, None, "r")
    records = [rec("salesforce", "Lead", {"IsConverted": True}, rid="00Q1"),
               rec("salesforce", "Lead", {}, role="history", rid="00Q2"),
               rec("hubspot", "contacts", {}, deleted=True)]
    assert output_changes(model, "p1", outputs, records) == []


def test_signals_read_the_live_lead_or_else_hubspot(model: ScoringModel) -> None:
    lead = rec("salesforce", "Lead", {"Status": "Working - Contacted"}, rid="00Q1")
    hs = rec("hubspot", "contacts", {"hs_lead_status": "UNQUALIFIED"})
    assert signals_of(model, [lead, hs], []).lead_status == ("salesforce", "Working - Contacted", NOW - DAY)
    assert signals_of(model, [hs], []).lead_status == ("hubspot", "UNQUALIFIED", NOW - DAY)
    converted = rec("salesforce", "Lead", {"IsConverted": "true", "ConvertedDate": "2026-05-01"}, role="history")
    assert signals_of(model, [converted], []).converted_at == to_ms("2026-05-01T12:00:00Z")
    opps = [rec("salesforce", "Opportunity", {"IsClosed": False, "CreatedDate": "2026-04-01T00:00:00.000+0000"},
                role="opportunity", rid="006A"),
            rec("hubspot", "deals", {"dealstage": "closedlost", "closedate": "2026-03-01T00:00:00Z"},
                role="opportunity", rid="9")]
    got = signals_of(model, [], opps).opportunities
    assert got.open_since == to_ms("2026-04-01T00:00:00Z") and got.lost_at == to_ms("2026-03-01T00:00:00Z")
    assert got.source_id == "006A"


def test_decay_within_the_write_step_writes_nothing(model: ScoringModel) -> None:
    fields = {"job_title": "VP", "employees": 500, "industry": "Finance", "phone": "1"}
    touches = [Touch("form_submission", NOW - 2 * DAY, "hubspot", "f1")]
    first = decide(model, "p1", fields, [rec("hubspot", "contacts", {})], touches, [], None, NOW)
    assert first.published == 55 and first.state.status == "MQL" and first.state.mql_at == NOW - 2 * DAY
    held = {c.field: c.new for c in first.changes}
    prior = Prior(first.published, first.state, first.reason)
    later = decide(model, "p1", fields, [rec("hubspot", "contacts", held)], touches, [], prior, NOW + 20 * DAY)
    assert later.result.score == 51 and later.published == 55 and later.changes == ()
    assert first.next_check_at is not None and first.next_check_at > NOW + 20 * DAY
    much_later = decide(model, "p1", fields, [rec("hubspot", "contacts", held)], touches, [], prior, NOW + 55 * DAY)
    assert much_later.published == much_later.result.score == 48  # 45 + 10 x 2^-(57/30)
    assert [c.field for c in much_later.changes] == ["connector_score"]
    assert much_later.state.status == "MQL"  # the dip is written; the status stays


def test_a_recycle_and_a_re_mql_in_one_decision(model: ScoringModel) -> None:
    fields = {"job_title": "VP", "employees": 500, "industry": "Finance", "phone": "1"}
    prior = Prior(60, StatusState("MQL", NOW - 100 * DAY, mql_at=NOW - 100 * DAY, mql_count=1), "r")
    touches = [Touch("form_submission", NOW - 100 * DAY, "hubspot", "old"),
               Touch("form_submission", NOW - DAY, "hubspot", "new")]
    # idle for 60 days after the MQL (recycled at NOW - 40 days), then a new form: an MQL again, counted
    d = decide(model, "p1", fields, [], touches[:1], [], prior, NOW)
    assert d.state.status == "Recycled"
    d2 = decide(model, "p1", fields, [], touches, [], Prior(d.published, d.state, d.reason), NOW)
    assert d2.state.status == "MQL" and d2.state.mql_count == 2
