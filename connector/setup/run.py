"""``run_setup``: both systems' setup and the truncate suggestions, as one report with its API calls."""

from __future__ import annotations

from ..reconcile.mapping import Mappings
from ..systems.hubspot import HubSpotSource
from ..systems.salesforce import SalesforceSource
from .hubspot import setup_hubspot
from .live import length_suggestions
from .report import SetupReport, problem_json
from .salesforce import setup_salesforce
from .specs import required_hubspot_properties, required_salesforce_fields


def run_setup(hubspot: HubSpotSource, salesforce: SalesforceSource, mappings: Mappings, *, apply: bool,
              create_salesforce_fields: bool) -> SetupReport:
    """Compare what the connector needs with the live metadata and create what is missing.

    One properties call per HubSpot object and one describe per Salesforce object (plus one groups call
    when the connector's group may be missing, and one call per creation). With ``apply`` it creates the
    HubSpot group and properties; Salesforce fields only with ``create_salesforce_fields`` as well (the
    CLI sets it when the target is the sandbox). Idempotent: a second run finds everything present.
    Existing properties or fields with the wrong type are reported as problems, never changed.
    """
    before = {"hubspot": hubspot.calls_made(), "salesforce": salesforce.calls_made()}
    report = SetupReport(applied=apply)
    setup_hubspot(hubspot, required_hubspot_properties(mappings), apply, report.hubspot)
    setup_salesforce(salesforce, required_salesforce_fields(mappings), apply and create_salesforce_fields,
                      report.salesforce)
    report.suggestions = [problem_json(p) for p in length_suggestions(salesforce, mappings)]
    report.api_calls = {"hubspot": hubspot.calls_made() - before["hubspot"],
                        "salesforce": salesforce.calls_made() - before["salesforce"]}
    return report
