"""Live checks of the mapping files against both systems' metadata, before anything is planned or written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ConfigProblem
from ..reconcile.loader import SCORING_FILE
from ..reconcile.mapping import ContactMapping, Mappings
from ..systems.hubspot import HubSpotSource
from ..systems.salesforce import SalesforceSource
from .checks import check_length, check_mapping, check_scorer_outputs
from .coverage import check_value_coverage
from .metadata import Creatable, LiveMetadata
from .specs import mapped_names, mapping_files, required_hubspot_properties, required_salesforce_fields


@dataclass(frozen=True)
class LiveCheck:
    """What the live metadata says of the mapping files: problems (the sync cannot run as mapped) and
    suggestions (it can, but a change would spare parked records, e.g. a truncate)."""

    problems: list[ConfigProblem]
    suggestions: list[ConfigProblem]


def live_check(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings) -> LiveCheck:
    """Check the mapping files against the live field metadata of both systems.

    Catches what the static schema cannot know: properties/fields missing from this portal or org,
    types that do not fit the transforms, value-map values the target does not allow, read-only targets
    of a field that writes there, one target written by two unified fields (Salesforce names compare
    ignoring case, as Salesforce does), text longer than a Salesforce field holds, and (with a scoring
    file) the scorer's output properties and fields. Reads each object's
    metadata once (cached by the adapter for the run: one properties call per HubSpot object, one
    describe per Salesforce object, fewer when the run already read them).
    """
    live = LiveMetadata(hubspot, salesforce, creatable(mappings))
    for kind, m in mapping_files(mappings):
        check_mapping(live, kind, m)
        check_value_coverage(live, kind, m)
    if mappings.scoring is not None:
        check_scorer_outputs(live, str(Path(mappings.contacts.file).with_name(SCORING_FILE)))
    return LiveCheck(live.problems, live.suggestions)


def creatable(mappings: Mappings) -> frozenset[Creatable]:
    """The targets `connector setup` makes when missing: the connector's own and the declared custom ones."""
    return frozenset({("hubspot", p.object_type, p.name) for p in required_hubspot_properties(mappings)}
                     | {("salesforce", f.sobject, f.api_name.lower()) for f in required_salesforce_fields(mappings)})


def uncreatable_missing(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings
                        ) -> list[tuple[str, str, str, ConfigProblem]]:
    """(system, object, name, problem) for each mapped name setup does not create that the portal or org lacks
    (or spells differently), in the live check's own words: `setup` reports them as problems, so it and
    `validate --live` never disagree about a name. Reads the metadata setup reads anyway."""
    live = LiveMetadata(hubspot, salesforce, creatable(mappings))
    out: list[tuple[str, str, str, ConfigProblem]] = []
    for system, obj, name, file, key in mapped_names(mappings):
        if (system, obj, name.lower() if system == "salesforce" else name) in live.creates:
            continue
        before = len(live.problems)
        if system == "hubspot":
            live.hubspot_property(file, key, obj, name)
        else:
            live.salesforce_field(file, key, obj, name)
        out += [(system, obj, name, p) for p in live.problems[before:]]
    return out


def live_problems(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings) -> list[ConfigProblem]:
    """The problems of ``live_check``; an empty list means the mappings fit (the CLI raises
    ``ConfigError(problems)`` otherwise)."""
    return live_check(hubspot, salesforce, mappings).problems


def require_live_fit(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings) -> list[ConfigProblem]:
    """``live_check`` before anything is planned or written (`plan`, `sync`, `push`): raises
    ``ConfigError`` listing every problem (exit code 2, nothing written), else returns the suggestions.

    Why: a mapping into a read-only or missing target passes the static checks, and would otherwise be
    planned as hundreds of writes and park every one of them."""
    found = live_check(hubspot, salesforce, mappings)
    if found.problems:
        raise ConfigError(found.problems)
    return found.suggestions


def length_suggestions(salesforce: SalesforceSource, mappings: Mappings) -> list[ConfigProblem]:
    """The truncate suggestions alone, from the Salesforce describes (what `connector setup` shows; the
    describes setup read are cached, so this costs no call unless setup created a field)."""
    live = LiveMetadata(None, salesforce)  # HubSpot is not consulted
    for _kind_name, m in mapping_files(mappings):
        for f in m.fields:
            for sobject, name in f.salesforce.items():
                found = live.sf(sobject).get(name.lower())
                if found is not None:
                    side = f".{sobject.lower()}" if isinstance(m, ContactMapping) else ""
                    key = f"fields.{f.name}.salesforce{side}"
                    check_length(live, m.file, key, sobject, f, found)
    return live.suggestions
