from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.credentials import AzureKeyCredential

from local.acs_emulator import AcsEmulator, EmulatorConfig
from tests.emulator.receiver import CallbackReceiver

BOT = "+15550100000"
PERSON = "+15551230001"
AGENT = "+15559990000"
# Any https URL: the emulator only checks that calls are set up with one, as ACS requires.
AI_SERVICES = "https://ai-services.local.invalid/"


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    rec = CallbackReceiver()
    await rec.start()
    yield rec
    await rec.stop()


@pytest.fixture
async def emulator(receiver: CallbackReceiver) -> AsyncIterator[AcsEmulator]:
    config = EmulatorConfig(
        eventgrid_endpoint=receiver.url("/runtime/webhooks/EventGrid?functionName=incoming_call"),
        speed_factor=0.0,
        retry_delays_s=(0.01, 0.02, 0.04),
        exhausted_script_hangup_s=0.2,
    )
    emu = AcsEmulator(config)
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
async def client(emulator: AcsEmulator) -> AsyncIterator[CallAutomationClient]:
    async with CallAutomationClient(emulator.base_url, AzureKeyCredential(emulator.config.access_key)) as c:
        yield c
