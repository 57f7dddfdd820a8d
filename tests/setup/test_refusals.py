"""`connector setup` when a system refuses to create metadata (respx, no sandbox): each refusal is a problem in
the report, with the vendor's answer and the fix, and one call per creation."""

from __future__ import annotations

import httpx
import respx

from connector.setup import CONNECTOR_GROUP, FieldSpec, PropertySpec, SystemReport
from connector.setup.hubspot import setup_hubspot
from connector.setup.salesforce import setup_salesforce
from connector.systems.salesforce.metadata import SANDBOX_CUSTOM_FIELDS_PATH
from tests.systems.respx_vendors import HS, SF, SF_API, hs_error, hubspot, salesforce, sf_error, sf_granted

SCORE = PropertySpec("contacts", "connector_score", "Connector score", "number", "number")
SCORE_FIELD = FieldSpec("Lead", "Connector_Score__c", "Connector Score", "Number", precision=5, scale=0)


def strict_router() -> respx.Router:
    return respx.Router(assert_all_called=True, assert_all_mocked=True)


def test_a_refused_property_is_a_problem_naming_the_scope_and_a_conflict_is_present() -> None:
    router, sleeps = strict_router(), list[float]()
    router.get(f"{HS}/crm/v3/properties/contacts").mock(return_value=httpx.Response(200, json={"results": []}))
    router.get(f"{HS}/crm/v3/properties/contacts/groups").mock(return_value=httpx.Response(200, json={"results": []}))
    router.post(f"{HS}/crm/v3/properties/contacts/groups").mock(return_value=httpx.Response(201, json={}))
    creates = router.post(f"{HS}/crm/v3/properties/contacts").mock(side_effect=[
        hs_error(403, "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call."),
        hs_error(409, "OBJECT_ALREADY_EXISTS", "A property named 'connector_status' already exists.")])
    source, ledger = hubspot(router, sleeps)
    status = PropertySpec("contacts", "connector_status", "Connector status", "string", "text")
    rep = SystemReport()
    setup_hubspot(source, [SCORE, status], True, rep)
    assert rep.to_json() == {
        "created": [{"object": "contacts", "name": CONNECTOR_GROUP, "kind": "group"}],
        "present": [{"object": "contacts", "name": "connector_status"}],
        "missing": [],
        "problems": [{"object": "contacts", "name": "connector_score",
                      "message": "HubSpot refused to create it (403 MISSING_SCOPES): This app hasn't been granted all "
                                 "required scopes to make this call.",
                      "hint": "give the private app the crm.schemas.contacts.write scope"}]}
    assert creates.call_count == 2 and ledger.total() == 5 and sleeps == []
    router.assert_all_called()


def test_a_real_org_refusing_the_field_route_lists_the_field_for_an_admin() -> None:
    router, sleeps = strict_router(), list[float]()
    sf_granted(router)
    router.get(f"{SF_API}/sobjects/Lead/describe").mock(return_value=httpx.Response(200, json={"fields": []}))
    route = router.post(f"{SF}{SANDBOX_CUSTOM_FIELDS_PATH}").mock(return_value=sf_error(
        404, "NOT_FOUND", "The requested resource does not exist"))
    source, ledger = salesforce(router, sleeps)
    rep = SystemReport()
    setup_salesforce(source, [SCORE_FIELD], True, rep)
    assert rep.to_json() == {
        "created": [], "present": [], "missing": [SCORE_FIELD.to_json()],
        "problems": [{"object": "Lead", "api_name": "Connector_Score__c",
                      "message": "could not create it (404 NOT_FOUND): The requested resource does not exist",
                      "hint": "only the sandbox can add fields through the connector; in a real org an admin adds "
                              "it (docs/setup.md)"}]}
    assert route.call_count == 1 and ledger.total() == 2
    router.assert_all_called()
