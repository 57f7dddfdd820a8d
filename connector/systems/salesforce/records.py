"""Salesforce records as the store keeps them (deletions and merge losers included)."""

from __future__ import annotations

from typing import Any

from ..http import MalformedResponse
from ..ports import StagedRecord
from ._client import SYSTEM, sf_to_ms

__all__ = ["to_staged"]


def to_staged(sobject: str, record: dict[str, Any]) -> StagedRecord:
    data = {k: v for k, v in record.items() if k != "attributes"}
    modified = sf_to_ms(data.get("SystemModstamp"))
    if modified is None:
        raise MalformedResponse(f"salesforce {sobject} {data.get('Id')}: no SystemModstamp")
    email = data.get("Email")
    return StagedRecord(
        system=SYSTEM, object_type=sobject, record_id=str(data["Id"]), modified_at=modified, data=data,
        deleted=bool(data.get("IsDeleted")), merged_into=data.get("MasterRecordId") or None,
        email_norm=email.strip().casefold() if isinstance(email, str) and email.strip() else None,
    )
