"""HMAC-SHA256 request authentication, verified the way App Configuration verifies it.

The SDK (azure-appconfiguration ``AppConfigRequestsCredentialsPolicy``) signs
``VERB\\n<path?query>\\n<x-ms-date>;<host>;<x-ms-content-sha256>`` with the base64-decoded secret of
the access key and sends ``Authorization: HMAC-SHA256 Credential=<id>&SignedHeaders=x-ms-date;host;
x-ms-content-sha256&Signature=<base64>``. The service checks the credential id, that every signed
header is present, the body hash, a date within 15 minutes of its clock, and the signature; a failure
is a 401 with a ``WWW-Authenticate: HMAC-SHA256 ...`` challenge.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from aiohttp import web

MAX_CLOCK_SKEW_S = 15 * 60
REQUIRED = ("x-ms-date", "host", "x-ms-content-sha256")


class AuthFailed(Exception):
    def __init__(self, description: str | None) -> None:
        super().__init__(description or "no HMAC-SHA256 authorization")
        self.description = description


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(base64.b64decode(secret), string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_date(raw: str) -> datetime:
    """An HTTP-date, or the form the Python SDK sends (``Dec, 01 2026 23:18:01.123456 GMT``), which
    the service accepts too."""
    try:
        sent = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        try:
            sent = datetime.strptime(raw, "%b, %d %Y %H:%M:%S.%f GMT")
        except ValueError:
            raise AuthFailed("Invalid x-ms-date header") from None
    return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)


def _parse(authorization: str) -> dict[str, str]:
    scheme, _, rest = authorization.partition(" ")
    if scheme != "HMAC-SHA256" or not rest:
        raise AuthFailed(None)
    parts: dict[str, str] = {}
    for item in rest.split("&"):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise AuthFailed("Invalid Authorization header")
        parts[name] = value
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not parts.get(name):
            raise AuthFailed(f"{name} is missing from the Authorization header")
    return parts


def verify(
    request: web.Request, body: bytes, credential: str, secret: str, now: datetime | None = None
) -> None:
    """Raise AuthFailed unless the request is signed with this access key."""
    parts = _parse(request.headers.get("Authorization", ""))
    if not hmac.compare_digest(parts["Credential"], credential):
        raise AuthFailed("Invalid Credential")
    names = [n.strip().lower() for n in parts["SignedHeaders"].split(";") if n.strip()]
    for name in REQUIRED:
        if name not in names and not (name == "x-ms-date" and "date" in names):
            raise AuthFailed(f"Signed request header '{name}' is not provided")
    values = []
    for name in names:
        value = request.headers.get(name)
        if value is None:
            raise AuthFailed(f"Signed request header '{name}' is not provided")
        values.append(value)
    if request.headers.get("x-ms-content-sha256") != content_hash(body):
        raise AuthFailed("The content hash does not match the request body")
    sent = parse_date(request.headers.get("x-ms-date") or request.headers.get("date") or "")
    if abs(((now or datetime.now(UTC)) - sent).total_seconds()) > MAX_CLOCK_SKEW_S:
        raise AuthFailed("The access token has expired")
    to_sign = f"{request.method.upper()}\n{request.raw_path}\n{';'.join(values)}"
    try:
        expected = signature(secret, to_sign)
    except (binascii.Error, ValueError):
        raise AuthFailed("Invalid access key") from None
    if not hmac.compare_digest(expected, parts["Signature"]):
        raise AuthFailed("Invalid Signature")


def challenge(failure: AuthFailed) -> str:
    if failure.description is None:
        return "HMAC-SHA256"
    return f'HMAC-SHA256 error="invalid_token", error_description="{failure.description}"'
