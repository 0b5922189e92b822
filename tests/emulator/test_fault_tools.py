"""The fault tools: ACS faults per operation (control API), the TCP proxy in front of a service."""

from __future__ import annotations

import asyncio
import time

import pytest
from azure.communication.sms.aio import SmsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import AsyncRetryPolicy

from local.acs_emulator import AcsEmulator
from local.acs_emulator.control import ControlError, EmulatorControl
from local.tcp_proxy import TcpProxy
from tests.emulator.conftest import BOT, PERSON


async def test_an_armed_fault_answers_its_status_then_the_operation_works(emulator: AcsEmulator) -> None:
    async with EmulatorControl(emulator.base_url) as ctl:
        armed = await ctl.inject("sms", status=503, count=2)
        assert [(f["operation"], f["status"], f["count"]) for f in armed] == [("sms", 503, 2)]
        with pytest.raises(ControlError) as refused:
            await ctl.inject("dance", status=500)
        assert refused.value.status == 400 and "operation" in str(refused.value.body)
        # The SDK's own retries are off, so each refused request is seen.
        credential = AzureKeyCredential(emulator.config.access_key)
        async with SmsClient(
            emulator.base_url, credential, retry_policy=AsyncRetryPolicy(retry_total=0)
        ) as sms:
            for _ in range(2):
                with pytest.raises(HttpResponseError) as failed:
                    await sms.send(from_=BOT, to=PERSON, message="x")
                assert failed.value.status_code == 503
            results = await sms.send(from_=BOT, to=PERSON, message="x")
        assert results[0].successful
        assert await ctl.sent_sms() != []
        await ctl.inject("play", delay_s=1.0)
        await ctl.clear_faults()
        assert emulator.faults.faults == []


async def test_concurrent_delivery_is_a_setting(emulator: AcsEmulator) -> None:
    async with EmulatorControl(emulator.base_url) as ctl:
        assert (await ctl.settings(concurrent_callbacks=True))["concurrent_callbacks"] is True
    assert emulator.config.concurrent_callbacks


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _round_trip(port: int, timeout: float = 2.0) -> bytes:
    """What an echo through the proxy gives back; b"" when the connection is cut."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"ping")
        async with asyncio.timeout(timeout):
            return await reader.read(4)
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


async def test_the_proxy_refuses_black_holes_and_heals() -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, TcpProxy(port) as proxy:
        assert await _round_trip(proxy.port) == b"ping"
        proxy.refuse(0.3)
        assert await _round_trip(proxy.port) == b""  # closed at once
        await proxy.wait_healed()
        assert await _round_trip(proxy.port) == b"ping"
        proxy.blackhole(5.0)
        with pytest.raises(TimeoutError):
            await _round_trip(proxy.port, timeout=0.2)
        proxy.heal()
        assert await _round_trip(proxy.port) == b"ping"
        proxy.slow(0.2)
        started = time.monotonic()
        assert await _round_trip(proxy.port) == b"ping"
        assert time.monotonic() - started >= 0.35  # both directions are late
        assert proxy.faulted >= 2
