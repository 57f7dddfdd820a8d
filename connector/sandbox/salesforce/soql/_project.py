"""Projection: selected paths rendered as Salesforce query JSON, parents nested with attributes."""

from __future__ import annotations

__all__ = ["Projection"]

from dataclasses import dataclass, field
from typing import Any

from ._dates import format_datetime_ms
from ._paths import FieldPath, Hop, Walk


@dataclass
class _Rel:
    """A parent relationship in the output: {"Account": {"attributes": ..., <children>}}."""

    hops: tuple[Hop, ...]
    children: list[_Rel | FieldPath] = field(default_factory=list)


class Projection:
    """The selected paths arranged as the nested JSON object Salesforce returns, in select order."""

    def __init__(self, paths: list[FieldPath], api_version: str) -> None:
        version = api_version if api_version.startswith("v") else f"v{api_version}"
        self.base = f"/services/data/{version}/sobjects/"
        self.root: list[_Rel | FieldPath] = []
        for path in paths:
            self._insert(path)

    def _insert(self, path: FieldPath) -> None:
        level = self.root
        for depth in range(len(path.hops)):
            hops = path.hops[: depth + 1]
            rel = next((e for e in level if isinstance(e, _Rel) and e.hops[-1].rel_name == hops[-1].rel_name), None)
            if rel is None:
                rel = _Rel(hops)
                level.append(rel)
            level = rel.children
        level.append(path)

    def url(self, sobject: str, record_id: str) -> str:
        """The record's REST url, as in ``attributes.url``."""
        return f"{self.base}{sobject}/{record_id}"

    def render(self, walk: Walk) -> dict[str, Any]:
        """The record's selected values (without the top-level "attributes")."""
        return self._render(self.root, walk)

    def _render(self, entries: list[_Rel | FieldPath], walk: Walk) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for entry in entries:
            if isinstance(entry, FieldPath):
                out[entry.field] = render_value(walk.value(entry), entry.info.type)
                continue
            found = walk.parent(entry.hops)
            if found is None:
                out[entry.hops[-1].rel_name] = None
                continue
            sobject, record = found
            parent_id = record.get("Id")
            node: dict[str, Any] = {"attributes": {"type": sobject, "url": self.url(sobject, str(parent_id))}}
            node.update(self._render(entry.children, walk))
            out[entry.hops[-1].rel_name] = node
        return out


def render_value(value: Any, ftype: str) -> Any:
    """A stored value as Salesforce JSON renders it (datetimes as 2024-01-02T03:04:05.000+0000)."""
    if value is None:
        return None
    if ftype == "datetime" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_datetime_ms(int(value))
    return value
