"""Run-time options from App Configuration over the whole call path: the local stack's App
Configuration emulator, written to through the real SDK, read by the product through the real SDK."""

from __future__ import annotations

import logging
import socket
import uuid

import pytest
from azure.appconfiguration import ConfigurationSetting
from azure.appconfiguration.aio import AzureAppConfigurationClient

from local.appconfig_emulator import connection_string
from local.scripted_llm import ScriptedLlm
from local.scripted_llm.server import RecordedRequest
from local.stack import appconfig_connection_string
from tests.e2e.harness import call_stack, random_number
from tests.waiting import wait_until


async def test_a_flag_changed_during_a_call_changes_the_next_turn(local_stack: None) -> None:
    label = f"e2e-{uuid.uuid4().hex[:8]}"
    connection = appconfig_connection_string()
    async with AzureAppConfigurationClient.from_connection_string(connection) as store:

        async def put(name: str, value: str) -> None:
            setting = ConfigurationSetting(key=f"callcenter:{name}", value=value, label=label)
            await store.set_configuration_setting(setting)

        await put("slow_llm_for_chat", "false")
        await put("sentinel", "1")
        slow = await ScriptedLlm([{"say": "Noted, anything else?"}]).start()
        try:
            env = {
                "APP_CONFIGURATION__CONNECTION_STRING": connection,
                "APP_CONFIGURATION__LABEL": label,
                "APP_CONFIGURATION__REFRESH_INTERVAL_S": "0.05",
                "LLM__PRIMARY__MODEL": "fast-model",
                "LLM__SLOW__PRIMARY__ENDPOINT": slow.base_url,
                "LLM__SLOW__PRIMARY__MODEL": "slow-model",
                "LLM__SLOW__PRIMARY__API_KEY": "scripted-key",
            }
            async with call_stack(env) as stack:
                runtime = stack.container.runtime_config

                async def while_thinking(request: RecordedRequest) -> None:
                    if "first question" not in request.last_user or not request.stream:
                        return
                    # A company flips the flag (and the sentinel) while the bot answers the first turn.
                    await put("slow_llm_for_chat", "true")
                    await put("sentinel", "2")
                    await wait_until(
                        lambda: runtime.current().slow_llm_for_chat,
                        timeout=10,
                        what="the worker to reload the run-time options",
                        seen=lambda: runtime.current(),
                    )

                stack.llm.before_answer = while_thinking
                stack.set_rules([{"say": "Noted, anything else?"}])
                script = [{"say": "English"}, {"say": "My first question."}, {"say": "My second question."}]
                emulated = await stack.run_inbound(random_number(), script)
                fast_asked = {r.last_user: r.model for r in stack.llm.requests if r.stream}
                slow_asked = {r.last_user: r.model for r in slow.requests if r.stream}
                assert fast_asked == {"My first question.": "fast-model"}
                assert slow_asked == {"My second question.": "slow-model"}
                assert stack.bot_said(emulated)[-1]["text"] == "Noted, anything else?"
                assert runtime.current().source.startswith("App Configuration")
                assert not stack.failed_callbacks()
        finally:
            await slow.stop()


async def test_a_store_that_is_down_leaves_the_app_settings_and_calls_go_on(
    local_stack: None, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = int(sock.getsockname()[1])
    env = {
        "APP_CONFIGURATION__CONNECTION_STRING": connection_string(f"http://127.0.0.1:{closed}"),
        "APP_CONFIGURATION__LOAD_TIMEOUT_S": "3",
        "LLM__ANSWER_HARD_TIMEOUT_S": "45",
    }
    with caplog.at_level(logging.WARNING, logger="callcenter.runtime"):
        async with call_stack(env) as stack:
            stack.set_rules([{"say": "Noted, anything else?"}])
            emulated = await stack.run_inbound(random_number(), [{"say": "English"}, {"say": "Hello."}])
            assert stack.bot_said(emulated)[-1]["text"] == "Noted, anything else?"
            snapshot = stack.container.runtime_config.current()
            assert "unreachable" in snapshot.source and snapshot.answer_hard_timeout_s == 45
            assert not stack.failed_callbacks()
    warnings = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(warnings) == 1 and "app settings" in warnings[0]
