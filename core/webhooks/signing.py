"""The signature of a webhook event, and the check a receiver makes (standard library only: copy this
file into a receiver as it is).

The product sends, with every POST::

    Webhook-Id: <event id>                      (the same on every attempt: deduplicate on it)
    Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the shared secret>

The signature covers the timestamp, so a receiver that refuses old timestamps (``tolerance_s``)
refuses a captured request replayed later; the event id makes a retried delivery recognizable.

A receiver::

    from core.webhooks.signing import verify, SignatureError
    try:
        event = verify(secret, raw_body, request.headers["Webhook-Signature"])
    except SignatureError:
        return 400
    if seen(event["id"]):
        return 200  # a retry of an event already handled
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SIGNATURE_HEADER = "Webhook-Signature"
ID_HEADER = "Webhook-Id"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, too old, or does not match the body."""


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str | list[str], body: bytes, timestamp: int | None = None) -> str:
    """The ``Webhook-Signature`` header value for ``body`` at ``timestamp`` (now by default); one
    ``v1=`` per secret (the new and the old one while a secret is rotated)."""
    at = int(time.time()) if timestamp is None else timestamp
    secrets = [secret] if isinstance(secret, str) else secret
    return ",".join([f"t={at}", *(f"v1={_digest(s, at, body)}" for s in secrets)])


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> dict[str, Any]:
    """The event (the parsed body) when ``header`` signs ``body`` with ``secret`` within ``tolerance_s``
    of ``now``; SignatureError otherwise. Several ``v1=`` values (a secret being rotated) are accepted
    when one matches."""
    if not header:
        raise SignatureError("no Webhook-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("the timestamp is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("the header has no t= timestamp or no v1= signature")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError(f"the timestamp is more than {tolerance_s} s away from now (a replay?)")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise SignatureError("the signature does not match the body")
    try:
        event: dict[str, Any] = json.loads(body)
    except ValueError:
        raise SignatureError("the body is not JSON") from None
    return event
