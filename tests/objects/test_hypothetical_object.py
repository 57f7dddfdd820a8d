"""A hypothetical object (tickets: HubSpot tickets <-> Salesforce Cases) needs one description, and the cycle's
own stages run it: reconcile, plan, push through the sinks, its after-push hook, its part of the run summary.

No sandbox: the sinks are fakes, the adapters refuse every request (the stages make no call of their own), and
the store is a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connector.config import HubSpotConfig, SalesforceConfig
from connector.objects.spec import ObjectRun, ObjectSpec, Reconciled
from connector.objects.streams import Stream
from connector.reconcile.deals import AssociationChange
from connector.reconcile.loader import load_mappings
from connector.reconcile.mapping import Mappings
from connector.reconcile.records import FieldChange, Issue, NewRecordId
from connector.store import open_engine
from connector.store.runs import RunHandle, finish_run, start_run
from connector.sync.cycle import CycleOptions, pulled_streams, run_objects
from connector.sync.results import RunResult
from connector.sync.systems import Systems
from connector.systems.fakes import FakeSink
from connector.systems.hubspot import HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.salesforce import SalesforceSource

from tests.push.conftest import MAPPINGS

CONTACTS = load_mappings(MAPPINGS).contacts
CASE_REF, TICKET_REF = "HubSpot_Ticket_Id__c", "salesforce_case_id"


def reconcile_tickets(run: ObjectRun) -> Reconciled:
    """Ticket 7 and Case 500A are linked and their subjects differ; ticket 8 has no Case yet."""
    return Reconciled(
        changes=(FieldChange("salesforce", "Case", "500A", "Subject", "Old", "Printer on fire", "most_recent", "t-7"),
                 FieldChange("salesforce", "Case", None, "Subject", None, "Login fails", "create", "t-8"),
                 FieldChange("salesforce", "Case", None, CASE_REF, None, "8", "create", "t-8"),
                 FieldChange("hubspot", "tickets", "8", TICKET_REF, None, NewRecordId("salesforce", "Case"),
                             "cross-reference", "t-8")),
        links=(AssociationChange("salesforce", None, "t-8", "003C", None, False, "ticket contact"),),
        issues=(Issue("hubspot", "9", "subject", None, "ticket without subject: not created"),),
        counts={"linked": 1})


def link_contacts(run: ObjectRun, reconciled: Reconciled, created: Mapping[tuple[str, str, str], str]
                  ) -> dict[str, Any]:
    """The hook sees the ids of the records just created (here: the new Case for ticket 8)."""
    return {"salesforce": sum(1 for a in reconciled.links
                              if isinstance(a, AssociationChange) and (a.deal_group, "salesforce", "Case") in created)}


TICKETS = ObjectSpec(
    name="tickets", group="tickets", mapping="contacts",
    streams=(Stream("hubspot", "tickets", ("subject", "hs_pipeline_stage", TICKET_REF)),
             Stream("salesforce", "Case", ("Subject", "Status", CASE_REF))),
    id_fields=lambda mappings: {("salesforce", "Case"): (CASE_REF,), ("hubspot", "tickets"): (TICKET_REF,)},
    reconcile=reconcile_tickets, after_push=link_contacts)


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no API call expected: {request.method} {request.url.path}")


OpenRun = Callable[..., ObjectRun]


@pytest.fixture
def open_run(store_url: str) -> Iterator[OpenRun]:
    """Opens a recorded run of the store, as `run_once` does (its record ends with the test)."""
    engine = open_engine(store_url)
    opened: list[RunHandle] = []

    def open_(*, dry_run: bool, sinks: Mapping[str, FakeSink]) -> ObjectRun:
        ledger, transport = CallLedger(), httpx.MockTransport(_refuse)
        systems = Systems(HubSpotSource(HubSpotConfig(access_token=SecretStr("t")), ledger, transport=transport),
                          SalesforceSource(SalesforceConfig(auth="session", session_id=SecretStr("s")), ledger,
                                           transport=transport), ledger)
        options = CycleOptions(CONTACTS, objects=["tickets"], dry_run=dry_run, clock=lambda: 1_000)
        started = start_run(engine, "sync", options.clock())
        opened.append(started)
        run_id = started.id
        return ObjectRun(engine, systems, sinks, Mappings(CONTACTS), options, RunResult(run_id=run_id, dry_run=dry_run),
                         run_id, options.clock, 10_000, "salt")

    yield open_
    for started in opened:
        finish_run(engine, started, now_ms=2_000, status="ok", api_calls={}, counts={})


def test_a_new_object_runs_through_the_same_stages_from_its_description_alone(open_run: OpenRun) -> None:
    hubspot, salesforce = FakeSink("hubspot", batch_size=100), FakeSink("salesforce", batch_size=200)
    run = open_run(dry_run=False, sinks={"hubspot": hubspot, "salesforce": salesforce})
    run_objects((TICKETS,), run)
    # the create is an upsert on its cross-reference id; the update waits for the new Case's id
    assert [(obj, op, [(i.record_id, i.values) for i in items]) for obj, op, items in salesforce.writes] == [
        ("Case", "upsert", [(None, {"Subject": "Login fails", CASE_REF: "8"})]),
        ("Case", "update", [("500A", {"Subject": "Printer on fire"})])]
    assert [(obj, op, [(i.record_id, i.values) for i in items]) for obj, op, items in hubspot.writes] == [
        ("tickets", "update", [("8", {TICKET_REF: "new-1"})])]
    part = run.result.to_json()["tickets"]
    assert list(part) == ["linked", "planned", "links_to_add", "link_batches", "issues", "issue_kinds", "push",
                          "links_added", "write_calls"]
    assert part["planned"] == {"hubspot:tickets": {"create": 0, "update": 1, "fields": 1},
                               "salesforce:Case": {"create": 1, "update": 1, "fields": 3}}
    assert part["links_to_add"] == {"salesforce": 1} and part["links_added"] == {"salesforce": 1}
    assert part["issues"] == 1 and part["issue_kinds"] == {"ticket without subject": 1}
    assert part["push"]["written"]["salesforce"]["Case"]["created"] == 1 and part["push"]["rejected"] == 0
    assert part["write_calls"] == {"hubspot": 0, "salesforce": 0}  # the fakes make no call
    run.result.completed = True  # as run_once marks it once every object ran
    assert run.result.status == "ok" and run.result.stage_counts()["tickets"] == part


def test_a_dry_run_plans_the_new_object_and_writes_nothing(open_run: OpenRun) -> None:
    hubspot, salesforce = FakeSink("hubspot"), FakeSink("salesforce")
    run = open_run(dry_run=True, sinks={"hubspot": hubspot, "salesforce": salesforce})
    run_objects((TICKETS,), run)
    assert hubspot.writes == [] and salesforce.writes == []
    part = run.result.to_json()["tickets"]
    assert list(part) == ["linked", "planned", "links_to_add", "link_batches", "issues", "issue_kinds"]


@pytest.mark.parametrize("groups, runs", [(["tickets"], True), (["people", "opportunities"], False)])
def test_the_object_runs_and_is_pulled_when_its_group_is_configured(groups: list[str], runs: bool) -> None:
    assert TICKETS.runs(Mappings(CONTACTS), groups) is runs
    streams = pulled_streams((TICKETS,), groups, CONTACTS)
    assert [s.name for s in streams] == (["hubspot:tickets", "salesforce:Case"] if runs else [])
