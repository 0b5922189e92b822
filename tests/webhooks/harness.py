"""The whole Function App (calls, post-call queue, webhook queue) over the local stack, with a
webhook receiver: a small aiohttp server that verifies each signature and fails the first attempt of
every event (500), the way a receiver that is briefly down would."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from core.bootstrap import Services, get_services, reset_services
from core.webhooks.signing import ID_HEADER, SIGNATURE_HEADER, SignatureError, verify
from local.acs_emulator import AcsEmulator, EmulatorConfig
from local.functions_host import FunctionsHost
from local.functions_host.queues import QueueOutcome
from local.scripted_llm import ScriptedLlm
from tests.post_call.harness import POST_CALL_QUEUE, _clear_queues, host_config_for_tests

FUNCTION_KEY = "webhooks-test-key"
SECRET = "whsec-test-0123456789abcdef"


@dataclass
class Received:
    event_id: str
    body: dict[str, Any]
    signature: str
    status: int


@dataclass
class Receiver:
    """Answers 500 to the first attempt of each event id, then 200; 400 to a bad signature."""

    secret: str
    requests: list[Received] = field(default_factory=list)
    bad_signatures: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            event = verify(self.secret, raw, request.headers.get(SIGNATURE_HEADER))
        except SignatureError as exc:
            self.bad_signatures.append(str(exc))
            self.changed.set()
            return web.Response(status=400, text=str(exc))
        first = not any(r.event_id == event["id"] for r in self.requests)
        status = 500 if first else 200
        assert request.headers.get(ID_HEADER) == event["id"]
        self.requests.append(Received(event["id"], event, request.headers[SIGNATURE_HEADER], status))
        self.changed.set()
        return web.Response(status=status)

    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.status == 200]

    async def wake(self) -> None:
        await self.changed.wait()
        self.changed.clear()

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hooks"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class WebhookStack:
    host: FunctionsHost
    llm: ScriptedLlm
    acs: AcsEmulator
    receiver: Receiver
    container: Services
    outcomes: list[QueueOutcome] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"x-functions-key": FUNCTION_KEY}


@contextlib.asynccontextmanager
async def webhook_stack(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *, slow_model: str = ""
) -> AsyncIterator[WebhookStack]:
    """The app; with ``slow_model``, insights go to that model (same scripted server)."""
    receiver = await Receiver(SECRET).start()
    llm = await ScriptedLlm().start()
    acs = AcsEmulator(EmulatorConfig(speed_factor=0.0))
    await acs.start()
    settings_env = {
        "LLM__PRIMARY__ENDPOINT": llm.base_url,
        "LLM__PRIMARY__MODEL": "scripted",
        "LLM__PRIMARY__API_KEY": "scripted-key",
        "LLM__RETRY_BACKOFF_S": "0",
        "ACS__ENDPOINT": acs.base_url,
        "ACS__JWKS_URL": acs.jwks_url,
        "HTTP__FUNCTION_KEY": FUNCTION_KEY,
        "STORAGE__POST_CALL_QUEUE": POST_CALL_QUEUE,
        "WEBHOOKS__URLS": receiver.url,
        "WEBHOOKS__SECRET": SECRET,
        "WEBHOOKS__RETRY_BACKOFF_S": "1",
        **env,
    }
    if slow_model:
        settings_env |= {
            "LLM__SLOW__PRIMARY__ENDPOINT": llm.base_url,
            "LLM__SLOW__PRIMARY__MODEL": slow_model,
            "LLM__SLOW__PRIMARY__API_KEY": "scripted-key",
        }
    for name, value in settings_env.items():
        monkeypatch.setenv(name, value)
    reset_services()
    settings = get_services().settings
    queues = (POST_CALL_QUEUE, settings.webhooks.queue)
    await _clear_queues(settings.storage.connection_string, *queues, *(q + "-poison" for q in queues))
    import function_app

    host = FunctionsHost(
        function_app.app,
        config=host_config_for_tests(),
        function_key=FUNCTION_KEY,
        storage_connection_string=settings.storage.connection_string,
    )
    await host.start()
    # The callbacks go to this host: the settings are read again with its address.
    monkeypatch.setenv("ACS__CALLBACK_BASE_URL", host.base_url)
    reset_services()
    container = get_services()
    acs.config.eventgrid_endpoint = (
        f"{host.base_url}/runtime/webhooks/EventGrid?functionName=incoming_call&code={FUNCTION_KEY}"
    )
    stack = WebhookStack(host, llm, acs, receiver, container)
    host.add_queue_observer(stack.outcomes.append)
    try:
        yield stack
    finally:
        await host.stop()
        await container.close()
        reset_services()
        await acs.stop()
        await llm.stop()
        await receiver.stop()


def bodies(stack: WebhookStack) -> dict[str, dict[str, Any]]:
    """The accepted events by type (the test asserts each type came once)."""
    return {r.body["type"]: r.body for r in stack.receiver.accepted()}


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)[:2000]
