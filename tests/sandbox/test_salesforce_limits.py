"""Daily API allowance, the Sforce-Limit-Info header, /limits, call counting and fault rendering."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import SalesforceGeneralError, SalesforceRefusedRequest

from connector.sandbox.faults import FaultRule
from connector.sandbox.salesforce import SalesforceLimits
from connector.sandbox.salesforce.testing import SalesforceSandbox

V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceSandbox]:
    tiny = SalesforceLimits(base_daily_requests=5, licenses=0)
    with SalesforceSandbox.start(tmp_path_factory.mktemp("sf-lim"), limits=tiny) as sb:
        yield sb


@pytest.fixture
def sb(server: SalesforceSandbox) -> SalesforceSandbox:
    server.fresh()
    return server


def test_limits_resource_and_header(sb: SalesforceSandbox) -> None:
    r = sb.http.get(f"{V}/limits")
    assert r.headers["Sforce-Limit-Info"] == "api-usage=1/5"
    assert r.json()["DailyApiRequests"] == {"Max": 5, "Remaining": 4}
    assert "DailyBulkV2QueryJobs" in r.json()
    assert "sforce-limit-info" not in sb.control().get("/services/data").headers


def test_request_limit_exceeded_then_rolls_over(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    for _ in range(5):
        sf.query("SELECT Id FROM User")
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT Id FROM User")
    assert exc.value.status == 403
    content: object = exc.value.content  # simple-salesforce types it bytes; it holds the parsed JSON errors
    assert content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    sb.clock.advance(86_400_000)
    sb.token = sb.state.issue_token()
    assert sb.simple_salesforce().query("SELECT Id FROM User")["totalSize"] == 1


def test_call_counter_folds_ids(sb: SalesforceSandbox) -> None:
    sf = sb.simple_salesforce()
    uid = sb.state.integration_user_id
    sf.User.get(uid)
    assert sb.counter.snapshot() == {f"GET {V}/sobjects/User/{{recordId}}": 1}


def test_server_faults_render_salesforce_errors(sb: SalesforceSandbox) -> None:
    sb.faults.add(FaultRule("500", path="*/query*"))
    sf = sb.simple_salesforce()
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query("SELECT Id FROM User")
    content: Any = exc.value.content
    assert exc.value.status == 500 and content[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    sb.faults.add(FaultRule("503"))
    r = sb.http.get(f"{V}/limits")
    assert r.status_code == 503 and r.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    sb.faults.add(FaultRule("429-retry", retry_after=7))
    r = sb.http.get(f"{V}/limits")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert sb.http.get(f"{V}/limits").status_code == 200


def test_lock_fault_single_and_collection(sb: SalesforceSandbox) -> None:
    sb.faults.add(FaultRule("lock", count=2))
    r = sb.http.post(f"{V}/sobjects/Account", json={"Name": "A"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    records = [{"attributes": {"type": "Account"}, "Name": n} for n in ("A", "B")]
    r = sb.http.post(f"{V}/composite/sobjects", json={"records": records})
    assert r.status_code == 200
    assert [x["errors"][0]["statusCode"] for x in r.json()] == ["UNABLE_TO_LOCK_ROW"] * 2
