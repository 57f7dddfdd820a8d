"""HubSpot look-ups before a create (`hubspot.lookups`, through `HubSpotSource.find`) against respx: a 207
error and a 404 both mean "not found", 100 addresses per batch read."""

from __future__ import annotations

import httpx
import respx

from tests.systems.respx_vendors import HS, hs_error, hs_not_found, hs_record, hubspot, json_of

CONTACTS = f"{HS}/crm/v3/objects/contacts"


def test_lookup_by_email_treats_a_207_error_and_a_404_as_not_found(router: respx.Router, sleeps: list[float]
                                                                   ) -> None:
    known = hs_record(7, "2024-09-11T13:27:39.356Z", email="ada@example.test")
    route = router.post(f"{CONTACTS}/batch/read").mock(side_effect=[
        httpx.Response(207, json={"status": "COMPLETE", "results": [known], "numErrors": 1,
                                  "errors": [hs_not_found("bob@example.test")]}),
        hs_error(404, "OBJECT_NOT_FOUND", "Could not get some CONTACT objects, they may be deleted or not exist."),
    ])
    source, _ = hubspot(router, sleeps)
    emails = ["ada@example.test", "bob@example.test"] + [f"p{i:03}@example.test" for i in range(100)]
    found = source.find([(e, None) for e in emails], fields={"contacts": ["firstname"]},
                        ref_field="HubSpot_Contact_Id__c")
    assert [(s.record_id, s.email_norm) for s in found] == [("7", "ada@example.test")]
    assert route.call_count == 2 and json_of(route.calls[0])["idProperty"] == "email"
