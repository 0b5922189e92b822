"""The emulator's HMAC check refuses what the service refuses: a stale date, a body that is not the
one signed, a signature over another request, a missing signed header."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from local.appconfig_emulator import DEFAULT_CREDENTIAL, DEFAULT_SECRET, AppConfigEmulator
from local.appconfig_emulator.auth import signature


@pytest.fixture
async def emulator() -> AsyncIterator[AppConfigEmulator]:
    started = await AppConfigEmulator().start()
    yield started
    await started.stop()


def _headers(
    host: str, method: str, path: str, body: bytes, *, date: datetime | None = None
) -> dict[str, str]:
    sent = (date or datetime.now(UTC)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    signed = signature(DEFAULT_SECRET, f"{method}\n{path}\n{sent};{host};{digest}")
    return {
        "x-ms-date": sent,
        "x-ms-content-sha256": digest,
        "Authorization": f"HMAC-SHA256 Credential={DEFAULT_CREDENTIAL}&SignedHeaders=x-ms-date;host;"
        f"x-ms-content-sha256&Signature={signed}",
    }


async def _status(
    emulator: AppConfigEmulator, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emulator.endpoint + path, data=body, headers=headers) as response,
    ):
        return response.status, response.headers.get("WWW-Authenticate", "")


async def test_a_correctly_signed_request_is_served(emulator: AppConfigEmulator) -> None:
    host, path = f"127.0.0.1:{emulator.port}", "/kv?api-version=2024-09-01"
    status, _ = await _status(emulator, "GET", path, b"", _headers(host, "GET", path, b""))
    assert status == 200


@pytest.mark.parametrize("problem", ["stale date", "other body", "other path", "unsigned", "no header"])
async def test_what_the_service_refuses_is_refused(emulator: AppConfigEmulator, problem: str) -> None:
    host, path = f"127.0.0.1:{emulator.port}", "/kv/a?api-version=2024-09-01"
    body = b'{"value": "1"}'
    headers = _headers(host, "PUT", path, body)
    if problem == "stale date":
        headers = _headers(host, "PUT", path, body, date=datetime.now(UTC) - timedelta(minutes=16))
    elif problem == "other body":
        body = b'{"value": "2"}'
    elif problem == "other path":
        headers = _headers(host, "PUT", "/kv/b?api-version=2024-09-01", body)
    elif problem == "unsigned":
        headers["Authorization"] = headers["Authorization"].replace("x-ms-date;host;", "host;")
    else:
        del headers["Authorization"]
    status, challenge = await _status(emulator, "PUT", path, body, headers)
    assert status == 401
    assert challenge.startswith("HMAC-SHA256")
    if problem == "stale date":
        assert "expired" in challenge
    assert emulator.store.get("a", None) is None
