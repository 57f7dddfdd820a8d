"""Scoring, as a step of the people object: scored after people are reconciled, published with their writes.

The people whose inputs changed since the last pass (`store.scores.candidates`; in a dry run, also those
whose unsaved fields differ from the store's) are scored with `scoring.toml` and their status moves. The
writes that publish score and status join the people's own changes: they ride in the same record writes
(one batch slot per record), a new record is created with them, and `connector plan` shows exactly what
the sync sends. A dry run scores from the people it reconciled in memory; a real run also saves the
scores and status transitions, and records the pass once the push is done (`finish_pass`): a run that
dies before it scores the same people again.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ..reconcile.companies import company_values
from ..reconcile.mapping import CompanyMapping
from ..reconcile.records import FieldChange, RecordKey, UnifiedPerson
from ..score.decide import Decision, Prior, decide
from ..score.model import COMPANY_PREFIX, ScoringModel
from ..score.signals import LinkedRecord
from ..score.status import StatusState
from ..store.models import PersonScore
from ..store.scores import (
    candidates,
    last_pass,
    linked_records,
    opportunities_by_person,
    record_model,
    record_pass,
    save_scores,
    scoring_inputs,
    stored_scores,
)
from ..store.companies import person_companies
from ..store.people import owner_directory
from ..store.timeline import touches_for

__all__ = ["Resolved", "ScoringPass", "finish_pass", "score_people"]

log = logging.getLogger("connector.sync")

#: people scored per read of the store
_CHUNK = 2000


@dataclass
class Resolved:
    """What the people's reconcile step resolved in this run, in memory: each person's unified fields and
    records (with their roles), so that scoring sees them before (or, in a dry run, without) the store."""

    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)

    def keep(self, people: Sequence[UnifiedPerson], roles: Mapping[RecordKey, tuple[str, str]]) -> None:
        for p in people:
            self.fields[p.person_id] = {name: prov.value for name, prov in p.fields.items()}
            self.records[p.person_id] = [(k.system, k.object_type, k.id, roles.get(k, ("primary", ""))[0])
                                         for k in p.links]


@dataclass
class ScoringPass:
    """One pass's outcome: the decisions, the writes that publish them, and its counts."""

    started: int
    decisions: list[Decision]
    changes: list[FieldChange]
    counts: Counter[str]

    def summary(self, model: ScoringModel) -> dict[str, Any]:
        """The run summary's "scores" part."""
        written = Counter(f"{c.system}:{c.object_type}" for c in self.changes)
        return {"model": {"version": model.version, "hash": model.model_hash}, "scored": len(self.decisions),
                "statuses": dict(sorted(Counter(d.state.status for d in self.decisions).items())),
                "moved": self.counts["moved"], "values_to_write": dict(sorted(written.items())),
                "full_pass": bool(self.counts["full_pass"])}


def prior_of(row: PersonScore) -> Prior:
    return Prior(row.score, StatusState(row.status, row.status_since, row.status_reason, row.status_by, row.mql_at,
                                        row.mql_count, row.feedback, row.reset_at), row.reason)


def _row(person_id: str, d: Decision, model: ScoringModel, now: int, run_id: int | None) -> dict[str, Any]:
    s, r = d.state, d.result
    return {"person_id": person_id, "score": d.published, "fit": r.fit, "engagement": d.published - r.fit,
            "grade": r.grade, "status": s.status, "status_since": s.since, "status_reason": s.reason,
            "status_by": s.by, "feedback": s.feedback, "reset_at": s.reset_at, "mql_at": s.mql_at,
            "mql_count": s.mql_count, "reason": d.reason, "breakdown": [p.to_json() for p in r.breakdown],
            "model_hash": model.model_hash, "inputs_digest": "", "next_check_at": d.next_check_at,
            "last_touch_at": r.last_touch_at, "scored_at": now, "run_id": run_id}


def _creates(changes: Iterable[FieldChange]) -> dict[str, list[LinkedRecord]]:
    """The records the people's plan creates, as empty records the scorer's outputs go into."""
    out: dict[str, dict[tuple[str, str], LinkedRecord]] = {}
    for c in changes:
        if c.record_id is None:
            out.setdefault(c.person_id, {})[(c.system, c.object_type)] = LinkedRecord(
                c.system, c.object_type, "", "primary", 0, False, {})
    return {p: list(v.values()) for p, v in out.items()}


def score_people(engine: Engine, model: ScoringModel, now: int, *, save: bool, run_id: int | None = None,
                 everyone: bool = False, resolved: Resolved | None = None,
                 planned: Sequence[FieldChange] = (), only: Collection[str] | None = None,
                 companies: CompanyMapping | None = None) -> ScoringPass:
    """Score the people whose inputs changed since the last recorded pass (everyone under a new model, or
    with `everyone`), and those `resolved` in this run (their fields and records taken from it); with
    `save`, keep scores and status transitions. `planned` are the people's own changes: the records they
    create get the scorer's outputs too. `only` scores just those people (nothing else is looked at).
    `companies`: companies.toml, whose unified fields fit rules read as ``company.<field>``."""
    previous = last_pass(engine)
    since = previous["at"] if previous and previous.get("model") == model.model_hash and not everyone else None
    resolved = resolved or Resolved()
    if only is not None:
        ids = sorted(only)
    else:
        # people the reconcile step saved are candidates by the store's own marks; unsaved ones (a dry run)
        # when their fields are not what the store holds
        by_company = companies is not None and any(f.startswith(COMPANY_PREFIX) for f in model.fields)
        ids = sorted(set(candidates(engine, since, now, companies=by_company))
                     | (set() if save else _unsaved_changes(engine, resolved)))
    result = ScoringPass(now, [], [], Counter(candidates=len(ids), full_pass=int(since is None)))
    if not ids:
        return result
    extra_links = {(s, o, r): pid for pid, keys in resolved.records.items() for s, o, r, _ in keys}
    opportunities = opportunities_by_person(engine, ids, extra_links)
    creates = _creates(planned)
    of_company = _company_fields(engine, companies, ids) if any(f.startswith(COMPANY_PREFIX) for f in model.fields) \
        else {}
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        stored_part = [p for p in part if p not in resolved.fields]
        inputs = scoring_inputs(engine, stored_part, touches=False)
        fresh = {p: resolved.records[p] for p in part if p in resolved.fields}
        records = {**inputs.records, **linked_records(engine, fresh)}
        fields = {**inputs.fields, **{p: resolved.fields[p] for p in fresh}}
        for pid in part:
            if pid in of_company:
                fields[pid] = {**fields.get(pid, {}), **of_company[pid]}
        known = {p: ([(s, o, r) for s, o, r, _ in keys], _email(fields.get(p))) for p, keys in fresh.items()}
        touches = touches_for(engine, part, known)
        stored = stored_scores(engine, part)
        rows, transitions = [], []
        for pid in part:
            row = stored.get(pid)
            d = decide(model, pid, fields.get(pid, {}), [*records.get(pid, []), *creates.get(pid, [])],
                       touches.get(pid, ()), opportunities.get(pid, ()), prior_of(row) if row else None, now)
            result.decisions.append(d)
            result.changes += d.changes
            result.counts["moved"] += bool(d.transitions) and row is not None
            rows.append(_row(pid, d, model, now, run_id))
            transitions += [{"person_id": pid, "from_status": t.from_status, "to_status": t.to_status, "at": t.at,
                             "reason": t.reason, "system": t.system, "source_id": t.source_id, "score": d.published,
                             "model_hash": model.model_hash, "recorded_at": now, "run_id": run_id}
                            for t in d.transitions]
        if save:
            save_scores(engine, rows, transitions)
    return result


def _company_fields(engine: Engine, companies: CompanyMapping | None, ids: Sequence[str]
                    ) -> dict[str, dict[str, Any]]:
    """Each person's company's unified fields as ``company.<field>`` (none without companies.toml)."""
    if companies is None:
        return {}
    owners = owner_directory(engine)
    held = person_companies(engine, ids, companies.identity.hubspot_account_id_property)
    return {pid: {f"{COMPANY_PREFIX}{k}": v for k, v in company_values(companies, co, account, owners).items()}
            for pid, (co, account) in held.items()}


def _unsaved_changes(engine: Engine, resolved: Resolved) -> set[str]:
    """The people a dry run resolved whose fields differ from the store's (or who are not in it yet)."""
    ids = sorted(resolved.fields)
    stored = scoring_inputs(engine, ids, touches=False).fields if ids else {}
    return {p for p in ids if stored.get(p) != resolved.fields[p]}


def _email(fields: Mapping[str, Any] | None) -> str | None:
    value = (fields or {}).get("email")
    return value.strip().casefold() if isinstance(value, str) and value.strip() else None


def run_pass(engine: Engine, model: ScoringModel, now: int, *, dry_run: bool, run_id: int | None,
             resolved: Resolved, planned: Sequence[FieldChange], companies: CompanyMapping | None = None
             ) -> ScoringPass:
    """The scoring step of a people run, logged."""
    log.info("score: scoring the people whose fit, touches or sales feedback changed")
    t = time.perf_counter()
    done = score_people(engine, model, now, save=not dry_run, run_id=run_id, resolved=resolved, planned=planned,
                        companies=companies)
    statuses = Counter(d.state.status for d in done.decisions)
    log.info("score: done in %.1f s: %d people scored (%s), %d values to write", time.perf_counter() - t,
             len(done.decisions), ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none",
             len(done.changes))
    return done


def finish_pass(engine: Engine, model: ScoringModel, started: int, now: int) -> bool:
    """Record the pass (the next one looks at what changed after `started`) and the model version in force;
    True when this version of the model is new to the store."""
    new = record_model(engine, model.model_hash, model.version, model.owners, model.text, now)
    record_pass(engine, started, model.model_hash, now)
    return new
