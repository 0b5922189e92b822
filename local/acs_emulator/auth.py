"""HMAC-SHA256 request authentication, checked the way ACS checks it.

The client signs ``METHOD\\n<path?query>\\n<x-ms-date>;<host>;<x-ms-content-sha256>`` with the
base64-decoded access key and sends
``Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<b64>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from local.acs_emulator.errors import error_response

REQUIRED_SIGNED_HEADERS = ("x-ms-date", "host", "x-ms-content-sha256")
MAX_CLOCK_SKEW_S = 15 * 60
_PREFIX = "HMAC-SHA256 "

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def sign(access_key: str, method: str, path_and_query: str, date: str, host: str, body_hash: str) -> str:
    """The signature a client computes (used by tests and by the control client for symmetry)."""
    to_sign = f"{method.upper()}\n{path_and_query}\n{date};{host};{body_hash}"
    digest = hmac.new(base64.b64decode(access_key), to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_headers(access_key: str, method: str, url_path: str, host: str, body: bytes) -> dict[str, str]:
    """Headers of a correctly signed request (``url_path`` includes the query string)."""
    date = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    body_hash = content_hash(body)
    signature = sign(access_key, method, url_path, date, host, body_hash)
    names = ";".join(REQUIRED_SIGNED_HEADERS)
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": body_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders={names}&Signature={signature}",
    }


def _requoted(raw_path: str) -> str:
    """The path as the SDK quoted it before the HTTP client normalized it (``=`` kept as ``%3D``)."""
    path, sep, query = raw_path.partition("?")
    segments = [quote(unquote(segment), safe=":@!$'()*,;") for segment in path.split("/")]
    return "/".join(segments) + sep + query


def _unauthorized(message: str) -> web.Response:
    return error_response(401, "Unauthorized", message)


def _denied() -> web.Response:
    return error_response(401, "Denied", "Denied by the resource provider.")


def _parse_authorization(value: str) -> tuple[list[str], str] | None:
    if not value.startswith(_PREFIX):
        return None
    parts: dict[str, str] = {}
    for item in value[len(_PREFIX) :].split("&"):
        key, sep, val = item.partition("=")
        if not sep:
            return None
        parts[key.strip()] = val.strip()
    if "SignedHeaders" not in parts or "Signature" not in parts:
        return None
    return [h.strip().lower() for h in parts["SignedHeaders"].split(";")], parts["Signature"]


async def check_request(request: web.Request, access_key: str) -> web.Response | None:
    """Return the 401 ACS would answer, or None when the request is correctly signed."""
    header = request.headers.get("Authorization")
    if not header:
        return _unauthorized("Authorization header is missing.")
    parsed = _parse_authorization(header)
    if parsed is None:
        return _unauthorized("Authorization header is malformed; expected HMAC-SHA256 SignedHeaders=...")
    signed, signature = parsed
    if any(h not in signed for h in REQUIRED_SIGNED_HEADERS):
        return _unauthorized("SignedHeaders must include x-ms-date;host;x-ms-content-sha256.")
    date = request.headers.get("x-ms-date") or request.headers.get("Date")
    body_hash = request.headers.get("x-ms-content-sha256")
    if not date or not body_hash:
        return _unauthorized("x-ms-date and x-ms-content-sha256 headers are required.")
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return _denied()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if abs((datetime.now(UTC) - when).total_seconds()) > MAX_CLOCK_SKEW_S:
        return _denied()
    body = await request.read()
    if not hmac.compare_digest(content_hash(body), body_hash):
        return _denied()
    try:
        host = request.headers.get("Host", request.host)
        candidates = {request.raw_path, unquote(request.raw_path), _requoted(request.raw_path)}
        for path in candidates:
            expected = sign(access_key, request.method, path, date, host, body_hash)
            if hmac.compare_digest(expected, signature):
                return None
    except (binascii.Error, ValueError):
        return _denied()
    return _denied()


def hmac_middleware(access_key: Callable[[], str], protected: Callable[[web.Request], bool]) -> Any:
    """aiohttp middleware authenticating the ACS data-plane routes."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if protected(request):
            failure = await check_request(request, access_key())
            if failure is not None:
                return failure
        return await handler(request)

    return middleware
