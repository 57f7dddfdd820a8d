"""One record's way through a batch after a rejection (pure): which fields to drop and send again, and
what to park.

A system that refuses a record names the field it could not take (Salesforce reports one field error
at a time). Sending the record again without that field lets its other changes land, but the second
answer is about the smaller record: it must not replace the first. So each field keeps the first
rejection that named it, a field rejected on a later send is parked with its own reason too, and a
record is parked whole, with that field's reason, when the rejected field is one it cannot be created
without (a Lead's LastName: sending it again without one only earns REQUIRED_FIELD_MISSING).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..systems.ports import WriteOutcome
from ..reconcile.writes import RecordWrite

__all__ = ["MAX_RESENDS", "REQUIRED_ON_CREATE", "Attempt", "Verdict"]

#: fields a record cannot be created without (Salesforce's required fields of the objects the connector
#: creates); an org's own required fields are recognised from the REQUIRED_FIELD_MISSING they earn
REQUIRED_ON_CREATE: dict[tuple[str, str], frozenset[str]] = {
    ("salesforce", "Lead"): frozenset({"LastName", "Company"}),
    ("salesforce", "Contact"): frozenset({"LastName"}),
    ("salesforce", "Opportunity"): frozenset({"Name", "StageName", "CloseDate"}),
}
#: at most this many sends again per batch (each one is an API call for the batch's rejected records)
MAX_RESENDS = 3


@dataclass(frozen=True)
class Verdict:
    """What to park for one record: the fields to hold back (empty: all of it) and each reason, the one
    that decides first (the reason the record, or its first field, was not written)."""

    hold: tuple[str, ...]
    reasons: tuple[tuple[tuple[str, ...], WriteOutcome], ...]


@dataclass
class Attempt:
    """One record's sends in a batch: what was sent last, each field's first rejection, and the
    rejection that stopped the record (None while it may still be written)."""

    write: RecordWrite
    id_field: str | None = None
    sent: RecordWrite = field(init=False)
    first: dict[str, WriteOutcome] = field(default_factory=dict)
    stop: tuple[str | None, WriteOutcome] | None = None
    outcome: WriteOutcome | None = None

    def __post_init__(self) -> None:
        self.sent = self.write

    @property
    def creating(self) -> bool:
        return self.write.record_id is None

    def answer(self, outcome: WriteOutcome, *, last: bool = False) -> RecordWrite | None:
        """Take the system's answer to what was sent; returns the record to send again without the
        fields it named (None: the record is written, or parked). `last`: no more sends this batch."""
        self.outcome = outcome
        if outcome.ok:
            return None
        if outcome.code.upper() == "REQUIRED_FIELD_MISSING":
            dropped = [f for f in outcome.fields if f in self.first]
            if dropped:  # it could not do without a field dropped earlier: that field's reason is the real one
                self.stop = (dropped[0], self.first[dropped[0]])
                return None
        named = [f for f in outcome.fields if f in self.sent.values]
        for name in named:
            self.first.setdefault(name, outcome)
        if not named:
            self.stop = (None, outcome)
            return None
        required = REQUIRED_ON_CREATE.get((self.write.system, self.write.object_type), frozenset())
        vital = [f for f in named if f == self.id_field or (self.creating and f in required)]
        rest = {k: v for k, v in self.sent.values.items() if k not in named}
        if vital or not rest or last:
            name = (vital or named)[0]
            self.stop = (name, self.first[name])
            return None
        self.sent = replace(self.sent, values=rest)
        return self.sent

    @property
    def written(self) -> bool:
        return self.outcome is not None and self.outcome.ok

    def verdict(self) -> Verdict | None:
        """What to park (None: nothing was rejected)."""
        named = [((name,), outcome) for name, outcome in self.first.items()]
        if self.written:
            return Verdict(tuple(self.first), tuple(named)) if named else None
        name, outcome = self.stop or (None, self.outcome or WriteOutcome(False, code="NO_RESULT", message="no answer"))
        if name is None:  # the system refused the record (what was left of it) without naming a field of it
            reasons = ((tuple(outcome.fields), outcome), *named)
        else:
            reasons = (((name,), self.first.get(name, outcome)), *(r for r in named if r[0] != (name,)))
        fields = tuple(dict.fromkeys(f for names, _ in reasons for f in names))
        if self.creating:  # nothing was created: the create waits whole, whatever it names
            return Verdict(fields, reasons)
        # an update whose every field was refused holds those fields; otherwise it waits whole
        covered = name is not None and set(fields) >= set(self.write.values)
        return Verdict(fields if covered else (), reasons)
