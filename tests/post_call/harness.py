"""The whole app served by the local Functions-host adapter, against the local services.

Azurite + Cosmos DB server (session fixture ``local_stack``), the scripted LLM and the ACS emulator
in-process; settings through the environment, the way the host passes app settings. Shared by the
post-call, report, browser and API tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from core.bootstrap import Services, get_services, reset_services
from local.acs_emulator import AcsEmulator
from local.functions_host import FunctionsHost, HostConfig
from local.functions_host.queues import QueueOutcome
from local.scripted_llm import ScriptedLlm
from tests.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEY = "report-test-key"

# Azurite may be shared with other test sessions: a queue of our own, set before function_app (whose
# queue binding reads the setting) is imported.
os.environ.setdefault("STORAGE__POST_CALL_QUEUE", f"post-call-{uuid.uuid4().hex[:8]}")


def post_call_queue_name() -> str:
    """The queue the app's post-call trigger listens on (fixed when function_app was imported)."""
    import function_app
    from local.functions_host.invocation import index_app

    for function in index_app(function_app.app):
        if function.trigger_type == "queueTrigger":
            return str(function.trigger["queueName"])
    raise LookupError("function_app has no queue trigger")


POST_CALL_QUEUE = post_call_queue_name()


def host_config_for_tests() -> HostConfig:
    """The repository's host.json, with retries made immediate (the dequeue count is what matters)."""
    config = json.loads((REPO_ROOT / "host.json").read_text())
    queues = config["extensions"]["queues"]
    queues["visibilityTimeout"] = "00:00:00"
    queues["maxPollingInterval"] = "00:00:00.200"
    return HostConfig.from_dict(config)


@dataclass
class AppStack:
    host: FunctionsHost
    llm: ScriptedLlm
    acs: AcsEmulator
    container: Services
    outcomes: asyncio.Queue[QueueOutcome] = field(default_factory=asyncio.Queue)

    @property
    def base_url(self) -> str:
        return self.host.base_url

    def url(self, path: str, **params: str) -> str:
        return self.base_url + path + ("?" + urlencode(params) if params else "")

    async def wait_outcomes(
        self, until: Callable[[list[QueueOutcome]], bool], timeout: float = 30.0
    ) -> list[QueueOutcome]:
        """Queue outcomes, as the host reports them, until ``until(seen)`` holds."""
        seen: list[QueueOutcome] = []

        async def next_outcome() -> None:
            seen.append(await self.outcomes.get())

        await wait_until(
            lambda: until(seen),
            timeout=timeout,
            what="queue outcomes that satisfy the test's condition",
            wake=next_outcome,
            seen=lambda: [(o.function_name, o.outcome) for o in seen],
        )
        return seen

    def sms_to(self, number: str) -> list[dict[str, Any]]:
        sent = self.acs.sms.as_json()
        return [s for s in sent if s["to"] == number]


async def _clear_queues(connection_string: str, *names: str) -> None:
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.queue.aio import QueueClient

    for name in names:
        async with QueueClient.from_connection_string(connection_string, name) as client:
            with contextlib.suppress(ResourceNotFoundError):
                await client.clear_messages()


@contextlib.asynccontextmanager
async def app_stack(
    monkeypatch: pytest.MonkeyPatch, *, sms_summary: bool = False, env: dict[str, str] | None = None
) -> AsyncIterator[AppStack]:
    llm = await ScriptedLlm().start()
    acs = AcsEmulator()
    await acs.start()
    settings_env = {
        "LLM__PRIMARY__ENDPOINT": llm.base_url,
        "LLM__PRIMARY__MODEL": "scripted",
        "LLM__PRIMARY__API_KEY": "scripted-key",
        "LLM__RETRY_BACKOFF_S": "0",
        "ACS__ENDPOINT": acs.base_url,
        "ACS__JWKS_URL": acs.jwks_url,
        "CONVERSATION__SMS_SUMMARY_ENABLED": "true" if sms_summary else "false",
        "HTTP__FUNCTION_KEY": FUNCTION_KEY,
        "STORAGE__POST_CALL_QUEUE": POST_CALL_QUEUE,
        **(env or {}),
    }
    for name, value in settings_env.items():
        monkeypatch.setenv(name, value)
    reset_services()
    container = get_services()
    await _clear_queues(
        container.settings.storage.connection_string, POST_CALL_QUEUE, POST_CALL_QUEUE + "-poison"
    )
    import function_app

    host = FunctionsHost(
        function_app.app,
        config=host_config_for_tests(),
        function_key=FUNCTION_KEY,
        storage_connection_string=container.settings.storage.connection_string,
    )
    stack = AppStack(host=host, llm=llm, acs=acs, container=container)
    host.add_queue_observer(stack.outcomes.put_nowait)
    await host.start()
    try:
        yield stack
    finally:
        await host.stop()
        await container.close()
        reset_services()
        await acs.stop()
        await llm.stop()
