"""HubSpot's Source: contacts, deals, engagements and events, read incrementally and frugally.

- A first load pages through the list API (100 per call, the higher rate limit), associated ids along.
- Incremental reads use CRM search by modified-time window, paged by keyset (`search`).
- Deletions come from ``archived=true`` listings; merges from the survivor's ``hs_merged_object_ids``.
- Property metadata is read once per run (`refresh_properties` forgets an object's copy); properties and
  groups are created through `metadata`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from ...config import HubSpotConfig
from ..http import DEFAULT_RETRY, RetryPolicy, json_object
from ..ledger import CallLedger
from ..ports import Engagement, LookupKey, StagedRecord, Window
from . import _client, events, metadata, search
from ._client import SYSTEM, field, paged, to_ms
from .lookups import find_by_email
from .records import to_staged

__all__ = ["ASSOCIATION_BATCH", "HISTORY_BATCH", "LIST_PAGE", "HubSpotSource"]

LIST_PAGE = 100
ASSOCIATION_BATCH = 1000
HISTORY_BATCH = 50


class HubSpotSource:
    """Reads HubSpot for one run; counts every call in `ledger`. Its `http` is the connection a
    `HubSpotSink` shares."""

    system = SYSTEM

    def __init__(self, config: HubSpotConfig, ledger: CallLedger, *, prior_calls_today: int = 0,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Any = time.sleep) -> None:
        self.http = _client.connect(config, ledger, prior_calls_today=prior_calls_today, transport=transport,
                                    retry=retry, sleep=sleep)
        self._properties: dict[str, list[dict[str, Any]]] = {}

    def close(self) -> None:
        _client.close(self.http)

    def authenticate(self) -> None:
        """Get an OAuth access token before the first read (a private-app token has no grant: HubSpot checks it
        with the first call)."""
        _client.authenticate(self.http)

    # ------------------------------------------------------------------ metadata

    def properties(self, object_type: str) -> list[dict[str, Any]]:
        """The object's property definitions (cached for the run)."""
        if object_type not in self._properties:
            self._properties[object_type] = metadata.properties(self.http, object_type)
        return self._properties[object_type]

    def refresh_properties(self, object_type: str) -> None:
        """Forget the cached property list of `object_type`: the next `properties` reads it again (after a
        setup created properties)."""
        self._properties.pop(object_type, None)

    def property_groups(self, object_type: str) -> list[dict[str, Any]]:
        """The object's property groups (one call, not cached)."""
        return metadata.property_groups(self.http, object_type)

    def create_property(self, object_type: str, body: dict[str, Any]) -> bool:
        """Create a property from its properties-API `body`; False when it exists already. Raises ApiError
        (its hint naming the missing scope) when HubSpot refuses. The cached list is not refreshed."""
        return metadata.create_property(self.http, object_type, body)

    def create_property_group(self, object_type: str, body: dict[str, Any]) -> bool:
        """Create a property group from its `body`; False when it exists already. Raises ApiError otherwise."""
        return metadata.create_property_group(self.http, object_type, body)

    def calls_made(self) -> int:
        """The calls HubSpot has been sent so far in this run (from the shared ledger)."""
        return self.http.ledger.total(self.system)

    def owners(self) -> dict[str, str]:
        """Owner id -> e-mail, so owner fields map across systems by the person behind them."""
        pages = paged(self.http, "/crm/v3/owners", {"limit": 500}, "owners")
        return {str(o["id"]): str(o["email"]) for page, _ in pages for o in page if o.get("email")}

    # ------------------------------------------------------------------ reads

    def list_pages(self, object_type: str, properties: Sequence[str], *, archived: bool = False,
                   after: str | None = None, associations: Sequence[str] = ()
                   ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Every record (or every archived record), 100 per call, in id order, with the token of the next page.

        Associated ids come along in the same call (`associations`), so a first load costs no extra calls.
        """
        params: dict[str, Any] = {"limit": LIST_PAGE, "properties": ",".join(properties),
                                  "archived": str(archived).lower()}
        if associations:
            params["associations"] = ",".join(associations)
        return paged(self.http, f"/crm/v3/objects/{object_type}", params, object_type, after)

    def changed_pages(self, object_type: str, window: Window, properties: Sequence[str]
                      ) -> Iterator[list[dict[str, Any]]]:
        """Records modified in `window`, ascending by modified time, by keyset; each record once."""
        return search.changed_pages(self.http, object_type, window, properties)

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]:
        """Associated ids for up to any number of records, 1,000 per batch read (v4), following per-record paging."""
        out: dict[str, list[str]] = {i: [] for i in ids}
        pending = [{"id": i} for i in ids]
        while pending:
            chunk, pending = pending[:ASSOCIATION_BATCH], pending[ASSOCIATION_BATCH:]
            body = self.http.json("POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/read",
                                  object_type=f"{from_type}>{to_type}", json_body={"inputs": chunk})
            for result in field(body, "results", list, from_type):
                source = str((result.get("from") or {}).get("id"))
                out.setdefault(source, []).extend(str(t.get("toObjectId")) for t in result.get("to") or [])
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    pending.append({"id": source, "after": after})
        return out

    def present(self, object_type: str, ids: Sequence[str], *, archived: bool = False) -> set[str]:
        """Which of `ids` exist (live, or archived), 100 per batch read; a merged-away id counts as present.

        Presence is read from the records returned (an id, or one its survivor's ``hs_merged_object_ids``
        lists), not only from the errors: HubSpot does not document that missing ids come back as errors."""
        found: set[str] = set()
        for start in range(0, len(ids), LIST_PAGE):
            chunk = list(ids[start:start + LIST_PAGE])
            body = self.http.json("POST", f"/crm/v3/objects/{object_type}/batch/read", object_type=object_type,
                                  params={"archived": str(archived).lower()},
                                  json_body={"properties": ["hs_object_id", "hs_merged_object_ids"],
                                             "inputs": [{"id": i} for i in chunk]})
            answer = json_object(body, "hubspot", f"{object_type} batch read")
            missing = {str(i) for e in answer.get("errors") or [] if isinstance(e, dict)
                       for i in (e.get("context") or {}).get("ids") or []}
            returned: set[str] = set()
            for record in answer.get("results") or []:
                returned.add(str(record.get("id")))
                merged = (record.get("properties") or {}).get("hs_merged_object_ids") or ""
                returned.update(x.strip() for x in str(merged).split(";") if x.strip())
            found.update(i for i in chunk if i in returned and i not in missing)
        return found

    def property_times(self, object_type: str, wanted: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        """When each wanted property last changed, per record: ``{id: {property: epoch ms}}``.

        Read from ``propertiesWithHistory`` (50 records per batch read, HubSpot's limit with history).
        The connector's own writes count with their time: the value it copied was set before then, and a
        later edit on the other side is later still.
        """
        out: dict[str, dict[str, int]] = {}
        ids = sorted(wanted)
        for start in range(0, len(ids), HISTORY_BATCH):
            chunk = ids[start:start + HISTORY_BATCH]
            props = sorted(set().union(*(wanted[i] for i in chunk)))
            body = self.http.json("POST", f"/crm/v3/objects/{object_type}/batch/read",
                                  object_type=f"{object_type}:history",
                                  json_body={"properties": [], "propertiesWithHistory": props,
                                             "inputs": [{"id": i} for i in chunk]})
            for record in field(body, "results", list, object_type):
                times: dict[str, int] = {}
                for prop, entries in (record.get("propertiesWithHistory") or {}).items():
                    stamps = [t for e in entries or [] if (t := to_ms(e.get("timestamp"))) is not None]
                    if stamps:
                        times[prop] = max(stamps)
                if times:
                    out[str(record.get("id"))] = times
        return out

    # ------------------------------------------------------------------ the Source port

    def list_records(self, object_type: str, properties: Sequence[str], *, archived: bool = False,
                     after: str | None = None, associations: Sequence[str] = ()
                     ) -> Iterator[tuple[list[StagedRecord], str | None]]:
        """`list_pages`, staged (an archived record's modified time is when it was archived)."""
        for page, token in self.list_pages(object_type, properties, archived=archived, after=after,
                                           associations=associations):
            staged: list[StagedRecord] = []
            for record in page:
                if archived:
                    record.setdefault("updatedAt", record.get("archivedAt"))
                staged.extend(to_staged(object_type, record, archived=archived))
            yield staged, token

    def changed_records(self, object_type: str, window: Window, properties: Sequence[str]
                        ) -> Iterator[list[StagedRecord]]:
        """`changed_pages`, staged: each record followed by a merged-away marker per id it absorbed."""
        for page in self.changed_pages(object_type, window, properties):
            yield [s for record in page for s in to_staged(object_type, record)]

    def event_pages(self, kind: str, window: Window) -> Iterator[list[Engagement]]:
        """Web ("web_events") or marketing e-mail ("email_events") touches in `window`, as the store keeps them."""
        return events.event_pages(self.http, kind, window)

    def find(self, keys: Sequence[LookupKey], *, fields: Mapping[str, Sequence[str]], ref_field: str
             ) -> list[StagedRecord]:
        """The live contacts holding the keys' e-mail addresses (a create is an upsert on its cross-reference
        property, unique in HubSpot: that is its look-up by cross-reference, at the moment of writing)."""
        return find_by_email(self.http, [e for e, _ in keys if e], properties=fields["contacts"])
