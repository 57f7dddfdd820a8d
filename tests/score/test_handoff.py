"""The handoff outputs: marketing's touches before the MQL, and the SLA clock in working hours."""

from __future__ import annotations

from datetime import UTC, datetime

from connector.score.decide import decide
from connector.score.handoff import handoff
from connector.score.model import ScoringModel
from connector.score.signals import LinkedRecord
from connector.score.status import StatusState
from connector.score.timeline import Touch

from .conftest import with_lines

SLA = """
[sla]
hours = 8
due_soon_hours = 2
time_zone = "America/New_York"
working_days = ["mon", "tue", "wed", "thu", "fri"]
working_hours = ["09:00-17:00"]
"""


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


MQL = ms("2026-12-07T15:00:00")  # Monday 10:00 in New York
TOUCHES = [Touch("page_view", ms("2026-11-20T10:00:00"), "hubspot", "v1", detail="https://x.example/pricing"),
           Touch("email_open", ms("2026-11-25T10:00:00"), "hubspot", "o1"),
           Touch("email_bounce", ms("2026-11-26T10:00:00"), "hubspot", "b1"),
           Touch("note", ms("2026-11-27T10:00:00"), "hubspot", "n1"),
           Touch("form_submission", MQL, "hubspot", "f1", detail="Demo request https://x.example/demo"),
           Touch("page_view", MQL + 60_000, "hubspot", "v2")]


def sla_model() -> ScoringModel:
    return with_lines(SLA)


def test_touches_before_the_mql_are_marketing_ones_since_the_last_recycle() -> None:
    state = StatusState("MQL", MQL, mql_at=MQL, mql_count=1)
    out, _ = handoff(with_lines(""), state, TOUCHES, {}, MQL + 1000)
    assert out == {"touches_before_mql": 3, "first_touch": "Page view 2026-11-20: https://x.example/pricing",
                   "last_touch": "Form submission 2026-12-07: Demo request https://x.example/demo"}
    recycled = StatusState("MQL", MQL, mql_at=MQL, mql_count=2, reset_at=ms("2026-11-24T00:00:00"))
    assert handoff(with_lines(""), recycled, TOUCHES, {}, MQL)[0]["touches_before_mql"] == 2
    assert handoff(with_lines(""), StatusState("Lead", 0), TOUCHES, {}, MQL) == ({}, None)


def test_the_clock_runs_in_working_hours_and_says_when_it_changes() -> None:
    state = StatusState("MQL", MQL, mql_at=MQL, mql_count=1)
    out, change = handoff(sla_model(), state, TOUCHES, {}, MQL + 3_600_000)
    due = ms("2026-12-08T15:00:00")  # 7 working hours on Monday (10:00-17:00), 1 on Tuesday: 10:00 New York
    assert (out["sla_state"], out["sla_due"]) == ("On time", due)
    assert change == ms("2026-12-07T21:00:00")  # due soon with 2 working hours left: Monday 16:00 New York
    out, change = handoff(sla_model(), state, TOUCHES, {}, ms("2026-12-08T14:00:00"))
    assert out["sla_state"] == "Due soon" and change == due + 1
    assert handoff(sla_model(), state, TOUCHES, {}, due + 60_000)[0]["sla_state"] == "Breached"
    call = Touch("call", ms("2026-12-07T21:00:00"), "salesforce", "00T1")
    assert handoff(sla_model(), state, [*TOUCHES, call], {}, due + 60_000)[0]["sla_state"] == "Met"


def test_decide_writes_the_clock_and_looks_again_when_it_turns() -> None:
    model = sla_model()
    fields = {"job_title": "VP", "employees": 500, "industry": "Finance", "phone": "1"}
    record = LinkedRecord("salesforce", "Lead", "00Q1", "primary", 0, False, {"Status": "Open - Not Contacted"})
    forms = [Touch("form_submission", MQL - 1000 * i, "hubspot", f"f{i}") for i in range(2)]
    d = decide(model, "p1", fields, [record], forms, [], None, MQL + 1000)
    written = {c.field: c.new for c in d.changes}
    assert d.state.status == "MQL" and written["Connector_SLA_State__c"] == "On time"
    assert written["Connector_SLA_Due__c"] == "2026-12-08T15:00:00.000+0000"
    assert written["Connector_Touches_Before_MQL__c"] == 2
    assert d.next_check_at == ms("2026-12-07T21:00:00")  # when the clock turns due soon
