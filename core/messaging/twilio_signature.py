"""Twilio's request signature (``X-Twilio-Signature``), as Twilio documents it for webhooks: the full
URL Twilio requested, followed by every POST parameter's name and value, sorted by name (a repeated
one by value), without separators; HMAC-SHA1 of that with the account's auth token as key; base64. Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """The signature Twilio sends for a form POST of ``params`` to ``url``."""
    # A repeated parameter counts each of its distinct values once, in order (as Twilio's libraries do).
    text = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_valid(url: str, params: Iterable[tuple[str, str]], auth_token: str, given: str | None) -> bool:
    """Whether ``given`` is Twilio's signature of this request (constant-time comparison)."""
    if not given or not auth_token:
        return False
    return hmac.compare_digest(signature(url, params, auth_token).encode(), given.encode())
