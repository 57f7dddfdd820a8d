"""Salesforce's metadata write against respx: a custom field added through the sandbox's route, and a real
org's refusal of that route translated into who adds the field instead."""

from __future__ import annotations

import httpx
import pytest
import respx

from connector.systems.http import ApiError
from connector.systems.salesforce.metadata import SANDBOX_CUSTOM_FIELDS_PATH
from tests.systems.respx_vendors import SF, json_of, salesforce, sf_error, sf_granted

ROUTE = f"{SF}{SANDBOX_CUSTOM_FIELDS_PATH}"
BODY = {"sobject": "Lead", "apiName": "Connector_Score__c", "label": "Connector Score", "type": "Number",
        "precision": 5, "scale": 0}


def test_a_custom_field_is_posted_to_the_sandbox_route_in_one_call(router: respx.Router, sleeps: list[float]
                                                                   ) -> None:
    sf_granted(router)
    route = router.post(ROUTE).mock(return_value=httpx.Response(201, json={"created": True}))
    source, ledger = salesforce(router, sleeps)
    source.create_custom_field("Lead", BODY)
    assert route.call_count == 1 and ledger.total("salesforce") == 1 == source.calls_made()
    assert json_of(route.calls[0]) == BODY


def test_a_real_org_refuses_the_route_and_the_hint_says_an_admin_adds_it(router: respx.Router, sleeps: list[float]
                                                                         ) -> None:
    sf_granted(router)
    route = router.post(ROUTE).mock(return_value=sf_error(404, "NOT_FOUND", "The requested resource does not exist"))
    source, _ = salesforce(router, sleeps)
    with pytest.raises(ApiError) as caught:
        source.create_custom_field("Lead", BODY)
    err = caught.value
    assert (err.status, err.code, err.vendor_message) == (404, "NOT_FOUND", "The requested resource does not exist")
    assert err.hint == ("only the sandbox can add fields through the connector; in a real org an admin adds it "
                        "(docs/setup.md)")
    assert route.call_count == 1 and sleeps == []
