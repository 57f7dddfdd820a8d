"""``run_setup``: both systems' setup and the truncate suggestions, as one report with its API calls."""

from __future__ import annotations

from ..reconcile.mapping import Mappings
from ..systems.hubspot import HubSpotSource
from ..systems.salesforce import SalesforceSource
from .hubspot import setup_hubspot
from .live import length_suggestions, uncreatable_missing
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
    Existing properties or fields with the wrong type are reported as problems, never changed; so is a mapped
    name that setup does not create (not declared under ``[custom_fields]``, or a standard Salesforce field)
    and that the portal or org lacks, in the words of `validate --live` (checked first, from the same reads).
    """
    before = {"hubspot": hubspot.calls_made(), "salesforce": salesforce.calls_made()}
    report = SetupReport(applied=apply)
    for system, obj, name, p in uncreatable_missing(hubspot, salesforce, mappings):
        rep = report.hubspot if system == "hubspot" else report.salesforce
        rep.problems.append({"object": obj, "name" if system == "hubspot" else "api_name": name,
                             "message": p.message, "hint": p.hint, "source": p.source, "key": p.key})
    setup_hubspot(hubspot, required_hubspot_properties(mappings), apply, report.hubspot)
    setup_salesforce(salesforce, required_salesforce_fields(mappings), apply and create_salesforce_fields,
                      report.salesforce)
    report.suggestions = [problem_json(p) for p in length_suggestions(salesforce, mappings)]
    report.api_calls = {"hubspot": hubspot.calls_made() - before["hubspot"],
                        "salesforce": salesforce.calls_made() - before["salesforce"]}
    return report
