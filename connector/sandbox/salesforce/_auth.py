"""Logins: the OAuth 2.0 token endpoint and the SOAP ``login()`` simple-salesforce uses for passwords."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import parse_qsl
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from ._state import SalesforceState

__all__ = ["token_endpoint", "soap_login"]


def _base_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _grant(state: SalesforceState, request: Request, *, client_credentials: bool) -> dict[str, str]:
    token = state.issue_token()
    base = _base_url(request)
    issued = str(state.clock.now_ms())
    ident = f"{base}/id/{state.org_id}/{state.integration_user_id}"
    sig = base64.b64encode(hmac.new(state.client_secret.encode(), f"{ident}{issued}".encode(), hashlib.sha256).digest())
    out = {"access_token": token, "instance_url": base, "id": ident, "token_type": "Bearer", "issued_at": issued,
           "signature": sig.decode()}
    if client_credentials:
        out["api_instance_url"] = base
        out["scope"] = "api"
    return out


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def token_endpoint(state: SalesforceState):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        grant = str(form.get("grant_type") or "")
        client_id, client_secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return _oauth_error("invalid_client", "invalid client credentials")
        if grant not in ("password", "client_credentials"):
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if client_id != state.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if client_secret != state.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if grant == "password":
            if form.get("username") != state.username or form.get("password") != state.password + state.security_token:
                return _oauth_error("invalid_grant", "authentication failure")
            return JSONResponse(_grant(state, request, client_credentials=False))
        return JSONResponse(_grant(state, request, client_credentials=True))

    return endpoint


_FAULT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:sf="urn:fault.partner.soap.sforce.com" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode>'
    '<faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring>'
    '<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>'
    '<sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage>'
    '</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>'
)


def _tag(xml: str, name: str) -> str | None:
    m = re.search(rf"<(?:\w+:)?{name}>(.*?)</(?:\w+:)?{name}>", xml, re.S)
    return m.group(1) if m else None


def soap_login(state: SalesforceState):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        version = request.path_params["version"]
        xml = (await request.body()).decode("utf-8", "replace")
        from html import unescape

        username, password = unescape(_tag(xml, "username") or ""), unescape(_tag(xml, "password") or "")
        if username != state.username or password != state.password + state.security_token:
            return Response(_FAULT, status_code=500, media_type="text/xml")
        token = state.issue_token()
        base = _base_url(request)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
            "<loginResponse><result>"
            f"<metadataServerUrl>{base}/services/Soap/m/{version}/{state.org_id[:15]}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{base}/services/Soap/u/{version}/{state.org_id[:15]}</serverUrl>"
            f"<sessionId>{escape(token)}</sessionId><userId>{state.integration_user_id}</userId>"
            f"<userInfo><organizationId>{state.org_id}</organizationId><userName>{escape(state.username)}</userName>"
            "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return Response(body, media_type="text/xml")

    return endpoint
