"""The HubSpot adapter (read side): contacts, deals and engagements, incrementally and frugally.

- Initial load pages through the list API (100 per call, the higher rate limit).
- Incremental reads use CRM search sorted ascending by the modified-date property, paged by *keyset*
  (each query restarts at the last modified time seen, de-duplicating the ids already seen there)
  instead of by offset. That never pages past the 10,000-result cap, and a record that changes during
  the pull cannot shift an offset and hide another one. When a whole page shares one millisecond, the
  read switches to paging by ``hs_object_id`` inside that millisecond, so even 10,000+ records stamped
  with one time end.
- Deletions come from ``archived=true`` listings; merges from the survivor's ``hs_merged_object_ids``.
- Property metadata is read once per run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import httpx

from ..config import HubSpotConfig
from ..errors import ConfigError, ConfigProblem
from ..pull.cursor import Window
from ..store.staging import StagedRecord
from .http import DEFAULT_RETRY, ApiError, ErrorInfo, HttpLayer, RetryPolicy, StaticToken, Verdict, default_classify
from .ledger import CallLedger
from .pacing import DailyBudget, WindowPacer
from .tls import make_ssl_context
from .tokens import request_token, safe_code, safe_text

__all__ = ["HubSpotSource", "HubSpotOAuth", "MODIFIED_PROPERTY", "SEARCH_PAGE", "LIST_PAGE", "to_ms"]

SYSTEM = "hubspot"
LIST_PAGE = 100
SEARCH_PAGE = 200
ASSOCIATION_BATCH = 1000
HISTORY_BATCH = 50
EVENT_PAGE = 1000
#: the search rate limit is about 5 requests/s per account (4/s in older docs): stay under the smaller
SEARCH_PER_SECOND = 4
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate"}  # every other object: hs_lastmodifieddate

_HINTS = {
    "INVALID_AUTHENTICATION": "check the private app token (CONNECTOR_HUBSPOT_ACCESS_TOKEN) or the OAuth app",
    "EXPIRED_AUTHENTICATION": "the OAuth refresh token may have been revoked; reinstall the app",
    "MISSING_SCOPES": "give the private app the crm.objects.* read and write scopes it is missing",
    "VALIDATION_ERROR": "a value does not fit the HubSpot property; check the mapping for that property",
    "OBJECT_NOT_FOUND": "the record was deleted or merged in HubSpot",
}


def modified_property(object_type: str) -> str:
    return MODIFIED_PROPERTY.get(object_type, "hs_lastmodifieddate")


def to_ms(value: str | int | None) -> int | None:
    """HubSpot times: ISO-8601 strings ("2024-01-17T19:55:04.281Z") or epoch-ms strings."""
    if value is None or value == "":
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)


def _classify(response: httpx.Response) -> Verdict:
    if response.status_code == 429:
        try:
            if response.json().get("policyName") == "DAILY":
                return "budget"
        except ValueError:
            pass
    return default_classify(response)


def _describe(response: httpx.Response) -> ErrorInfo:
    try:
        body = response.json()
    except ValueError:
        return ErrorInfo(code=str(response.status_code), message=response.text[:300])
    category = str(body.get("category") or body.get("errorType") or response.status_code)
    message = str(body.get("message") or "")
    return ErrorInfo(code=category, message=message, hint=_HINTS.get(category, ""))


#: HubSpot's refusals of the OAuth credentials (400 ``{"status": "BAD_REFRESH_TOKEN", ...}``): the key to fix
_TOKEN_REFUSALS = {
    "BAD_CLIENT_ID": "[hubspot].client_id",
    "BAD_CLIENT_SECRET": "[hubspot].client_secret",
    "BAD_REFRESH_TOKEN": "[hubspot].refresh_token",
    "BAD_GRANT_TYPE": "[hubspot].auth",
}


class HubSpotOAuth:
    """OAuth access tokens from a refresh token, renewed a minute before they expire (and on 401).

    Token requests are retried like any call (`tokens.request_token`); only a refusal of the app's
    credentials or the refresh token is a configuration error.
    """

    def __init__(self, base_url: str, client_id: str, client_secret: str, refresh_token: str,
                 verify: Any, timeout: float, *, retry: RetryPolicy = DEFAULT_RETRY, sleep: Any = time.sleep,
                 transport: httpx.BaseTransport | None = None, ca_bundle: str | None = None) -> None:
        self._client = httpx.Client(base_url=base_url, verify=verify, timeout=timeout, trust_env=False,
                                    transport=transport)
        self._form = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": client_secret,
                      "refresh_token": refresh_token}
        self._retry, self._sleep, self._ca_bundle = retry, sleep, ca_bundle
        self._token: str | None = None
        self._expires_at = 0.0

    def close(self) -> None:
        self._client.close()

    def headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._expires_at - 60:
            self.refresh()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        """A new access token; raises ConfigError when HubSpot refuses the credentials, ApiError for any other
        refusal, TransientApiError or MalformedResponse when no answer was usable."""
        reply = request_token(self._client, "/oauth/v1/token", self._form, system=SYSTEM, retry=self._retry,
                              sleep=self._sleep, ca_bundle=self._ca_bundle)
        if not reply.granted:
            sent = [self._form["client_secret"], self._form["refresh_token"]]
            code = safe_code(reply.body.get("status") or reply.body.get("error"))
            message = safe_text(reply.body.get("message") or reply.body.get("error_description"), sent)
            key = _TOKEN_REFUSALS.get(code)
            if key is not None and reply.status in (400, 401, 403):
                raise ConfigError([ConfigProblem(
                    "hubspot", key, f"token refresh refused: {code}" + (f" ({message})" if message else ""),
                    "check [hubspot].client_id, client_secret and refresh_token (CONNECTOR_HUBSPOT_REFRESH_TOKEN); "
                    "a refresh token stops working when the app is uninstalled: install it again for a new one")])
            raise ApiError(SYSTEM, "POST /oauth/v1/token", reply.status, code, message or "(no message)",
                           "if this persists, check [hubspot].base_url and the app's settings")
        body = reply.body
        self._token = str(body["access_token"])
        try:
            lifetime = float(body.get("expires_in", 1800))
        except (TypeError, ValueError):
            lifetime = 1800.0
        self._expires_at = time.monotonic() + lifetime
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            self._form["refresh_token"] = body["refresh_token"]
        return True


class HubSpotSource:
    """Reads HubSpot for one run; counts every call in `ledger`."""

    system = SYSTEM

    def __init__(self, config: HubSpotConfig, ledger: CallLedger, *, prior_calls_today: int = 0,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Any = time.sleep) -> None:
        ca_bundle = str(config.ca_bundle) if config.ca_bundle else None
        verify = make_ssl_context(ca_bundle, system=SYSTEM)
        if config.auth == "private_app":
            if config.access_token is None:
                raise ConfigError("[hubspot].access_token is required for auth = 'private_app'")
            auth: Any = StaticToken(config.access_token.get_secret_value())
        else:
            if not (config.client_id and config.client_secret and config.refresh_token):
                raise ConfigError("[hubspot] OAuth needs client_id, client_secret and refresh_token")
            auth = HubSpotOAuth(config.base_url, config.client_id, config.client_secret.get_secret_value(),
                                config.refresh_token.get_secret_value(), verify, config.timeout_seconds,
                                retry=retry, sleep=sleep, transport=transport, ca_bundle=ca_bundle)
        self.http = HttpLayer(
            SYSTEM, config.base_url, auth=auth, ledger=ledger,
            budget=DailyBudget(SYSTEM, config.daily_limit, config.daily_budget_share, prior_calls=prior_calls_today),
            pacers={"default": WindowPacer(config.requests_per_10s, 10.0, sleep=sleep),
                    "search": WindowPacer(SEARCH_PER_SECOND, 1.0, headroom=1.0, sleep=sleep)},
            verify=verify, timeout=config.timeout_seconds, retry=retry, classify=_classify, describe=_describe,
            transport=transport, sleep=sleep, ca_bundle=ca_bundle,
        )
        self._properties: dict[str, list[dict[str, Any]]] = {}

    def close(self) -> None:
        self.http.close()
        if isinstance(self.http.auth, HubSpotOAuth):
            self.http.auth.close()

    def authenticate(self) -> None:
        """Get an OAuth access token before the first read (a private-app token has no grant: HubSpot checks it
        with the first call)."""
        if isinstance(self.http.auth, HubSpotOAuth):
            self.http.auth.headers()

    # ------------------------------------------------------------------ metadata

    def properties(self, object_type: str) -> list[dict[str, Any]]:
        """The object's property definitions (cached for the run)."""
        if object_type not in self._properties:
            body = self.http.json("GET", f"/crm/v3/properties/{object_type}", object_type=object_type)
            self._properties[object_type] = list(_field(body, "results", list, "properties"))
        return self._properties[object_type]

    def refresh_properties(self, object_type: str) -> None:
        """Forget the cached property definitions of ``object_type``: the next ``properties()`` reads them again."""
        self._properties.pop(object_type, None)

    def owners(self) -> dict[str, str]:
        """Owner id -> e-mail, so owner fields map across systems by the person behind them."""
        return {str(o["id"]): str(o["email"]) for page, _ in self._paged("/crm/v3/owners", {"limit": 500}, "owners")
                for o in page if o.get("email")}

    def _paged(self, path: str, params: dict[str, Any], object_type: str, after: str | None = None
               ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """GET `path` page after page by ``paging.next.after``; yields (results, token of the next page)."""
        while True:
            body = self.http.json("GET", path, object_type=object_type,
                                  params={**params, **({"after": after} if after else {})})
            results = _field(body, "results", list, object_type)
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if results:
                yield results, after
            if not after:
                return

    # ------------------------------------------------------------------ reads

    def list_pages(self, object_type: str, properties: Sequence[str], *, archived: bool = False,
                   after: str | None = None, associations: Sequence[str] = ()
                   ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Every record (or every archived record), 100 per call, in id order, with the token of the next page.

        Associated ids come along in the same call (`associations`), so a first load costs no extra calls.
        """
        params: dict[str, Any] = {"limit": LIST_PAGE, "properties": ",".join(properties),
                                  "archived": str(archived).lower()}
        if associations:
            params["associations"] = ",".join(associations)
        return self._paged(f"/crm/v3/objects/{object_type}", params, object_type, after)

    def changed_pages(self, object_type: str, window: Window, properties: Sequence[str]
                      ) -> Iterator[list[dict[str, Any]]]:
        """Records modified in `window`, ascending by modified time, by keyset; each record once."""
        prop = modified_property(object_type)
        wanted = sorted(set(properties) | {prop, "hs_object_id"})
        position = window.start
        seen_at_position: set[str] = set()
        while True:
            body = self._search(object_type, wanted, [
                {"propertyName": prop, "operator": "GTE", "value": str(position)},
                {"propertyName": prop, "operator": "LT", "value": str(window.end)},
            ], sort=prop)
            results = _field(body, "results", list, object_type)
            fresh = [r for r in results if not (self.modified_at(object_type, r) == position
                                                and str(r["id"]) in seen_at_position)]
            if fresh:
                yield fresh
            if len(results) < SEARCH_PAGE:
                return
            last = self.modified_at(object_type, results[-1])
            if all(self.modified_at(object_type, r) == last for r in results):
                # a whole page in one millisecond: finish that millisecond by id, then go past it
                done = {str(r["id"]) for r in results} | (seen_at_position if last == position else set())
                yield from self._one_millisecond(object_type, wanted, prop, last, skip=done)
                if last + 1 >= window.end:
                    return
                position, seen_at_position = last + 1, set()
                continue
            if last != position:
                position, seen_at_position = last, set()
            seen_at_position.update(str(r["id"]) for r in results if self.modified_at(object_type, r) == last)

    def _one_millisecond(self, object_type: str, wanted: list[str], prop: str, at: int, skip: set[str]
                         ) -> Iterator[list[dict[str, Any]]]:
        last_id = 0
        while True:
            body = self._search(object_type, wanted, [
                {"propertyName": prop, "operator": "EQ", "value": str(at)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
            ], sort="hs_object_id")
            results = _field(body, "results", list, object_type)
            fresh = [r for r in results if str(r["id"]) not in skip]
            if fresh:
                yield fresh
            if len(results) < SEARCH_PAGE:
                return
            last_id = int(results[-1]["id"])

    def _search(self, object_type: str, properties: list[str], filters: list[dict[str, str]], *, sort: str
                ) -> dict[str, Any]:
        body = {"filterGroups": [{"filters": filters}], "properties": properties, "limit": SEARCH_PAGE,
                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}]}
        result = self.http.json("POST", f"/crm/v3/objects/{object_type}/search", object_type=object_type,
                                pace="search", json_body=body)
        if not isinstance(result, dict):
            raise _malformed(object_type, "search response is not an object")
        return result

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]:
        """Associated ids for up to any number of records, 1,000 per batch read (v4), following per-record paging."""
        out: dict[str, list[str]] = {i: [] for i in ids}
        pending = [{"id": i} for i in ids]
        while pending:
            chunk, pending = pending[:ASSOCIATION_BATCH], pending[ASSOCIATION_BATCH:]
            body = self.http.json("POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/read",
                                  object_type=f"{from_type}>{to_type}", json_body={"inputs": chunk})
            for result in _field(body, "results", list, from_type):
                source = str((result.get("from") or {}).get("id"))
                out.setdefault(source, []).extend(str(t.get("toObjectId")) for t in result.get("to") or [])
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    pending.append({"id": source, "after": after})
        return out

    def present(self, object_type: str, ids: Sequence[str], *, archived: bool = False) -> set[str]:
        """Which of `ids` exist (live, or archived), 100 per batch read; a merged-away id counts as present.

        Presence is read from the records returned (an id, or one its survivor's ``hs_merged_object_ids``
        lists), not only from the errors: HubSpot does not document that missing ids come back as errors."""
        found: set[str] = set()
        for start in range(0, len(ids), LIST_PAGE):
            chunk = list(ids[start:start + LIST_PAGE])
            body = self.http.json("POST", f"/crm/v3/objects/{object_type}/batch/read", object_type=object_type,
                                  params={"archived": str(archived).lower()},
                                  json_body={"properties": ["hs_object_id", "hs_merged_object_ids"],
                                             "inputs": [{"id": i} for i in chunk]})
            missing = {str(i) for e in (body or {}).get("errors") or [] for i in (e.get("context") or {}).get("ids") or []}
            returned: set[str] = set()
            for record in (body or {}).get("results") or []:
                returned.add(str(record.get("id")))
                merged = (record.get("properties") or {}).get("hs_merged_object_ids") or ""
                returned.update(x.strip() for x in str(merged).split(";") if x.strip())
            found.update(i for i in chunk if i in returned and i not in missing)
        return found

    def property_times(self, object_type: str, wanted: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        """When each wanted property last changed, per record: ``{id: {property: epoch ms}}``.

        Read from ``propertiesWithHistory`` (50 records per batch read, HubSpot's limit with history).
        The connector's own writes count with their time: the value it copied was set before then, and a
        later edit on the other side is later still.
        """
        out: dict[str, dict[str, int]] = {}
        ids = sorted(wanted)
        for start in range(0, len(ids), HISTORY_BATCH):
            chunk = ids[start:start + HISTORY_BATCH]
            props = sorted(set().union(*(wanted[i] for i in chunk)))
            body = self.http.json("POST", f"/crm/v3/objects/{object_type}/batch/read", object_type=f"{object_type}:history",
                                  json_body={"properties": [], "propertiesWithHistory": props,
                                             "inputs": [{"id": i} for i in chunk]})
            for record in _field(body, "results", list, object_type):
                times: dict[str, int] = {}
                for prop, entries in (record.get("propertiesWithHistory") or {}).items():
                    stamps = [t for e in entries or [] if (t := to_ms(e.get("timestamp"))) is not None]
                    if stamps:
                        times[prop] = max(stamps)
                if times:
                    out[str(record.get("id"))] = times
        return out

    def web_event_pages(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        """Contacts' page views and form submissions in `window` (Events API), oldest first, 1,000 per call."""
        params = {"objectType": "contact", "occurredAfter": str(window.start), "occurredBefore": str(window.end),
                  "limit": EVENT_PAGE, "sort": "occurredAt"}
        return (page for page, _ in self._paged("/events/v3/events", params, "web_events"))

    def email_event_pages(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        """Marketing email events (deliveries, opens, clicks) in `window`, 1,000 per call."""
        offset: str | None = None
        while True:
            params: dict[str, Any] = {"startTimestamp": window.start, "endTimestamp": window.end - 1,
                                      "limit": EVENT_PAGE}
            if offset:
                params["offset"] = offset
            body = self.http.json("GET", "/email/public/v1/events", object_type="email_events", params=params)
            events = _field(body, "events", list, "email_events")
            if events:
                yield events
            offset = body.get("offset")
            if not body.get("hasMore") or not offset:
                return

    # ------------------------------------------------------------------ conversion

    def modified_at(self, object_type: str, record: dict[str, Any]) -> int:
        props = record.get("properties") or {}
        value = props.get(modified_property(object_type)) or record.get("updatedAt")
        ms = to_ms(value)
        if ms is None:
            raise _malformed(object_type, f"record {record.get('id')} has no modified time")
        return ms

    def to_staged(self, object_type: str, record: dict[str, Any], *, archived: bool = False) -> list[StagedRecord]:
        """The record itself, plus a merged-away marker for every id it absorbed."""
        props: dict[str, Any] = dict(record.get("properties") or {})
        record_id = str(record["id"])
        linked = record.get("associations")
        if isinstance(linked, dict):  # v3 list/get shape, or ids attached after a v4 batch read
            props["_associations"] = {
                kind: sorted({str(x.get("id")) for x in (v.get("results") or [])}) if isinstance(v, dict) else list(v)
                for kind, v in linked.items()}
        modified = self.modified_at(object_type, record)
        email = props.get("email")
        staged = [StagedRecord(
            system=SYSTEM, object_type=object_type, record_id=record_id, modified_at=modified, data=props,
            deleted=archived or bool(record.get("archived")),
            email_norm=email.strip().casefold() if isinstance(email, str) and email.strip() else None,
        )]
        for absorbed in (props.get("hs_merged_object_ids") or "").split(";"):
            absorbed = absorbed.strip()
            if absorbed and absorbed != record_id:
                staged.append(StagedRecord(system=SYSTEM, object_type=object_type, record_id=absorbed,
                                           modified_at=modified, data={}, deleted=True, merged_into=record_id))
        return staged


def _field(body: Any, key: str, kind: type, object_type: str) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(key), kind):
        raise _malformed(object_type, f"expected {key!r} as {kind.__name__}")
    return body[key]


def _malformed(object_type: str, what: str) -> Exception:
    from .http import MalformedResponse

    return MalformedResponse(f"hubspot {object_type}: unexpected response shape ({what}); nothing was stored "
                             "and no cursor moved")
