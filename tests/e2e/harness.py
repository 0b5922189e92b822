"""The whole call path over real HTTP: host adapter + ACS emulator + scripted LLM + Azurite + Cosmos.

The app served is the product's blueprints for calls (health, call read/create, telephony, reports,
recordings): the post-call queue is left unconsumed so tests can count exactly what the call flow
enqueued.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import azure.functions as func

from core.bootstrap import Services, get_services, reset_services
from core.models import Call
from local.acs_emulator import AcsEmulator, EmulatorConfig
from local.functions_host import FunctionsHost, HostConfig
from local.scripted_llm import ScriptedLlm, load_rules_file
from tests.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEY = "e2e-function-key"
DEMO_RULES = REPO_ROOT / "local" / "scripted_llm" / "demo_rules.yaml"


def build_app(*extra: func.Blueprint) -> func.FunctionApp:
    from functions.calls_create import bp as calls_create_bp
    from functions.calls_read import bp as calls_read_bp
    from functions.health import bp as health_bp
    from functions.recordings import bp as recordings_bp
    from functions.reports import bp as reports_bp
    from functions.sms_twilio import bp as sms_twilio_bp
    from functions.telephony import bp as telephony_bp

    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    for blueprint in (
        health_bp,
        calls_read_bp,
        calls_create_bp,
        telephony_bp,
        reports_bp,
        recordings_bp,
        sms_twilio_bp,
        *extra,
    ):
        app.register_functions(blueprint)
    return app


def random_number() -> str:
    return f"+1415{random.randint(2000000, 9999999)}"


class _RemoteHost:
    def __init__(self, base_url: str, pid: int) -> None:
        self.base_url = base_url
        self.pid = pid  # the host process, for benchmarks that read its CPU time


@dataclass
class CallStack:
    host: FunctionsHost | _RemoteHost
    acs: AcsEmulator
    llm: ScriptedLlm
    container: Services
    session: aiohttp.ClientSession
    post_call_queue: str

    def url(self, path: str) -> str:
        return self.host.base_url + path

    @property
    def headers(self) -> dict[str, str]:
        return {"x-functions-key": FUNCTION_KEY}

    def set_rules(self, rules: list[Any]) -> None:
        self.llm.set_rules(rules)

    def use_demo_rules(self) -> None:
        self.llm.set_rules(load_rules_file(str(DEMO_RULES)))

    async def call_by_number(self, number: str) -> Call:
        async with self.session.get(
            self.url("/call"), params={"phone_number": number}, headers=self.headers
        ) as response:
            assert response.status == 200, await response.text()
            page = await response.json()
        assert len(page["calls"]) == 1, page
        found = await self.container.calls.get(page["calls"][0]["call_id"])
        assert found is not None
        return found

    async def run_inbound(self, number: str, script: list[Any], timeout: float = 60) -> str:
        """Ring the bot, wait for the end of the call and of its callbacks; the emulator's call id."""
        emulated = self.acs.start_incoming_call(number, script)
        await self.acs.wait_for_call_end(emulated.call_id, timeout=timeout)
        await self.acs.drain_callbacks(timeout=timeout)
        return emulated.call_id

    async def post_call_messages(self, call_id: str) -> list[dict[str, Any]]:
        from azure.storage.queue.aio import QueueClient

        found: list[dict[str, Any]] = []
        async with QueueClient.from_connection_string(
            self.container.settings.storage.connection_string, self.post_call_queue
        ) as client:
            for message in await client.peek_messages(max_messages=32):
                payload = json.loads(base64.b64decode(message.content))
                if payload.get("call_id") == call_id:
                    found.append(payload)
        return found

    async def take_post_call_messages(self) -> list[dict[str, Any]]:
        """Every message on the post-call queue, removed from it (peek sees only 32)."""
        from azure.storage.queue.aio import QueueClient

        taken: list[dict[str, Any]] = []
        async with QueueClient.from_connection_string(
            self.container.settings.storage.connection_string, self.post_call_queue
        ) as client:

            async def emptied() -> bool:
                batch = [m async for m in client.receive_messages(max_messages=32, visibility_timeout=60)]
                for message in batch:
                    taken.append(json.loads(base64.b64decode(message.content)))
                    await client.delete_message(message)
                return not batch

            await wait_until(
                emptied,
                timeout=120,
                what=f"the post-call queue {self.post_call_queue} to be empty",
                interval=0,
                seen=lambda: f"{len(taken)} messages taken so far",
            )
        return taken

    def transcript(self, emulated_call_id: str) -> list[dict[str, Any]]:
        return self.acs.transcript(emulated_call_id)

    def bot_said(self, emulated_call_id: str) -> list[dict[str, Any]]:
        return [e for e in self.transcript(emulated_call_id) if e["kind"] == "bot_said"]

    def failed_callbacks(self) -> list[Any]:
        return [r for r in self.acs.dispatcher.records if r.status is None or r.status >= 300]


@contextlib.asynccontextmanager
async def call_stack(
    env_overrides: dict[str, str] | None = None,
    *,
    app: func.FunctionApp | None = None,
    blueprints: tuple[func.Blueprint, ...] = (),
    host_config: HostConfig | None = None,
    **emulator: Any,
) -> AsyncIterator[CallStack]:
    """``app``: another Function App than build_app()'s; ``blueprints``: more functions to serve
    (e.g. a queue trigger), besides the call path's; ``host_config``: instead of host.json's."""
    llm = await ScriptedLlm().start()
    acs = AcsEmulator(EmulatorConfig(**{"speed_factor": 0.0, **emulator}))
    await acs.start()
    host = FunctionsHost(
        app or build_app(*blueprints),
        config=host_config or HostConfig.load(REPO_ROOT / "host.json"),
        function_key=FUNCTION_KEY,
        timer_schedules=False,  # a test fires timers itself (host.run_timer)
    )
    await host.start("127.0.0.1", 0)
    queue = f"post-call-e2e-{uuid.uuid4().hex[:8]}"
    env = {
        "LLM__PRIMARY__ENDPOINT": llm.base_url,
        "LLM__PRIMARY__MODEL": "scripted",
        "LLM__PRIMARY__API_KEY": "scripted-key",
        "LLM__RETRY_BACKOFF_S": "0",
        "ACS__ENDPOINT": acs.base_url,
        "ACS__JWKS_URL": acs.jwks_url,
        "ACS__CALLBACK_BASE_URL": host.base_url,
        "STORAGE__POST_CALL_QUEUE": queue,
        "HTTP__FUNCTION_KEY": FUNCTION_KEY,
        **(env_overrides or {}),
    }
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    reset_services()
    container = get_services()
    acs.config.eventgrid_endpoint = (
        f"{host.base_url}/runtime/webhooks/EventGrid?functionName=incoming_call&code={FUNCTION_KEY}"
    )
    session = aiohttp.ClientSession()
    try:
        yield CallStack(host, acs, llm, container, session, queue)
    finally:
        await session.close()
        await host.stop()
        await acs.stop()
        await llm.stop()
        await container.close()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_services()
        await asyncio.sleep(0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def process_stack(app_root: Path = REPO_ROOT, **emulator: Any) -> AsyncIterator[CallStack]:
    """Like call_stack, but the app runs in its own host process (as one Functions worker would);
    the emulator and the scripted LLM stay in this process. `app_root`: the checkout the host serves
    (another worktree compares two versions of the app under the same load)."""
    llm = await ScriptedLlm().start()
    acs = AcsEmulator(EmulatorConfig(**{"speed_factor": 0.0, **emulator}))
    await acs.start()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    queue = f"post-call-e2e-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "LLM__PRIMARY__ENDPOINT": llm.base_url,
        "LLM__PRIMARY__MODEL": "scripted",
        "LLM__PRIMARY__API_KEY": "scripted-key",
        "LLM__RETRY_BACKOFF_S": "0",
        "ACS__ENDPOINT": acs.base_url,
        "ACS__JWKS_URL": acs.jwks_url,
        "ACS__CALLBACK_BASE_URL": base_url,
        "STORAGE__POST_CALL_QUEUE": queue,
        "HTTP__FUNCTION_KEY": FUNCTION_KEY,
        "LOG_LEVEL": "WARNING",
    }
    # HOST_PROFILE=file.prof runs the host under cProfile (written when the host stops).
    profile = ["-m", "cProfile", "-o", os.environ["HOST_PROFILE"]] if os.environ.get("HOST_PROFILE") else []
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *profile,
        "-m",
        "local.functions_host",
        "--app",
        "tests.e2e.calls_app:app",
        "--port",
        str(port),
        "--settings",
        "none.json",
        cwd=app_root,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    reset_services()
    container = get_services()
    acs.config.eventgrid_endpoint = (
        f"{base_url}/runtime/webhooks/EventGrid?functionName=incoming_call&code={FUNCTION_KEY}"
    )
    session = aiohttp.ClientSession()
    try:

        async def live() -> bool:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{base_url}/health/liveness") as response:
                    if response.status == 200:
                        return True
            if process.returncode is not None:
                raise RuntimeError("the host process exited at start-up")
            return False

        await wait_until(
            live,
            timeout=30,
            what=f"the Functions host at {base_url} to answer GET /health/liveness",
            interval=0.1,
        )
        yield CallStack(_RemoteHost(base_url, process.pid), acs, llm, container, session, queue)
    finally:
        await session.close()
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await process.wait()
        await acs.stop()
        await llm.stop()
        await container.close()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_services()
