"""The push stage: send a WritePlan to both systems, batch by batch, and record every answer.

Order: creates (upserts on the cross-reference id, so a replay cannot duplicate), then updates, with
the cross-references to new records filled in between. Each batch's answers are committed before the
next batch goes out. A record the system rejects for named fields is retried once in the same run
without them, so one bad value does not hold back the record's other fields; the rejected fields are
parked with the system's code, its message and a hint, and retried with backoff on later runs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from ..reconcile.mapping import ContactMapping
from ..store.pushes import Rejected, Written, record_batch, stored_emails
from ..systems.writes import COLLECTION_SIZE, COLLECTIONS_PER_CALL, HUBSPOT_BATCH, Item, WriteOutcome
from .hints import hint_for
from .writes import RecordWrite, WritePlan, create_key, resolve_new_ids

__all__ = ["Pusher", "PushResult", "SystemWriter", "hubspot_writer", "salesforce_writer"]

log = logging.getLogger(__name__)


class SystemWriter(Protocol):
    """Writes one object type's records in one system: the adapters' write side, as push needs it."""

    def __call__(self, object_type: str, operation: str, items: Sequence[Item], id_field: str | None
                 ) -> dict[str, WriteOutcome]: ...


@dataclass
class PushResult:
    """What one push wrote and what it parked, per system and object."""

    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fields_written: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    held: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        objects = sorted(set(self.created) | set(self.updated) | set(self.rejected))
        per: dict[str, dict[str, dict[str, int]]] = {}
        for key in objects:
            system, object_type = key.split(":", 1)
            per.setdefault(system, {})[object_type] = {
                "created": self.created.get(key, 0), "updated": self.updated.get(key, 0),
                "fields_written": self.fields_written.get(key, 0), "rejected": self.rejected.get(key, 0)}
        return {"written": per, "held_back": self.held, "rejected": sum(self.rejected.values()),
                "rejections_sample": self.rejections[:20]}


class Pusher:
    """Applies write plans through two SystemWriters and records the outcome in the store."""

    def __init__(self, engine: Engine, *, writers: dict[str, SystemWriter], mapping: ContactMapping,
                 now_ms: Callable[[], int], run_id: int | None = None, bulk_threshold: int = 10_000,
                 id_fields: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
                 opt_out: Callable[[list[str]], dict[str, WriteOutcome]] | None = None,
                 after_batch: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.writers = writers
        self.bulk_threshold = bulk_threshold
        self.mapping = mapping
        self.now_ms = now_ms
        self.run_id = run_id
        ident = mapping.identity
        #: the external ids creates are upserted on, per (system, object type): people's by default
        self.id_fields: dict[tuple[str, str], tuple[str, ...]] = {
            ("salesforce", "Lead"): (ident.salesforce_hubspot_id_field,),
            ("salesforce", "Contact"): (ident.salesforce_hubspot_id_field,),
            ("hubspot", "contacts"): (ident.hubspot_contact_id_property, ident.hubspot_lead_id_property),
            **(id_fields or {})}
        #: (group id, system, object type) -> id of the record created for it by this Pusher
        self.created: dict[tuple[str, str, str], str] = {}
        #: opts e-mail addresses out in HubSpot (whose hs_email_optout the CRM API cannot write)
        self.opt_out = opt_out
        #: called once each batch's answers are committed (the sync records its API calls so far)
        self.after_batch = after_batch

    def push(self, plan: WritePlan) -> PushResult:
        result = PushResult(held=len(plan.held))
        created = self.created
        creates, opt_outs = _split_opt_outs(plan.creates)
        for (system, object_type, id_field), writes in _grouped(creates, self.id_fields).items():
            for write, outcome in self._send(system, object_type, "upsert", writes, id_field, result):
                if outcome.ok and outcome.record_id:
                    created[(write.person_id, system, object_type)] = outcome.record_id
        updates = [w for w in (resolve_new_ids(w, created) if w.waits_for_ids else w for w in plan.updates) if w]
        updates, more = _split_opt_outs(updates)
        opt_outs += more
        for (system, object_type, _), writes in _grouped(updates, {}).items():
            for _ in self._send(system, object_type, "update", writes, None, result):
                pass
        self._send_opt_outs(opt_outs, result)
        return result

    def _send_opt_outs(self, writes: list[RecordWrite], result: PushResult) -> None:
        """Opt-outs HubSpot must learn through its subscription preferences (never an opt-in: the sync
        never opts anyone back in, so a planned "false" is dropped)."""
        pending: list[tuple[RecordWrite, str]] = []
        wanted = [replace(w, record_id=w.record_id or self.created.get((w.person_id, w.system, w.object_type)))
                  for w in writes if _truthy(w.values[OPT_OUT])]
        known = stored_emails(self.engine, "hubspot", "contacts", [w.record_id for w in wanted if w.record_id])
        for w in wanted:
            email = w.old.get("email") or known.get(w.record_id or "")
            if w.record_id and isinstance(email, str) and email.strip():
                pending.append((w, email.strip()))
        if not pending or self.opt_out is None:
            return
        outcomes = self.opt_out([email for _, email in pending])
        written, rejected = [], []
        for write, email in pending:
            outcome = outcomes.get(email) or WriteOutcome(False, code="NO_RESULT", message="no answer")
            if outcome.ok:
                written.append(Written(write, write.record_id or ""))
                result.fields_written["hubspot:contacts"] += 1
            else:
                rejected.append(self._rejected(write, replace(outcome, fields=(OPT_OUT,))))
                result.rejected["hubspot:contacts"] += 1
        record_batch(self.engine, written, rejected, now_ms=self.now_ms(), run_id=self.run_id)

    def _send(self, system: str, object_type: str, operation: str, writes: Sequence[RecordWrite],
              id_field: str | None, result: PushResult) -> Iterable[tuple[RecordWrite, WriteOutcome]]:
        """Batches of `writes`, each answered and committed; yields every (write, final outcome)."""
        size = HUBSPOT_BATCH if system == "hubspot" else COLLECTION_SIZE * COLLECTIONS_PER_CALL
        if system == "salesforce" and len(writes) > self.bulk_threshold:
            size = len(writes)  # one Bulk API 2.0 job takes them all
        for start in range(0, len(writes), size):
            batch = list(writes[start:start + size])
            outcomes = self._write(system, object_type, operation, batch, id_field)
            retry = [_without(w, outcomes[w.key].fields) for w in batch
                     if not outcomes[w.key].ok and _partial(w, outcomes[w.key], id_field)]
            retried = self._write(system, object_type, operation, retry, id_field) if retry else {}
            written, rejected = [], []
            for write in batch:
                outcome = outcomes[write.key]
                if not outcome.ok:
                    rejected.append(self._rejected(write, outcome))
                    second = retried.get(write.key)
                    if second is not None:
                        write, outcome = next(r for r in retry if r.key == write.key), second
                        if not outcome.ok:
                            rejected[-1] = self._rejected(write, outcome)
                        elif write.record_id is None:  # created without the bad fields: park them on the new record
                            first = rejected[-1]
                            rejected[-1] = replace(first, write=replace(first.write, record_id=outcome.record_id))
                if outcome.ok:
                    written.append(Written(write, outcome.record_id or write.record_id or ""))
                    key = f"{system}:{object_type}"
                    (result.created if write.record_id is None else result.updated)[key] += 1
                    result.fields_written[key] += len(write.values)
                yield write, outcome
            for r in rejected:
                result.rejected[f"{system}:{object_type}"] += 1
                if len(result.rejections) < 50:
                    result.rejections.append({"system": system, "object_type": object_type,
                                              "record": r.write.parked_id, "fields": list(r.fields), "code": r.code,
                                              "hint": r.hint})
            if rejected:
                log.warning("%s %s: %d of %d records rejected and parked (`connector status` shows why)", system,
                            object_type, len(rejected), len(batch))
            record_batch(self.engine, written, rejected, now_ms=self.now_ms(), run_id=self.run_id)
            if self.after_batch is not None:
                self.after_batch()

    def _write(self, system: str, object_type: str, operation: str, batch: Sequence[RecordWrite],
               id_field: str | None) -> dict[str, WriteOutcome]:
        if operation == "upsert" and id_field is None:
            return {w.key: WriteOutcome(False, code="NO_EXTERNAL_ID", message="a new record needs its cross-reference "
                                        "id, so that replaying the create cannot duplicate it") for w in batch}
        items = [Item(w.key, w.record_id, w.values) for w in batch]
        outcomes = self.writers[system](object_type, operation, items, id_field)
        return {w.key: outcomes.get(w.key) or WriteOutcome(False, code="NO_RESULT", message="no answer")
                for w in batch}

    def _rejected(self, write: RecordWrite, outcome: WriteOutcome) -> Rejected:
        fields = tuple(f for f in outcome.fields if f in write.values) or outcome.fields
        hint = hint_for(self.mapping, write.system, write.object_type, fields, outcome.code, outcome.message,
                        write.values)
        return Rejected(write, fields, outcome.code, outcome.message, hint)


OPT_OUT = "hs_email_optout"


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _split_opt_outs(writes: Sequence[RecordWrite]) -> tuple[list[RecordWrite], list[RecordWrite]]:
    """HubSpot contact writes without hs_email_optout (read-only through the CRM API), and the opt-outs
    apart: each carries only that field, and the contact's e-mail in `old` for the subscription API."""
    rest: list[RecordWrite] = []
    opt_outs: list[RecordWrite] = []
    for w in writes:
        if w.system != "hubspot" or w.object_type != "contacts" or OPT_OUT not in w.values:
            rest.append(w)
            continue
        email = w.values.get("email") or w.old.get("email")
        opt_outs.append(replace(w, values={OPT_OUT: w.values[OPT_OUT]}, old={"email": email, OPT_OUT: w.old.get(OPT_OUT)},
                                reasons={OPT_OUT: w.reasons.get(OPT_OUT, "")}))
        values = {k: v for k, v in w.values.items() if k != OPT_OUT}
        if values:
            rest.append(replace(w, values=values))
    return rest, opt_outs


def _partial(write: RecordWrite, outcome: WriteOutcome, id_field: str | None) -> bool:
    """A rejection that names some, not all, of the fields written (never a create's own id): retry
    without them."""
    named = set(outcome.fields) & set(write.values)
    return bool(named) and named < set(write.values) and id_field not in named


def _without(write: RecordWrite, fields: Iterable[str]) -> RecordWrite:
    drop = set(fields)
    return replace(write, values={k: v for k, v in write.values.items() if k not in drop})


def _grouped(writes: Iterable[RecordWrite], id_fields: Mapping[tuple[str, str], tuple[str, ...]]
             ) -> dict[tuple[str, str, str | None], list[RecordWrite]]:
    out: dict[tuple[str, str, str | None], list[RecordWrite]] = {}
    for w in writes:
        id_field = create_key(w, id_fields.get((w.system, w.object_type), ())) if w.record_id is None else None
        out.setdefault((w.system, w.object_type, id_field), []).append(w)
    return out



def hubspot_writer(source: Any) -> SystemWriter:
    """The HubSpot adapter's batch writes, as push calls them."""
    from ..systems.writes import hubspot_write

    def write(object_type: str, operation: str, items: Sequence[Item], id_field: str | None) -> dict[str, WriteOutcome]:
        return hubspot_write(source, object_type, operation, items, id_property=id_field)  # type: ignore[arg-type]

    return write


def salesforce_writer(source: Any, bulk_threshold: int | None = None) -> SystemWriter:
    """The Salesforce adapter's Collections/Composite and Bulk writes, as push calls them."""
    from ..systems.writes import salesforce_write

    def write(object_type: str, operation: str, items: Sequence[Item], id_field: str | None) -> dict[str, WriteOutcome]:
        return salesforce_write(source, object_type, operation, items, external_id=id_field,  # type: ignore[arg-type]
                                bulk_threshold=bulk_threshold)

    return write
