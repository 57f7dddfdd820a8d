"""``connector setup`` and ``connector validate --live``: make both systems hold what the mappings need.

Why this exists: the mapping files name HubSpot properties and Salesforce fields that a fresh portal or
org does not have (the cross-reference ids, the scorer's fields, declared custom fields), and the static
checks in ``connector.reconcile.loader`` only know the built-in schema. This package

- lists what the connector needs (``specs``: ``required_hubspot_properties`` / ``required_salesforce_fields``,
  pure);
- reads the live metadata and creates what is missing (``run_setup``; ``hubspot``, ``salesforce``): HubSpot
  properties through the properties API; Salesforce fields only in the sandbox, because real orgs need the
  Metadata API, which the connector does not use, so for a real org the report (``report``) lists the
  fields an admin must add;
- checks the mapping files against the live metadata (``live``, ``checks``, ``metadata``): unknown names,
  type mismatches, value-map values the target does not allow, read-only targets and targets written twice.

Existing properties and fields are never changed: a clash is reported as a problem.
"""

from __future__ import annotations

from .live import LiveCheck, length_suggestions, live_check, live_problems, require_live_fit
from .report import SetupReport, SystemReport, problem_json
from .run import run_setup
from .specs import (CONNECTOR_GROUP, CONNECTOR_GROUP_LABEL, CONNECTOR_STATUS_VALUES, DEAL_ID_FIELD, DEAL_ID_PROPERTY,
                    SCORE_FIELD, SCORE_PROPERTY, SCORER_DESCRIPTION, STATUS_FIELD, STATUS_PROPERTY, FieldSpec,
                    PropertySpec, required_hubspot_properties, required_salesforce_fields, scorer_fields,
                    scorer_properties)

__all__ = [
    "CONNECTOR_GROUP",
    "CONNECTOR_GROUP_LABEL",
    "CONNECTOR_STATUS_VALUES",
    "SCORE_PROPERTY",
    "STATUS_PROPERTY",
    "SCORE_FIELD",
    "STATUS_FIELD",
    "SCORER_DESCRIPTION",
    "DEAL_ID_PROPERTY",
    "DEAL_ID_FIELD",
    "PropertySpec",
    "FieldSpec",
    "SystemReport",
    "SetupReport",
    "required_hubspot_properties",
    "required_salesforce_fields",
    "scorer_properties",
    "scorer_fields",
    "run_setup",
    "LiveCheck",
    "live_check",
    "live_problems",
    "require_live_fit",
    "length_suggestions",
    "problem_json",
]
