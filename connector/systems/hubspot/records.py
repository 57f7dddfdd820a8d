"""HubSpot records as the store keeps them: their modified time, merges and associations staged."""

from __future__ import annotations

from typing import Any

from ..ports import StagedRecord
from ._client import SYSTEM, malformed, modified_property, to_ms

__all__ = ["modified_at", "to_staged"]


def modified_at(object_type: str, record: dict[str, Any]) -> int:
    props = record.get("properties") or {}
    value = props.get(modified_property(object_type)) or record.get("updatedAt")
    ms = to_ms(value)
    if ms is None:
        raise malformed(object_type, f"record {record.get('id')} has no modified time")
    return ms

def to_staged(object_type: str, record: dict[str, Any], *, archived: bool = False) -> list[StagedRecord]:
    """The record itself, plus a merged-away marker for every id it absorbed."""
    props: dict[str, Any] = dict(record.get("properties") or {})
    record_id = str(record["id"])
    linked = record.get("associations")
    if isinstance(linked, dict):  # v3 list/get shape, or ids attached after a v4 batch read
        props["_associations"] = {
            kind: sorted({str(x.get("id")) for x in (v.get("results") or [])}) if isinstance(v, dict) else list(v)
            for kind, v in linked.items()}
    modified = modified_at(object_type, record)
    email = props.get("email")
    staged = [StagedRecord(
        system=SYSTEM, object_type=object_type, record_id=record_id, modified_at=modified, data=props,
        deleted=archived or bool(record.get("archived")),
        email_norm=email.strip().casefold() if isinstance(email, str) and email.strip() else None,
    )]
    for absorbed in (props.get("hs_merged_object_ids") or "").split(";"):
        absorbed = absorbed.strip()
        if absorbed and absorbed != record_id:
            staged.append(StagedRecord(system=SYSTEM, object_type=object_type, record_id=absorbed,
                                       modified_at=modified, data={}, deleted=True, merged_into=record_id))
    return staged
