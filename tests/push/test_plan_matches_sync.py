"""`connector plan` is the exact set of writes the next sync makes, field by field.

Each scene runs `connector plan --json` then the command it predicts (`sync --once` after `plan --pull`,
`push` after `plan`), through the CLI with the shipped defaults (safety lag 60 s, lookback 120 s), on
SQLite and PostgreSQL, on several seeded worlds with edits on both sides between runs (some right before
the run, inside the safety lag). What the sandbox holds is read back through the official SDKs before
and after the run, and compared with every planned value (`plan.diffs`):

- every planned update is in the system afterwards, and every field that changed was planned;
- every planned create exists afterwards with the planned values, and nothing else was created;
- the plan's counts are the sync's counts (records created and updated, values written).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import hubspot
import pytest
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    SimplePublicObjectInputForCreate,
)
from simple_salesforce import Salesforce
from sqlmodel import Session, col, select

from connector.cli import main
from connector.reconcile import Mappings, load_mappings
from connector.config import load_config
from connector.reconcile.schema import SCORE_OUTPUTS
from connector.store import open_engine
from connector.store.models import Link
from connector.store.timeline import people_touched_since
from connector.sandbox.runner import Sandbox

from .conftest import hubspot_contacts, hubspot_sdk, salesforce_sdk, sf_type

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

Key = tuple[str, str, str]  # system, object type, record id


@dataclass
class Scene:
    sandbox: Sandbox
    config: Path
    mappings: Mappings

    def run(self, *args: str) -> dict[str, Any]:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main([*args, "--json", "--config", str(self.config)])
        payload = json.loads(out.getvalue())
        assert code == 0, payload
        return payload

    # ---------------------------------------------------------------- reading both systems back

    def hubspot_fields(self) -> list[str]:
        ident = self.mappings.contacts.identity
        names = {f.hubspot for f in self.mappings.contacts.fields if f.hubspot}
        scorer = {hs for hs, _ in SCORE_OUTPUTS.values()} if self.mappings.scoring else set()
        return sorted(names | scorer | {ident.hubspot_lead_id_property, ident.hubspot_contact_id_property})

    def salesforce_fields(self, sobject: str) -> list[str]:
        names = {f.salesforce.get(sobject) for f in self.mappings.contacts.fields}
        names |= {sf for _, sf in SCORE_OUTPUTS.values()} if self.mappings.scoring else set()
        return sorted({n for n in names if n} | {self.mappings.contacts.identity.salesforce_hubspot_id_field})

    def snapshot(self) -> dict[Key, dict[str, Any]]:
        wanted = self.hubspot_fields()
        out: dict[Key, dict[str, Any]] = {
            ("hubspot", "contacts", id_): {k: v for k, v in props.items() if k in wanted}
            for id_, props in hubspot_contacts(self.sandbox, wanted).items()}
        sf = self.salesforce_sdk()
        for sobject in ("Lead", "Contact"):
            fields = self.salesforce_fields(sobject)
            for row in sf.query_all(f"SELECT Id, {', '.join(fields)} FROM {sobject}")["records"]:
                out[("salesforce", sobject, row["Id"])] = {f: row.get(f) for f in fields}
        return out

    def salesforce_sdk(self) -> Salesforce:
        return salesforce_sdk(self.sandbox)

    def hubspot_sdk(self) -> hubspot.Client:
        return hubspot_sdk(self.sandbox)


def canon(value: Any) -> str | None:
    """One spelling per value, whatever the system returns it as ("5000" and 5000, "true" and True)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return text if not number.is_finite() else format(number.normalize(), "f")


def changes(before: dict[Key, dict[str, Any]], after: dict[Key, dict[str, Any]]
            ) -> tuple[dict[tuple[str, str, str, str], str | None], dict[Key, dict[str, str | None]]]:
    """(field values that changed on records that existed before, the records that are new)."""
    updated: dict[tuple[str, str, str, str], str | None] = {}
    for key, fields in after.items():
        if key not in before:
            continue
        for name, value in fields.items():
            if canon(value) != canon(before[key].get(name)):
                updated[(*key, name)] = canon(value)
    created = {key: {n: canon(v) for n, v in fields.items()} for key, fields in after.items() if key not in before}
    return updated, created


#: what the scorer writes: it follows the touches its pull brings in
SCORER_FIELDS = {name for pair in SCORE_OUTPUTS.values() for name in pair} | {"lifecyclestage"}


def touched_after(scene: Scene, since_ms: int) -> set[Key]:
    """The person records of everyone whose touches the store received after `since_ms`: the sandbox keeps
    generating marketing events, so a sync's pull may bring a person a touch the plan's pull did not see, and
    the scorer rightly publishes it. Their scorer outputs are left out of the comparison (nothing else is)."""
    engine = open_engine(load_config(scene.config).store.url)
    try:
        people = people_touched_since(engine, since_ms)
        with Session(engine) as session:
            links = session.exec(select(Link).where(col(Link.person_id).in_(people))).all() if people else []
        return {(link.system, link.object_type, link.record_id) for link in links}
    finally:
        engine.dispose()


def compare(plan: dict[str, Any], before: dict[Key, dict[str, Any]], after: dict[Key, dict[str, Any]],
            done: dict[str, Any], scene: Scene, new_touches: set[Key] | None = None) -> list[str]:
    """Every difference between what `plan` said and what the run did (empty: they agree), but for the scorer's
    outputs on the records of people with touches the plan could not see (`new_touches`)."""
    problems: list[str] = []
    updated, created = changes(before, after)
    exempt = new_touches or set()
    updated = {k: v for k, v in updated.items() if not (k[:3] in exempt and k[3] in SCORER_FIELDS)}
    planned_updates: dict[tuple[str, str, str, str], Any] = {}
    planned_creates: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(dict)
    for d in plan["plan"]["diffs"]:
        if d["record"].startswith("new:"):
            planned_creates[(d["system"], d["object_type"], d["record"])][d["field"]] = d["new"]
        elif not ((d["system"], d["object_type"], d["record"]) in exempt and d["field"] in SCORER_FIELDS):
            planned_updates[(d["system"], d["object_type"], d["record"], d["field"])] = d["new"]
    new_ids = {key[2]: key for key in created}
    for key, new in planned_updates.items():
        got = updated.get(key, canon(after.get(key[:3], {}).get(key[3])))
        if isinstance(new, str) and new.startswith("NewRecordId("):  # the id of the record created for the person
            if got not in new_ids and not (got and any(got.startswith(i[:15]) for i in new_ids)):
                problems.append(f"planned cross-reference {key} -> a new record; it holds {got!r}")
        elif got != canon(new):
            problems.append(f"planned {key} = {new!r}; the system holds {got!r}")
    for key, value in updated.items():
        if key not in planned_updates:
            problems.append(f"unplanned write {key}: {canon(before[key[:3]].get(key[3]))!r} -> {value!r}")
    by_object = Counter((k[0], k[1]) for k in created)
    planned_by_object = Counter((k[0], k[1]) for k in planned_creates)
    if by_object != planned_by_object:
        problems.append(f"created {dict(by_object)}, planned {dict(planned_by_object)}")
    xref = {"salesforce": scene.mappings.contacts.identity.salesforce_hubspot_id_field}
    for pkey, values in planned_creates.items():
        system, obj, _ = pkey
        ref = xref.get(system) or next(k for k in values if k.startswith("salesforce_"))
        match = [k for k, f in created.items() if k[:2] == (system, obj) and f.get(ref) == canon(values.get(ref))]
        if len(match) != 1:
            problems.append(f"planned create {pkey} ({ref}={values.get(ref)!r}): {len(match)} records made")
            continue
        for name, value in values.items():
            if canon(value) != created[match[0]].get(name):
                problems.append(f"planned create {pkey}: {name} = {value!r}; made with {created[match[0]].get(name)!r}")
    pushed = done["push"]["written"]
    for key, n in plan["plan"]["objects"].items():
        system, obj = key.split(":", 1)
        w = pushed.get(system, {}).get(obj, {"created": 0, "updated": 0, "fields_written": 0, "rejected": 0})
        written = (w["created"], w["updated"] + w["rejected"], w["fields_written"])
        if any(k[:2] == (system, obj) for k in exempt):  # the scorer wrote to more of them: checked field by field
            continue
        if (n["create"], n["update"], n["fields"]) != written and not w["rejected"]:
            problems.append(f"{key}: planned {n}, written {w}")
    for system, objects in pushed.items():
        for obj, w in objects.items():
            if f"{system}:{obj}" not in plan["plan"]["objects"] and (w["created"] or w["updated"]) \
                    and not any(k[:2] == (system, obj) for k in exempt):
                problems.append(f"{system}:{obj}: nothing planned, written {w}")
    return problems


def check(scene: Scene, *, pull: bool) -> dict[str, Any]:
    started_at = int(time.time() * 1000)
    plan = scene.run("plan", *(["--pull"] if pull else []))
    planned_at = int(time.time() * 1000)
    before = scene.snapshot()
    done = scene.run(*(["sync", "--once"] if pull else ["push"]))
    after = scene.snapshot()
    new_touches = touched_after(scene, planned_at)
    problems = compare(plan, before, after, done, scene, new_touches)
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} differences)"
    return {**done, "new_touches": sorted(new_touches), "plan": plan, "touched": touched_after(scene, started_at)}


@pytest.fixture(params=[7, 23])
def scene(request: pytest.FixtureRequest, store_url: str, tmp_path: Path) -> Iterator[Scene]:
    with Sandbox(people=250, seed=request.param, rate_limits=False) as sb:
        config = tmp_path / "connector.toml"
        config.write_text(sb.connector_config(store_url) + f'\n[mappings]\ndirectory = "{MAPPINGS}"\n'
                          if "[mappings]" not in sb.connector_config(store_url) else sb.connector_config(store_url))
        scene = Scene(sb, config, load_mappings(MAPPINGS))
        scene.run("setup", "--apply")
        yield scene


def edit_both_sides(scene: Scene, n: int, tag: str) -> None:
    """Edits a sales rep and a marketer would make: titles and phones changed, an opt-out in Salesforce,
    a new lead in each system."""
    sf = scene.salesforce_sdk()
    leads = sf.query(f"SELECT Id FROM Lead WHERE IsConverted = false ORDER BY Id LIMIT {n}")["records"]
    lead = sf_type(sf, "Lead")
    for i, row in enumerate(leads):
        lead.update(row["Id"], {"Title": f"Head of {tag} {i}", **({"HasOptedOutOfEmail": True} if i % 2 else {})})
    lead.create({"LastName": f"New{tag}", "Company": "Acme", "Email": f"new.{tag}.lead@example.org"})
    contacts = scene.hubspot_sdk().crm.contacts
    page = contacts.basic_api.get_page(limit=n, properties=["email"])
    contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        {"id": c.id, "properties": {"jobtitle": f"VP {tag} {i}", "phone": f"+1 415 555 01{i:02d}"}}
        for i, c in enumerate(page.results)]))
    contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={
        "email": f"new.{tag}.contact@example.org", "lastname": f"New{tag}", "lifecyclestage": "salesqualifiedlead",
        "hs_legal_basis": "Legitimate interest – prospect/lead"}))


def test_plan_is_what_sync_and_push_write(scene: Scene) -> None:
    check(scene, pull=True)  # the first sync: creates in both systems, links, fills
    check(scene, pull=False)  # plan without a pull is what push writes
    second = check(scene, pull=True)  # both systems agree: the plan and the sync are both empty
    # but for the scorer's outputs of people whose touches arrived in this check's pulls (the sandbox keeps
    # generating marketing events; an e-mail open changes a score's reason): `compare` checked that the sync
    # wrote the plan and, of later touches, only the scorer's outputs
    unexplained = [d for d in second["plan"]["plan"]["diffs"]
                   if not ((d["system"], d["object_type"], d["record"]) in second["touched"]
                           and d["field"] in SCORER_FIELDS)]
    assert not unexplained, unexplained
    edit_both_sides(scene, 6, "a")  # right before the run: inside the safety lag, so neither run sees them yet
    check(scene, pull=True)
    clock = scene.sandbox.clock
    clock.advance(-90_000)  # edits made a minute and a half ago: older than the safety lag, pulled by both
    try:
        edit_both_sides(scene, 8, "b")
    finally:
        clock.advance(90_000)
    edited = check(scene, pull=True)
    written = edited["push"]["written"]
    print(json.dumps(written))
    assert written["salesforce"]["Lead"]["updated"] and written["hubspot"]["contacts"]["updated"]
    assert written["salesforce"]["Lead"]["created"] and written["hubspot"]["contacts"]["created"]
    check(scene, pull=True)


def test_a_hubspot_opt_in_is_never_planned() -> None:
    """HubSpot's blank opt-out already means "not opted out", and the connector never opts anyone in:
    plan_writes (what both `plan` and the push use) keeps an opt-out and drops a "false"."""
    from connector.reconcile.writes import plan_writes
    from connector.reconcile.records import FieldChange

    def change(record: str | None, person: str, field: str, new: Any) -> FieldChange:
        return FieldChange("hubspot", "contacts", record, field, None, new, "email_opt_out: most_restrictive", person)

    plan = plan_writes([change("1", "p1", "hs_email_optout", "false"),
                        change("2", "p2", "hs_email_optout", "false"), change("2", "p2", "jobtitle", "CTO"),
                        change("3", "p3", "hs_email_optout", "true"),
                        change(None, "p4", "hs_email_optout", "false"), change(None, "p4", "email", "a@b.example")])
    assert [(w.record_id, w.values) for w in plan.updates] == [("2", {"jobtitle": "CTO"}),
                                                               ("3", {"hs_email_optout": "true"})]
    assert [w.values for w in plan.creates] == [{"email": "a@b.example"}]
    assert plan.counts() == {"hubspot:contacts": {"create": 1, "update": 2, "fields": 3}}
