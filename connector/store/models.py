"""The connector's state, as tables. Times are epoch milliseconds (UTC) everywhere: both systems' clocks
reduce to that without time-zone ambiguity, and it is the unit the cursors compare in.

- ``source_record``: the raw snapshot of every record pulled, per system/object/id, with its source time.
- ``link``: which source records belong to which person (and why: stored, cross-reference, conversion,
  merge, email).
- ``person`` and ``person_field``: the unified record, with per-field provenance; ``field_audit`` keeps
  every conflict that was settled (winner, loser, rule).
- ``engagement`` and ``opportunity``: activity and deals normalised for scoring and reports.
- ``sync_cursor``: incremental positions per stream; ``sync_run``: every run with its API calls.
- ``store_state``: the erasure salt and when the store's checks (setup, presence) last ran.
- ``parked_record``: records that could not be processed, with the system's reason and retry state.
- ``written_value``: hashes of what the connector itself wrote, so its own echo is not a change.
- ``write_journal``: every field value each run wrote, with the value it replaced (``connector revert``).
- ``erased_subject``: salted hashes of erased people, so sync never re-creates them.
- ``person_score``, ``status_transition`` and ``scoring_model``: each person's score, grade and
  qualification status with its breakdown, every status change with when, why and from which system,
  and every version of the scoring model that was ever in force (so any score traces to its rules).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

__all__ = [
    "SourceRecord",
    "Link",
    "Person",
    "PersonField",
    "FieldAudit",
    "Engagement",
    "Opportunity",
    "SyncCursor",
    "StoreState",
    "SyncRun",
    "ParkedRecord",
    "WrittenValue",
    "WriteJournal",
    "ErasedSubject",
    "PersonScore",
    "StatusTransition",
    "ScoringModelVersion",
]

#: JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


def _json(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSONDoc, nullable=nullable))


def _ms(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(BigInteger, nullable=nullable, index=index))


class SourceRecord(SQLModel, table=True):
    """The last pulled snapshot of one record in one system."""

    __tablename__ = "source_record"
    __table_args__ = (Index("ix_source_record_modified", "system", "object_type", "modified_at"),)

    system: str = Field(primary_key=True, max_length=16)
    object_type: str = Field(primary_key=True, max_length=64)
    record_id: str = Field(primary_key=True, max_length=64)
    modified_at: int = _ms()
    #: when the record's content last changed by someone other than the connector (echo suppression):
    #: a pull that brings back only the connector's own write keeps the earlier time; None = modified_at
    changed_at: int | None = _ms(nullable=True)
    fetched_at: int = _ms()
    deleted: bool = False
    merged_into: str | None = Field(default=None, max_length=64)
    email_norm: str | None = Field(default=None, max_length=320, index=True)
    data: dict[str, Any] = _json()
    field_times: dict[str, Any] | None = _json(nullable=True)
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class Person(SQLModel, table=True):
    """One unified person, across both systems; the id is the reconciliation core's stable person id."""

    __tablename__ = "person"

    id: str = Field(primary_key=True, max_length=80)
    email_norm: str | None = Field(default=None, max_length=320, index=True)
    score: float | None = None
    status: str | None = Field(default=None, max_length=32)
    status_since: int | None = _ms(nullable=True)
    #: digest of the saved fields, provenance and links: an unchanged person costs no reads or writes
    fields_digest: str | None = Field(default=None, max_length=32)
    #: digest of what the person was last reconciled from (records' stamps, link roles, mapping, owners),
    #: kept only when that left nothing to write and nothing to report: an equal digest skips the person
    inputs_digest: str | None = Field(default=None, max_length=32)
    created_at: int = _ms()
    updated_at: int = _ms()


class Link(SQLModel, table=True):
    """A source record belongs to a person; `role` says whether it is the live record or history."""

    __tablename__ = "link"
    __table_args__ = (UniqueConstraint("system", "object_type", "record_id", name="uq_link_record"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=80)
    system: str = Field(max_length=16)
    object_type: str = Field(max_length=64)
    record_id: str = Field(max_length=64)
    role: str = Field(default="primary", max_length=16)  # primary | history | duplicate
    reason: str = Field(max_length=32)  # reconciled | created
    linked_at: int = _ms()


class PersonField(SQLModel, table=True):
    """A unified field's value and where it came from."""

    __tablename__ = "person_field"

    person_id: str = Field(foreign_key="person.id", primary_key=True, max_length=80)
    field: str = Field(primary_key=True, max_length=128)
    value: Any = _json(nullable=True)
    source_system: str = Field(max_length=16)
    source_id: str = Field(max_length=64)
    source_time: int | None = _ms(nullable=True)
    rule: str = Field(max_length=64)
    time_basis: str = Field(default="record", max_length=8)  # field | record
    updated_at: int = _ms()


class FieldHistory(SQLModel, table=True):
    """A tracked unified field's values over time (`TRACKED_FIELDS`): the SLA report says who held a clock
    when it breached, though the owner has changed since."""

    __tablename__ = "field_history"

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=80)
    field: str = Field(max_length=128)
    value: Any = _json(nullable=True)
    #: from when: the winning record's modification time, or when the connector saw it when that is unknown
    since: int = _ms()
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


#: the unified fields whose every value is kept with its time (`FieldHistory`)
TRACKED_FIELDS = frozenset({"owner"})


class ValueIssue(SQLModel, table=True):
    """A value the connector cannot carry (`connector issues`): unconvertible, unmapped or unknown, left
    untouched on both sides. The current ones only: a person's rows are replaced each time they are reconciled."""

    __tablename__ = "value_issue"

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(index=True, max_length=80)
    system: str = Field(max_length=16)
    record_id: str = Field(max_length=64)
    #: the system's field name, and the unified field the mapping names it by
    field: str = Field(max_length=128)
    unified_field: str = Field(max_length=128)
    #: the transform that refused it ("phone", "map_values", "owner", ...), or "" when none is named
    kind: str = Field(max_length=64)
    value: Any = _json(nullable=True)
    reason: str = Field(max_length=255)
    seen_at: int = _ms()
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class FieldAudit(SQLModel, table=True):
    """A conflict that a rule settled: who won, who lost, and why."""

    __tablename__ = "field_audit"

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=80)
    field: str = Field(max_length=128)
    rule: str = Field(max_length=64)
    winner_system: str = Field(max_length=16)
    winner_value: Any = _json(nullable=True)
    loser_system: str = Field(max_length=16)
    loser_value: Any = _json(nullable=True)
    decided_at: int = _ms()
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class Engagement(SQLModel, table=True):
    """One timestamped touch (email open/click, form, page view, call, meeting, task) of one person."""

    __tablename__ = "engagement"
    __table_args__ = (Index("ix_engagement_subject", "subject_system", "subject_id", "occurred_at"),)

    system: str = Field(primary_key=True, max_length=16)
    engagement_id: str = Field(primary_key=True, max_length=128)
    # email_open | email_click | form_submission | page_view | call | meeting | task | email
    kind: str = Field(max_length=32)
    direction: str | None = Field(default=None, max_length=16)  # marketing | sales
    subject_system: str = Field(max_length=16)
    subject_id: str = Field(max_length=320)  # a record id, or an e-mail address for email events
    occurred_at: int = _ms()
    data: dict[str, Any] = _json()
    #: when the store received it (scoring re-scores the people whose touches arrived since its last pass)
    fetched_at: int | None = _ms(nullable=True, index=True)


class Opportunity(SQLModel, table=True):
    """An opportunity (Salesforce) or deal (HubSpot), normalised for status and reports."""

    __tablename__ = "opportunity"

    system: str = Field(primary_key=True, max_length=16)
    record_id: str = Field(primary_key=True, max_length=64)
    name: str | None = Field(default=None, max_length=255)
    stage: str | None = Field(default=None, max_length=128)
    amount: float | None = None
    close_date: str | None = Field(default=None, max_length=10)
    is_closed: bool = False
    is_won: bool = False
    person_ids: list[str] | None = _json(nullable=True)
    modified_at: int = _ms()
    data: dict[str, Any] = _json()


class SyncCursor(SQLModel, table=True):
    """Where an incremental stream stands; advanced only with the records it covers."""

    __tablename__ = "sync_cursor"

    stream: str = Field(primary_key=True, max_length=128)  # e.g. "salesforce:Lead"
    value: dict[str, Any] = _json()
    updated_at: int = _ms()
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class StoreState(SQLModel, table=True):
    """What the store knows besides the streams' positions: the erasure salt, when setup and the presence
    check last ran (kept apart from ``sync_cursor``, which holds only cursors)."""

    __tablename__ = "store_state"

    name: str = Field(primary_key=True, max_length=128)  # e.g. "setup:hubspot-properties"
    value: dict[str, Any] = _json()
    updated_at: int = _ms()


class SyncRun(SQLModel, table=True):
    """One execution of a command, with what it cost."""

    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    command: str = Field(max_length=32)
    started_at: int = _ms(index=True)
    finished_at: int | None = _ms(nullable=True)
    status: str = Field(default="running", max_length=16)  # running | ok | partial | failed | interrupted
    api_calls: dict[str, Any] = _json()  # {"hubspot": {"total": n, "by_object": {...}}, "salesforce": {...}}
    counts: dict[str, Any] = _json()
    error: str | None = None


class ParkedRecord(SQLModel, table=True):
    """A record a system rejected (or the connector could not read), kept visible until fixed."""

    __tablename__ = "parked_record"
    __table_args__ = (UniqueConstraint("system", "object_type", "record_id", "stage", name="uq_parked_record"),)

    id: int | None = Field(default=None, primary_key=True)
    system: str = Field(max_length=16)
    object_type: str = Field(max_length=64)
    record_id: str = Field(max_length=64)
    stage: str = Field(max_length=16)  # pull | reconcile | push
    field: str | None = Field(default=None, max_length=128)
    code: str = Field(max_length=64)
    message: str
    hint: str | None = None
    attempts: int = 1
    first_seen: int = _ms()
    last_seen: int = _ms()
    next_retry_at: int | None = _ms(nullable=True)
    resolved_at: int | None = _ms(nullable=True)
    payload: dict[str, Any] | None = _json(nullable=True)
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class WrittenValue(SQLModel, table=True):
    """A hash of the value the connector last wrote into one field (echo suppression)."""

    __tablename__ = "written_value"

    system: str = Field(primary_key=True, max_length=16)
    object_type: str = Field(primary_key=True, max_length=64)
    record_id: str = Field(primary_key=True, max_length=64)
    field: str = Field(primary_key=True, max_length=128)
    value_hash: str = Field(max_length=64)
    written_at: int = _ms()
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class WriteJournal(SQLModel, table=True):
    """One field value a run wrote into one record, and the value the store's snapshot held before: what
    `connector revert` writes back. Personal data (erased with the person); never logged."""

    __tablename__ = "write_journal"
    __table_args__ = (Index("ix_write_journal_record", "system", "object_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="sync_run.id", index=True)
    system: str = Field(max_length=16)
    object_type: str = Field(max_length=64)
    record_id: str = Field(max_length=64)
    person_id: str = Field(max_length=80, index=True)
    field: str = Field(max_length=128)
    old_value: Any = _json(nullable=True)
    new_value: Any = _json(nullable=True)
    #: the write created the record: no value before it, and a revert leaves it alone (so neither value is
    #: kept: only that the field was written)
    created: bool = False
    written_at: int = _ms()


class ErasedSubject(SQLModel, table=True):
    """A person erased on request: only a salted hash remains, so sync never re-creates them."""

    __tablename__ = "erased_subject"

    subject_hash: str = Field(primary_key=True, max_length=64)
    erased_at: int = _ms()
    source_system: str = Field(max_length=16)


class PersonScore(SQLModel, table=True):
    """A person's score under the model in force, its breakdown, and the qualification status it drives."""

    __tablename__ = "person_score"

    person_id: str = Field(foreign_key="person.id", primary_key=True, max_length=80)
    score: int = 0
    fit: int = 0
    engagement: int = 0
    grade: str | None = Field(default=None, max_length=1)
    status: str = Field(max_length=32)
    status_since: int = _ms()
    status_reason: str | None = Field(default=None, max_length=255)
    #: whose event set the status ("connector", "salesforce", "hubspot")
    status_by: str = Field(default="connector", max_length=16)
    #: the last lead status acted on ("salesforce:Working - Contacted"): feedback acts when it changes
    feedback: str | None = Field(default=None, max_length=160)
    #: engagement counts from here (sales recycled the person)
    reset_at: int | None = _ms(nullable=True)
    #: when the current MQL began (None before the first); re-MQLs after a recycle are counted
    mql_at: int | None = _ms(nullable=True)
    mql_count: int = 0
    reason: str = Field(default="", max_length=255)
    breakdown: list[Any] = _json()
    model_hash: str = Field(max_length=16)
    #: digest of what the score was computed from: an equal digest and no due decay skip the person
    inputs_digest: str = Field(max_length=32)
    #: when decay next moves the score by a write step or across a threshold, or inactivity acts
    next_check_at: int | None = _ms(nullable=True, index=True)
    last_touch_at: int | None = _ms(nullable=True)
    scored_at: int = _ms()
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class StatusTransition(SQLModel, table=True):
    """One change of a person's qualification status: when it happened, why, and from which system."""

    __tablename__ = "status_transition"

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=80)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    at: int = _ms(index=True)
    reason: str = Field(max_length=255)
    #: the system whose event moved it ("hubspot", "salesforce"), or "connector" (score, inactivity)
    system: str = Field(max_length=16)
    source_id: str | None = Field(default=None, max_length=64)
    score: int | None = None
    model_hash: str = Field(max_length=16)
    recorded_at: int = _ms()
    run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class ScoringModelVersion(SQLModel, table=True):
    """A version of `scoring.toml` as it was in force: its text, owners, and when it was first used."""

    __tablename__ = "scoring_model"

    model_hash: str = Field(primary_key=True, max_length=16)
    version: int
    owners: dict[str, Any] = _json()
    text: str
    first_used: int = _ms()
    last_used: int = _ms()
