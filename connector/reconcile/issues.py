"""The values the connector cannot carry, described for `connector issues` (pure): which unified field, which
transform refused the value and why, and what fixes it.

An `Issue` says "job_title: truncate: cannot convert '...': too long". Here it becomes its parts (the value
is kept apart, never in the reason) and a fix in the file's own terms: a value map entry or a default for an
unmapped picklist value, the number corrected at its source for a phone, the user added for an unknown
owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .records import Issue

__all__ = ["DescribedIssue", "describe", "fix_for"]

_TRANSFORM = re.compile(r"^(?P<kind>[\w-]+): cannot convert (?P<rest>.*)$", re.S)


@dataclass(frozen=True, slots=True)
class DescribedIssue:
    """An issue in its parts: `kind` is the transform's name ("" when none refused it), `reason` its words
    without the value."""

    unified_field: str
    kind: str
    reason: str


def describe(issue: Issue) -> DescribedIssue:
    """The unified field, the transform and the reason of an issue's message (the value left out of it)."""
    unified, _, rest = issue.message.partition(": ")
    if not rest:
        return DescribedIssue("", "", issue.message[:255])
    found = _TRANSFORM.match(rest)
    if found is None:
        return DescribedIssue(unified, "", rest[:255])
    reason = found.group("rest").rsplit(": ", 1)[-1]
    return DescribedIssue(unified, found.group("kind"), reason[:255])


def fix_for(kind: str, unified_field: str, system: str, record_id: str, reason: str,
            mapping_file: str = "mappings/contacts.toml") -> str:
    """What fixes one issue, in the mapping file's terms where the file can fix it."""
    where = f"{system} record {record_id}"
    if kind == "map":
        label = "to_salesforce" if "to_salesforce" in reason else "to_hubspot"
        return (f"add the value under [fields.{unified_field}.values.{label}] in {mapping_file}, or set "
                f"default_{label} in [fields.{unified_field}.values]")
    if kind == "phone":
        return (f"correct the number in the {where} (with its country code), or set default_region in "
                f"{mapping_file} if most numbers without one are from another country")
    if kind == "owner":
        return f"make the owner a user in both systems with the same e-mail address, or reassign the {where}"
    if kind == "truncate" or "too long" in reason:
        return f'add "truncate" to fields.{unified_field}.transforms in {mapping_file}, or shorten it in the {where}'
    if kind == "employee_range":
        return f"correct the employee count in the {where}"
    if kind == "stage":
        return f"add the pipeline's stages to the stage map in {mapping_file}"
    if kind:
        return f"correct the value in the {where} ({kind}: {reason})"
    return f"look at the {where}: {reason}"
