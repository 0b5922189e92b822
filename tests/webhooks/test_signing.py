"""The webhook signature and the receiver's check (core/webhooks/signing.py)."""

from __future__ import annotations

import json

import pytest

from core.webhooks.signing import SignatureError, sign, verify

SECRET = "whsec-0123456789abcdef"
BODY = json.dumps({"id": "e1", "type": "call.ended", "call_id": "c1", "data": {}}).encode()
NOW = 1_800_000_000


def test_a_signed_body_verifies_and_gives_the_event() -> None:
    header = sign(SECRET, BODY, NOW)
    assert header.startswith(f"t={NOW},v1=")
    assert verify(SECRET, BODY, header, now=NOW + 10)["id"] == "e1"


@pytest.mark.parametrize(
    ("body", "secret", "why"),
    [
        (BODY.replace(b"call.ended", b"call.failed"), SECRET, "does not match"),
        (BODY, "another-secret-0123456789", "does not match"),
    ],
)
def test_a_changed_body_or_another_secret_is_refused(body: bytes, secret: str, why: str) -> None:
    with pytest.raises(SignatureError, match=why):
        verify(secret, body, sign(SECRET, BODY, NOW), now=NOW)


def test_a_replayed_request_is_refused_once_its_timestamp_is_old() -> None:
    header = sign(SECRET, BODY, NOW)
    assert verify(SECRET, BODY, header, now=NOW + 300)
    with pytest.raises(SignatureError, match="replay"):
        verify(SECRET, BODY, header, now=NOW + 301)
    with pytest.raises(SignatureError, match="replay"):
        verify(SECRET, BODY, header, now=NOW + 60, tolerance_s=30)


def test_the_timestamp_is_signed_too() -> None:
    signature = sign(SECRET, BODY, NOW).split(",")[1]
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, BODY, f"t={NOW + 100},{signature}", now=NOW + 100)


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", "t=soon,v1=abc"])
def test_a_missing_or_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, BODY, header, now=NOW)


def test_one_matching_signature_of_several_is_enough_while_a_secret_is_rotated() -> None:
    old = sign("old-secret-0123456789", BODY, NOW).split(",")[1]
    new = sign(SECRET, BODY, NOW)
    assert verify(SECRET, BODY, f"{new},{old}", now=NOW)["type"] == "call.ended"


def test_while_a_secret_is_rotated_each_request_is_signed_with_both() -> None:
    header = sign([SECRET, "old-secret-0123456789"], BODY, NOW)
    assert header.count("v1=") == 2
    assert verify(SECRET, BODY, header, now=NOW) == verify("old-secret-0123456789", BODY, header, now=NOW)
