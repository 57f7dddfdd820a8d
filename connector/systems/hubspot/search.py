"""Incremental reads by CRM search: a modified-time window, ascending, paged by keyset.

Each query restarts at the last modified time seen, de-duplicating the ids already seen there,
instead of paging by offset. That never pages past the 10,000-result cap, and a record that changes
during the pull cannot shift an offset and hide another one. When a whole page shares one millisecond,
the read switches to paging by ``hs_object_id`` inside that millisecond, so even 10,000+ records
stamped with one time end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..http import HttpLayer
from ..ports import Window
from ._client import field, malformed, modified_property
from .records import modified_at

__all__ = ["SEARCH_PAGE", "changed_pages"]

SEARCH_PAGE = 200


def changed_pages(http: HttpLayer, object_type: str, window: Window, properties: Sequence[str]
                  ) -> Iterator[list[dict[str, Any]]]:
    """Records modified in `window` (less its `skip`: one filter group per range, OR-ed in one search),
    ascending by modified time, by keyset; each record once."""
    prop = modified_property(object_type)
    wanted = sorted(set(properties) | {prop, "hs_object_id"})
    position = window.start
    seen_at_position: set[str] = set()
    while True:
        groups = [[{"propertyName": prop, "operator": "GTE", "value": str(max(position, start))},
                   {"propertyName": prop, "operator": "LT", "value": str(end)}]
                  for start, end in window.ranges() if end > position]
        if not groups:
            return
        body = _search(http, object_type, wanted, *groups, sort=prop)
        results = field(body, "results", list, object_type)
        fresh = [r for r in results if not (modified_at(object_type, r) == position
                                            and str(r["id"]) in seen_at_position)]
        if fresh:
            yield fresh
        if len(results) < SEARCH_PAGE:
            return
        last = modified_at(object_type, results[-1])
        if all(modified_at(object_type, r) == last for r in results):
            # a whole page in one millisecond: finish that millisecond by id, then go past it
            done = {str(r["id"]) for r in results} | (seen_at_position if last == position else set())
            yield from _one_millisecond(http, object_type, wanted, prop, last, skip=done)
            if last + 1 >= window.end:
                return
            position, seen_at_position = last + 1, set()
            continue
        if last != position:
            position, seen_at_position = last, set()
        seen_at_position.update(str(r["id"]) for r in results if modified_at(object_type, r) == last)

def _one_millisecond(http: HttpLayer, object_type: str, wanted: list[str], prop: str, at: int, skip: set[str]
                     ) -> Iterator[list[dict[str, Any]]]:
    last_id = 0
    while True:
        body = _search(http, object_type, wanted, [
            {"propertyName": prop, "operator": "EQ", "value": str(at)},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
        ], sort="hs_object_id")
        results = field(body, "results", list, object_type)
        fresh = [r for r in results if str(r["id"]) not in skip]
        if fresh:
            yield fresh
        if len(results) < SEARCH_PAGE:
            return
        last_id = int(results[-1]["id"])

def _search(http: HttpLayer, object_type: str, properties: list[str], *groups: list[dict[str, str]], sort: str
            ) -> dict[str, Any]:
    """One search call; `groups` are filter groups, OR-ed (HubSpot takes five)."""
    body = {"filterGroups": [{"filters": f} for f in groups], "properties": properties, "limit": SEARCH_PAGE,
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}]}
    result = http.json("POST", f"/crm/v3/objects/{object_type}/search", object_type=object_type,
                            pace="search", json_body=body)
    if not isinstance(result, dict):
        raise malformed(object_type, "search response is not an object")
    return result
