"""The push stage: send a WritePlan to both systems, batch by batch, and record every answer.

Order: creates (upserts on the cross-reference id, so a replay cannot duplicate), then updates, with
the cross-references to new records filled in between. Each batch's answers are committed before the
next batch goes out.

Writes are never blind. Neither vendor's batch writes are conditional, and the pull reads only up to the
safety lag, so the updates that set fields people edit go first, together, and each batch of them reads
those fields again (one read call per full batch): a field someone changed since the run read it is left
out of the write, and the next run reads the edit and settles it by the field's rule (`without_stale`).

A record the system rejects for named fields is sent again in the same run
without them, so one bad value does not hold back the record's other fields; each rejected field is
parked with the first code the system gave for it, its message (scrubbed of personal data) and a hint,
and retried with backoff on later runs. A create refused for a field it cannot do without is parked
whole, with that field's reason (rejections.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Engine

from ..reconcile.mapping import ContactMapping
from ..stopping import check_stop
from ..store.pushes import FieldReason, Rejected, Written, record_batch, stored_emails
from ..systems.ports import Item, Operation, Sink, WriteOutcome
from .hints import FieldFile, hint_for, is_personal, scrub_message
from .rejections import MAX_RESENDS, Attempt
from ..reconcile.writes import (OPT_OUT, RecordWrite, WritePlan, create_key, edited_fields, is_true, read_again,
                                resolve_new_ids, without_stale)

__all__ = ["PushResult", "Pusher"]

log = logging.getLogger(__name__)


@dataclass
class PushResult:
    """What one push wrote and what it parked, per system and object."""

    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fields_written: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    held: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    #: records whose update was left (wholly or in part) for the next run: edited since this run read them
    deferred: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: records read again before their update (the check's calls are in the write calls)
    checked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: addresses sent to HubSpot's subscription preferences to opt out of all e-mail
    opt_outs: int = 0

    def to_json(self) -> dict[str, Any]:
        objects = sorted(set(self.created) | set(self.updated) | set(self.rejected))
        per: dict[str, dict[str, dict[str, int]]] = {}
        for key in objects:
            system, object_type = key.split(":", 1)
            per.setdefault(system, {})[object_type] = {
                "created": self.created.get(key, 0), "updated": self.updated.get(key, 0),
                "fields_written": self.fields_written.get(key, 0), "rejected": self.rejected.get(key, 0)}
        out: dict[str, Any] = {"written": per, "held_back": self.held, "rejected": sum(self.rejected.values()),
                               "rejections_sample": self.rejections[:20]}
        if self.opt_outs:
            out["opt_outs"] = self.opt_outs
        if self.checked:
            out["checked"] = {k: n for k, n in sorted(self.checked.items()) if n}
        if self.deferred:
            out["deferred"] = {k: n for k, n in sorted(self.deferred.items()) if n}
        return out


class Pusher:
    """Applies write plans through each system's Sink port and records the outcome in the store."""

    def __init__(self, engine: Engine, *, sinks: Mapping[str, Sink], mapping: ContactMapping,
                 now_ms: Callable[[], int], run_id: int | None = None, bulk_threshold: int = 10_000,
                 id_fields: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
                 after_batch: Callable[[], None] | None = None,
                 checked: Mapping[tuple[str, str], frozenset[str]] | None = None,
                 fields_file: FieldFile | None = None) -> None:
        self.engine = engine
        self.sinks = sinks
        self.bulk_threshold = bulk_threshold
        self.mapping = mapping
        #: the mapping file the pushed object's fields come from (its rejections' hints name it): people's
        #: contacts.toml by default
        self.fields_file: FieldFile = fields_file or mapping
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
        #: called once each batch's answers are committed (the sync records its API calls so far)
        self.after_batch = after_batch
        #: the fields people edit, per (system, object type): read again before an update sets them (the
        #: mapped fields by default; the connector's own outputs and cross-references are not checked)
        self.checked = checked if checked is not None else edited_fields(mapping.fields, "contacts")

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
            # the updates that set a field people edit go first, together: they are read again before they
            # are written, so packed they cost one read call per full batch, not one per batch they touch
            checked = self.checked.get((system, object_type), frozenset())
            writes.sort(key=lambda w: not read_again(w, checked))
            for _ in self._send(system, object_type, "update", writes, None, result):
                pass
        self._send_opt_outs(opt_outs, result)
        return result

    def _send_opt_outs(self, writes: list[RecordWrite], result: PushResult) -> None:
        """Opt-outs HubSpot must learn through its subscription preferences (never an opt-in: plan_writes
        leaves no "false" in a plan, and none is ever sent). One that fails is parked on the contact's id
        like any write, and the rest goes on."""
        pending: list[tuple[RecordWrite, str]] = []
        wanted = [replace(w, record_id=w.record_id or self.created.get((w.person_id, w.system, w.object_type)))
                  for w in writes if is_true(w.values[OPT_OUT])]
        known = stored_emails(self.engine, "hubspot", "contacts", [w.record_id for w in wanted if w.record_id])
        for w in wanted:
            email = w.old.get("email") or known.get(w.record_id or "")
            if w.record_id and isinstance(email, str) and email.strip():
                pending.append((w, email.strip()))
        if not pending or "hubspot" not in self.sinks:
            return
        result.opt_outs += len(pending)
        outcomes = self.sinks["hubspot"].opt_out([email for _, email in pending])
        written, rejected = [], []
        for write, email in pending:
            outcome = outcomes.get(email) or WriteOutcome(False, code="NO_RESULT", message="no answer")
            if outcome.ok:
                written.append(Written(write, write.record_id or ""))
                result.fields_written["hubspot:contacts"] += 1
            else:
                attempt = Attempt(write)
                attempt.answer(replace(outcome, fields=(OPT_OUT,)))
                parked = self._rejected(attempt, {"email": email})
                if parked is not None:
                    rejected.append(parked)
        self._count_rejected("hubspot", "contacts", rejected, len(pending), result)
        record_batch(self.engine, written, rejected, now_ms=self.now_ms(), run_id=self.run_id)

    def _send(self, system: str, object_type: str, operation: Operation, writes: Sequence[RecordWrite],
              id_field: str | None, result: PushResult) -> Iterable[tuple[RecordWrite, WriteOutcome]]:
        """Batches of `writes`, each answered and committed; yields every (write, final outcome).

        A record rejected for some of its fields is sent again without them (up to MAX_RESENDS times per
        batch, one call for all such records of the batch); each rejected field keeps the first reason
        given for it (see rejections.py)."""
        size = self.sinks[system].batch_size
        if system == "salesforce" and len(writes) > self.bulk_threshold:
            size = len(writes)  # one Bulk API 2.0 job takes them all
        key = f"{system}:{object_type}"
        for start in range(0, len(writes), size):
            check_stop()  # the batches before are written and recorded: a stop loses nothing here
            chunk = writes[start:start + size]
            if operation == "update":
                chunk = self._unchanged_since_read(system, object_type, chunk, result)
                if not chunk:
                    continue
            batch = [Attempt(w, id_field) for w in chunk]
            sending = [a.sent for a in batch]
            by_key = {a.write.key: a for a in batch}
            for round_ in range(MAX_RESENDS + 1):
                outcomes = self._write(system, object_type, operation, sending, id_field)
                again = [by_key[w.key].answer(outcomes[w.key], last=round_ == MAX_RESENDS) for w in sending]
                sending = [w for w in again if w is not None]
                if not sending:
                    break
            written, rejected = [], []
            for a in batch:
                outcome = a.outcome or WriteOutcome(False, code="NO_RESULT", message="no answer")
                if outcome.ok:
                    write = a.sent
                    written.append(Written(write, outcome.record_id or write.record_id or ""))
                    (result.created if write.record_id is None else result.updated)[key] += 1
                    result.fields_written[key] += len(write.values)
                parked = self._rejected(a)
                if parked is not None:
                    if outcome.ok and a.write.record_id is None:  # created without the bad fields: park them on it
                        parked = replace(parked, write=replace(parked.write, record_id=outcome.record_id))
                    rejected.append(parked)
                yield (a.sent if outcome.ok else a.write), outcome
            self._count_rejected(system, object_type, rejected, len(batch), result)
            record_batch(self.engine, written, rejected, now_ms=self.now_ms(), run_id=self.run_id)
            if self.after_batch is not None:
                self.after_batch()

    def _unchanged_since_read(self, system: str, object_type: str, writes: Sequence[RecordWrite],
                              result: PushResult) -> list[RecordWrite]:
        """The updates without what someone changed since the run read it: the fields people edit are read
        again (one call for the batch) and a field that holds neither the value the plan was made from nor
        the planned one is left for the next run; a record gone since is left whole."""
        checked = self.checked.get((system, object_type), frozenset())
        ids = [w.record_id for w in writes if w.record_id and read_again(w, checked)]
        if not ids:
            return list(writes)
        fields = sorted({f for w in writes for f in w.values if f in checked})
        live = self.sinks[system].current(object_type, ids, fields)
        result.checked[f"{system}:{object_type}"] += len(ids)
        asked = set(ids)
        kept: list[RecordWrite] = []
        for w in writes:
            if w.record_id not in asked:
                kept.append(w)
                continue
            fresh, stale = without_stale(w, live.get(w.record_id or ""), checked)
            if stale:
                result.deferred[f"{system}:{object_type}"] += 1
                # ids and field names only: the values are someone's data
                log.info("left for the next run: %s %s %s %s since this run read it (%s)", system, object_type,
                         w.record_id, "is gone" if w.record_id not in live else "was edited", ", ".join(stale))
            if fresh is not None:
                kept.append(fresh)
        return kept

    def _count_rejected(self, system: str, object_type: str, rejected: Sequence[Rejected], of: int,
                        result: PushResult) -> None:
        for r in rejected:
            result.rejected[f"{system}:{object_type}"] += 1
            # one line per parked record: its id, code and field names (a system's message may quote a value)
            log.warning("parked %s %s %s: %s%s", system, object_type, r.write.parked_id, r.code,
                        f" on {', '.join(r.fields)}" if r.fields else " (the whole record)")
            if len(result.rejections) < 50:
                refused = [f for reason in r.reasons for f in reason.fields]
                codes = {f: reason.code for reason in r.reasons for f in reason.fields}
                result.rejections.append({"system": system, "object_type": object_type, "record": r.write.parked_id,
                                          "fields": refused or list(r.fields), "code": r.code, "hint": r.hint,
                                          "field_codes": codes})
        if rejected:
            log.warning("%s %s: %d of %d records rejected and parked (`connector status` shows why)", system,
                        object_type, len(rejected), of)

    def _write(self, system: str, object_type: str, operation: Operation, batch: Sequence[RecordWrite],
               id_field: str | None) -> dict[str, WriteOutcome]:
        if operation == "upsert" and id_field is None:
            return {w.key: WriteOutcome(False, code="NO_EXTERNAL_ID", message="a new record needs its cross-reference "
                                        "id, so that replaying the create cannot duplicate it") for w in batch}
        items = [Item(w.key, w.record_id, w.values) for w in batch]
        outcomes = self.sinks[system].write(object_type, operation, items, id_field=id_field)
        return {w.key: outcomes.get(w.key) or WriteOutcome(False, code="NO_RESULT", message="no answer")
                for w in batch}

    def _rejected(self, attempt: Attempt, also_personal: Mapping[str, Any] | None = None) -> Rejected | None:
        """The parking entry for a record's rejections (None: nothing was rejected): each reason with its
        own code, the system's message scrubbed of the values it echoes, and a hint per reason."""
        verdict = attempt.verdict()
        if verdict is None:
            return None
        write = attempt.write
        values = {**write.values, **(also_personal or {})}

        source = self.fields_file

        def personal(name: str) -> bool:
            return name in (also_personal or {}) or is_personal(source, write.system, write.object_type, name)

        reasons = tuple(FieldReason(fields, o.code, scrub_message(o.message, values, personal),
                                    hint_for(source, write.system, write.object_type, fields, o.code, o.message,
                                             values))
                        for fields, o in verdict.reasons)
        lead = reasons[0]
        if len(reasons) == 1:
            message, hint = lead.message, lead.hint
        else:
            message = "; ".join(f"{','.join(r.fields) or write.object_type}: {r.code}: {r.message}" for r in reasons)
            hint = lead.hint + "".join(f" Also: {r.hint}" for r in reasons[1:])
        return Rejected(write, verdict.hold, lead.code, message, hint, reasons)


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
        opt_outs.append(replace(w, values={OPT_OUT: w.values[OPT_OUT]},
                                old={"email": email, OPT_OUT: w.old.get(OPT_OUT)},
                                reasons={OPT_OUT: w.reasons.get(OPT_OUT, "")}))
        values = {k: v for k, v in w.values.items() if k != OPT_OUT}
        if values:
            rest.append(replace(w, values=values))
    return rest, opt_outs


def _grouped(writes: Iterable[RecordWrite], id_fields: Mapping[tuple[str, str], tuple[str, ...]]
             ) -> dict[tuple[str, str, str | None], list[RecordWrite]]:
    out: dict[tuple[str, str, str | None], list[RecordWrite]] = {}
    for w in writes:
        id_field = create_key(w, id_fields.get((w.system, w.object_type), ())) if w.record_id is None else None
        out.setdefault((w.system, w.object_type, id_field), []).append(w)
    return out
