"""respx stand-ins for HubSpot and Salesforce: adapters built on a respx router, and vendor-shaped answers.

The adapters take an httpx transport, a retry policy and a sleep; these helpers pass a respx router as the
transport (``httpx.MockTransport(router.handler)``), a fast policy and a sleep that only records, so the
unit tests need neither the sandbox nor wall time. The conftests of ``hubspot/`` and ``salesforce/`` offer the
fixtures `router_fixture` and `sleeps_fixture` (requested as ``router`` and ``sleeps``). Shapes follow
/work/shared/api-facts.md (source keys such as HS-ERR, SF-ERR name the vendor page each shape was read in).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from connector.config import HubSpotConfig, SalesforceConfig
from connector.systems.http import RetryPolicy
from connector.systems.hubspot import HubSpotSource
from connector.systems.ledger import CallLedger
from connector.systems.salesforce import SalesforceSource

HS = "https://api.hubapi.test"
SF = "https://acme.my.salesforce.test"
SF_API = f"{SF}/services/data/v62.0"
SF_TOKEN = f"{SF}/services/oauth2/token"
HS_TOKEN = f"{HS}/oauth/v1/token"
ATTEMPTS = 4
#: fast and deterministic: the injected sleep only records what the adapter would have waited
FAST = RetryPolicy(attempts=ATTEMPTS, initial=0.5, maximum=8.0)
#: SF B1: a client-credentials grant (api-facts.md B1)
SF_GRANT = {"access_token": "00Dxx0000000001!AQ.first", "instance_url": SF, "token_type": "Bearer",
            "issued_at": "1699999999999", "signature": "c2lnbmF0dXJl", "id": f"{SF}/id/00Dxx0000000001/005xx0000001"}


@pytest.fixture(name="router")
def router_fixture() -> Iterator[respx.Router]:
    """A strict router: an unrouted request fails the test, and so does a route the test never reached."""
    mock = respx.Router(assert_all_called=True, assert_all_mocked=True)
    yield mock
    mock.assert_all_called()


@pytest.fixture(name="sleeps")
def sleeps_fixture() -> list[float]:
    """What the adapters would have waited, in order (they never wait for real)."""
    return []


def json_of(call: respx.models.Call) -> Any:
    """The JSON body a call sent."""
    return json.loads(call.request.content)


def hubspot(router: respx.Router, sleeps: list[float], **overrides: Any) -> tuple[HubSpotSource, CallLedger]:
    """A HubSpotSource (private-app token unless `overrides` say otherwise) talking to `router`."""
    values: dict[str, Any] = {"base_url": HS, "access_token": SecretStr("pat-na1-test")}
    values.update(overrides)
    ledger = CallLedger()
    source = HubSpotSource(HubSpotConfig.model_validate(values), ledger, transport=httpx.MockTransport(router.handler),
                           retry=FAST, sleep=sleeps.append)
    return source, ledger


def salesforce(router: respx.Router, sleeps: list[float], **overrides: Any) -> tuple[SalesforceSource, CallLedger]:
    """A SalesforceSource (client credentials unless `overrides` say otherwise) talking to `router`."""
    values: dict[str, Any] = {"instance_url": SF, "auth": "client_credentials", "client_id": "3MVG9client",
                              "client_secret": SecretStr("consumer-secret-1234")}
    values.update(overrides)
    ledger = CallLedger()
    source = SalesforceSource(SalesforceConfig.model_validate(values), ledger,
                              transport=httpx.MockTransport(router.handler), retry=FAST, sleep=sleeps.append)
    return source, ledger


# ---------------------------------------------------------------------------------------------- HubSpot shapes


def hs_record(record_id: str | int, modified: str | int, **props: Any) -> dict[str, Any]:
    """A SimplePublicObject (HS-SPEC; api-facts.md A2): every property value a string."""
    return {"id": str(record_id),
            "properties": {"hs_object_id": str(record_id), "lastmodifieddate": str(modified), **props},
            "createdAt": "2024-01-17T19:55:04.281Z", "updatedAt": "2024-09-11T13:27:39.356Z", "archived": False}


def hs_page(results: list[dict[str, Any]], after: str | None = None) -> httpx.Response:
    """A list/search page; ``paging.next.after`` only when there is more (api-facts.md A2, A4)."""
    body: dict[str, Any] = {"results": results}
    if after is not None:
        body["paging"] = {"next": {"after": after, "link": f"{HS}/crm/v3/objects/contacts?after={after}"}}
    return httpx.Response(200, json=body)


def hs_error(status: int, category: str, message: str, **extra: Any) -> httpx.Response:
    """HubSpot's error body (HS-ERR; api-facts.md A9): status, message, category, correlationId."""
    return httpx.Response(status, json={"status": "error", "message": message, "category": category,
                                        "correlationId": "a43683b0-5717-4ceb-80b4-104d02915d8c", **extra})


def hs_not_found(*ids: str) -> dict[str, object]:
    """One error of a 207 batch read naming the ids it could not find in ``context.ids`` (🟡: the shape is
    undocumented, api-facts.md A3 open item 3; HubSpot/hubspot-api-php#619 reports the 207 with errors)."""
    return {"status": "error", "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some CONTACT objects, they may be deleted or not exist.",
            "context": {"ids": list(ids)}}


def hs_rate_limited(policy: str, retry_after: str | None = None) -> httpx.Response:
    """A 429 as HS-USAGE shows it (api-facts.md A9): ``errorType`` RATE_LIMIT and the ``policyName`` hit."""
    message = "You have reached your daily limit." if policy == "DAILY" else "You have reached your ten-secondly limit."
    return httpx.Response(429, headers={"Retry-After": retry_after} if retry_after else None,
                          json={"status": "error", "message": message, "errorType": "RATE_LIMIT",
                                "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24", "policyName": policy,
                                "requestId": "3d3e35b7-0dae-4b9f-a6e3-9c230cbcf8dd"})


# ---------------------------------------------------------------------------------------------- Salesforce shapes


def sf_granted(router: respx.Router, *tokens: str) -> respx.Route:
    """The token endpoint granting `tokens` in turn (one grant of SF_GRANT's token when none are named)."""
    answers = [httpx.Response(200, json={**SF_GRANT, "access_token": t}) for t in tokens or (SF_GRANT["access_token"],)]
    return router.post(SF_TOKEN).mock(side_effect=answers)


def sf_error(status: int, code: str, message: str, fields: list[str] | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
    """Salesforce's error body, a JSON array (SF-ERR; api-facts.md B7)."""
    return httpx.Response(status, headers=headers,
                          json=[{"message": message, "errorCode": code, **({"fields": fields} if fields else {})}])


def sf_record(sobject: str, record_id: str, modstamp: str = "2024-05-20T20:49:32.000+0000", **fields: Any
              ) -> dict[str, Any]:
    """A query record (SF-QUERY; api-facts.md B2)."""
    return {"attributes": {"type": sobject, "url": f"/services/data/v62.0/sobjects/{sobject}/{record_id}"},
            "Id": record_id, "SystemModstamp": modstamp, "IsDeleted": False, **fields}


def sf_query(records: list[dict[str, Any]], next_url: str | None = None, total: int | None = None
             ) -> dict[str, Any]:
    """A query page: ``done`` false and ``nextRecordsUrl`` while more remain (SF-QUERY; api-facts.md B2)."""
    body: dict[str, Any] = {"totalSize": total if total is not None else len(records), "done": next_url is None,
                            "records": records}
    if next_url is not None:
        body["nextRecordsUrl"] = next_url
    return body


def sf_composite(*subresponses: tuple[str, int, Any]) -> httpx.Response:
    """A Composite answer (api-facts.md B3a): one entry per subrequest, by referenceId."""
    return httpx.Response(200, json={"compositeResponse": [
        {"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": ref}
        for ref, status, body in subresponses]})
