"""A fresh worker warms up while the greeting plays: the first turn finds the engine and its clients built."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from core.bootstrap import Services
from core.engine import TurnEngine
from core.engine.prompts import SYSTEM_TEMPLATE, _template
from core.settings import ConversationSettings, LlmEndpointSettings, LlmSettings, Settings
from tests.callflow.fakes import event, make_rig


class WarmableModel:
    def __init__(self) -> None:
        self.warmed = 0

    def warm_up(self) -> None:
        self.warmed += 1


async def test_warm_up_builds_the_engine_its_clients_and_templates() -> None:
    model = WarmableModel()
    services = Services(Settings(), chat_model=model)
    _template.cache_clear()
    await services.warm_up()
    assert isinstance(services.built["engine"], TurnEngine) and services.engine.llm is model
    assert model.warmed == 1
    assert _template.cache_info().currsize >= 1 and _template(SYSTEM_TEMPLATE) is not None
    await services.close()


async def test_the_real_chat_model_builds_its_client_when_warmed() -> None:
    endpoint = LlmEndpointSettings(endpoint="http://127.0.0.1:9/v1", model="m")
    services = Services(Settings(llm=LlmSettings(primary=endpoint)))
    await services.warm_up()
    chat: Any = services.engine.llm
    assert all(e.client is not None for e in chat._endpoints)  # no request was made: nothing listens
    await services.close()


async def test_a_failing_warm_up_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    services = Services(Settings())  # no model configured: building the chat model raises
    with caplog.at_level(logging.WARNING, logger="core.bootstrap"):
        await services.warm_up()
    assert "ModelNotConfiguredError" in caplog.text
    await services.close()


async def test_call_connected_greets_then_warms_the_worker_once() -> None:
    rig = make_rig(
        Settings(conversation=ConversationSettings(languages="en-US:English:en-US-AvaMultilingualNeural"))
    )
    services: Any = rig.flow.services
    for number in ("+14155550100", "+14155550101"):
        call_id = await rig.flow.handle_incoming_call(
            f"eg-{number}",
            {
                "to": {"kind": "phoneNumber", "phoneNumber": {"value": rig.settings.acs.phone_number}},
                "from": {"kind": "phoneNumber", "phoneNumber": {"value": number}},
                "incomingCallContext": "ctx",
            },
        )
        assert call_id is not None
        call = await rig.call(call_id)
        await rig.send(call, event("CallConnected", call.connection_id, serverCallId="srv"))
    assert len(rig.tel.of("listen")) == 2  # both greetings went out
    task = services._warm_up
    assert task is not None
    await task  # the fake engine has nothing to warm; the warm-up ends quietly, started once
    assert services._warm_up is task
