"""ACS answers as the port's errors: a 4xx is a refusal (permanent), a 5xx or a timeout is transient,
and each carries the status and the error code of ACS's body."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from core.adapters.acs_telephony import _translated
from core.errors import CallGone, TelephonyError, TelephonyRefused


class _Response:
    """Just enough of an azure-core HTTP response for HttpResponseError to parse ACS's error body."""

    def __init__(self, status: int, code: str) -> None:
        self.status_code = status
        self.reason = "reason"
        self.headers = {"content-type": "application/json"}
        self.content_type = "application/json"
        self.request = None
        self._body = json.dumps({"error": {"code": code, "message": "ACS says no."}})

    def text(self, encoding: str | None = None) -> str:
        return self._body

    def body(self) -> bytes:
        return self._body.encode()


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, TelephonyRefused),
        (403, TelephonyRefused),
        (404, CallGone),
        (429, TelephonyError),
        (503, TelephonyError),
    ],
)
async def test_status_decides_permanent_or_transient(status: int, kind: type[TelephonyError]) -> None:
    with pytest.raises(TelephonyError) as raised:
        async with _translated("answer"):
            raise HttpResponseError(response=_Response(status, "8523"))
    assert type(raised.value) is kind
    assert (raised.value.acs_status, raised.value.acs_code) == (status, "8523")
    assert f"HTTP {status} 8523" in str(raised.value)


async def test_unreachable_is_transient() -> None:
    with pytest.raises(TelephonyError) as raised:
        async with _translated("answer"):
            raise ServiceRequestError("connection refused")
    assert type(raised.value) is TelephonyError and raised.value.acs_status is None
