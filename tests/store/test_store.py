"""The state store on SQLite and PostgreSQL: migrations from empty, model/migration agreement, round trips."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

from connector.errors import ConfigError
from connector.store import current_revision, head_revision, migrate, open_engine
from connector.store.models import (
    Engagement,
    ErasedSubject,
    FieldAudit,
    Link,
    Opportunity,
    ParkedRecord,
    Person,
    PersonField,
    SourceRecord,
    SyncCursor,
    SyncRun,
    WrittenValue,
)

EXPECTED_TABLES = {
    "source_record", "link", "person", "person_field", "field_audit", "engagement", "opportunity",
    "sync_cursor", "sync_run", "parked_record", "written_value", "erased_subject", "store_state", "alembic_version",
    "person_score", "status_transition", "scoring_model", "field_history", "value_issue", "write_journal",
}
BIG_MS = 4_102_444_800_123  # 2100-01-01: does not fit in 32 bits


def test_migrates_from_empty_to_head_and_again_is_a_no_op(store_url: str) -> None:
    engine = open_engine(store_url)
    assert current_revision(engine) == head_revision() is not None
    assert set(inspect(engine).get_table_names()) == EXPECTED_TABLES
    migrate(engine)  # idempotent
    engine2 = open_engine(store_url)  # a second start finds it migrated
    assert current_revision(engine2) == head_revision()


def test_migrations_match_the_models(store_url: str) -> None:
    engine = open_engine(store_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []


def test_round_trip_every_table(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s:
        run = SyncRun(command="sync", started_at=BIG_MS, api_calls={"hubspot": {"total": 3}}, counts={})
        s.add(run)
        s.commit()
        s.refresh(run)
        assert run.id is not None
        person = Person(id="hs-101", email_norm="zoë@example.com", created_at=BIG_MS, updated_at=BIG_MS, score=71.5,
                        status="MQL")
        s.add(person)
        s.commit()
        s.refresh(person)
        assert person.id is not None
        s.add_all([
            SourceRecord(system="hubspot", object_type="contacts", record_id="101", modified_at=BIG_MS,
                         fetched_at=BIG_MS, email_norm="zoë@example.com",
                         data={"email": "Zoë@Example.com", "firstname": "Zoë", "nested": {"a": [1, 2]}},
                         field_times={"email": BIG_MS}, run_id=run.id),
            Link(person_id=person.id, system="hubspot", object_type="contacts", record_id="101",
                 reason="email", linked_at=BIG_MS),
            PersonField(person_id=person.id, field="email", value="zoë@example.com", source_system="hubspot",
                        source_id="101", source_time=BIG_MS, rule="most_recent", time_basis="field",
                        updated_at=BIG_MS),
            FieldAudit(person_id=person.id, field="phone", rule="most_recent", winner_system="salesforce",
                       winner_value="+14155550100", loser_system="hubspot", loser_value=None, decided_at=BIG_MS),
            Engagement(system="hubspot", engagement_id="e1", kind="email_open", direction="marketing",
                       subject_system="hubspot", subject_id="101", occurred_at=BIG_MS, data={"campaign": 7}),
            Opportunity(system="salesforce", record_id="006x", name="Big deal", stage="Closed Won", amount=1234.5,
                        close_date="2026-01-31", is_closed=True, is_won=True, person_ids=[person.id],
                        modified_at=BIG_MS, data={}),
            SyncCursor(stream="salesforce:Lead", value={"last": BIG_MS, "ids": ["00Q1"]}, updated_at=BIG_MS),
            ParkedRecord(system="salesforce", object_type="Lead", record_id="00Q1", stage="push", field="Status",
                         code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", message="bad value", hint="add it",
                         first_seen=BIG_MS, last_seen=BIG_MS, payload={"Status": "Nurture"}),
            WrittenValue(system="salesforce", object_type="Lead", record_id="00Q1", field="Status",
                         value_hash="ab" * 32, written_at=BIG_MS),
            ErasedSubject(subject_hash="cd" * 32, erased_at=BIG_MS, source_system="hubspot"),
        ])
        s.commit()
        person_id, run_id = person.id, run.id

    with Session(engine) as s:
        rec = s.get(SourceRecord, ("hubspot", "contacts", "101"))
        assert rec is not None
        assert rec.data == {"email": "Zoë@Example.com", "firstname": "Zoë", "nested": {"a": [1, 2]}}
        assert rec.modified_at == BIG_MS and rec.field_times == {"email": BIG_MS}
        field = s.get(PersonField, (person_id, "email"))
        assert field is not None and field.value == "zoë@example.com" and field.time_basis == "field"
        opp = s.exec(select(Opportunity)).one()
        assert (opp.amount, opp.is_won, opp.person_ids) == (1234.5, True, [person_id])
        cursor = s.get(SyncCursor, "salesforce:Lead")
        assert cursor is not None and cursor.value == {"last": BIG_MS, "ids": ["00Q1"]}
        parked = s.exec(select(ParkedRecord)).one()
        assert parked.payload == {"Status": "Nurture"} and parked.attempts == 1
        assert s.exec(select(Link)).one().reason == "email"
        assert s.exec(select(FieldAudit)).one().loser_value is None
        assert s.exec(select(Engagement)).one().data == {"campaign": 7}
        assert s.get(WrittenValue, ("salesforce", "Lead", "00Q1", "Status")) is not None
        assert s.get(ErasedSubject, "cd" * 32) is not None
        assert s.get(SyncRun, run_id).api_calls == {"hubspot": {"total": 3}}  # type: ignore[union-attr]


def test_link_is_unique_per_source_record(store_url: str) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    engine = open_engine(store_url)
    with Session(engine) as s:
        p = Person(id="sf-00Q1", created_at=1, updated_at=1)
        s.add(p)
        s.commit()
        s.refresh(p)
        s.add(Link(person_id=p.id, system="salesforce", object_type="Lead", record_id="00Q1", reason="email",
                   linked_at=1))
        s.commit()
        s.add(Link(person_id=p.id, system="salesforce", object_type="Lead", record_id="00Q1", reason="email",
                   linked_at=2))
        with pytest.raises(IntegrityError):
            s.commit()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = open_engine(f"sqlite:///{tmp_path}/c.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_store_a_newer_connector_migrated_is_refused_untouched(store_url: str) -> None:
    """Rolling back the connector without restoring the store: exit 2 with the way out, no traceback."""
    engine = open_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(ConfigError) as caught:
        open_engine(store_url)
    assert "revision 0999, which a newer version of the connector made" in str(caught.value)
    assert "restore the backup" in str(caught.value)
