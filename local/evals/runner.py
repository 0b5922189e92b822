"""Runs evaluated conversations through the real call flow: POST /call on the function app in the
local Functions-host adapter, the ACS emulator playing the caller, Cosmos DB and Azurite for storage."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import azure.functions as func

from core.bootstrap import Services, get_services, reset_services
from local.acs_emulator import AcsEmulator, EmulatorConfig
from local.evals.persona import ModelEndpoint, PersonaCaller
from local.evals.scoring import Observed, Score, score
from local.evals.spec import Conversation, Prices
from local.functions_host import FunctionsHost, HostConfig
from local.scripted_llm import ScriptedLlm

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEY = "evals-function-key"
PERSONA_MODEL = "persona"


def build_app() -> func.FunctionApp:
    """The call-handling blueprints; the post-call queue is left unconsumed (insights are not scored)."""
    from functions.calls_create import bp as calls_create_bp
    from functions.calls_read import bp as calls_read_bp
    from functions.health import bp as health_bp
    from functions.telephony import bp as telephony_bp

    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    for blueprint in (health_bp, calls_read_bp, calls_create_bp, telephony_bp):
        app.register_functions(blueprint)
    return app


@dataclass
class EvalStack:
    acs: AcsEmulator
    host: FunctionsHost
    services: Services
    session: aiohttp.ClientSession
    persona_endpoint: ModelEndpoint
    bot_llm: ScriptedLlm | None = None  # the scripted LLM, when no real model is used
    persona_llm: ScriptedLlm | None = None
    personas: dict[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def scripted(self) -> bool:
        return self.bot_llm is not None


def persona_endpoint_from_env() -> ModelEndpoint:
    """The persona's model: EVALS_PERSONA_* (OpenAI form) when set, else the bot's own (LLM__PRIMARY__*,
    OpenAI or Azure OpenAI form; an API key is needed, Entra ID is not used for the persona)."""
    env = os.environ
    if env.get("EVALS_PERSONA_ENDPOINT"):
        return ModelEndpoint(
            env["EVALS_PERSONA_ENDPOINT"],
            env.get("EVALS_PERSONA_MODEL", ""),
            env.get("EVALS_PERSONA_API_KEY", ""),
        )
    azure = env.get("LLM__PRIMARY__PROVIDER") == "azure_openai"
    return ModelEndpoint(
        base_url=env.get("LLM__PRIMARY__ENDPOINT", ""),
        model=env.get("LLM__PRIMARY__MODEL", ""),
        api_key=env.get("LLM__PRIMARY__API_KEY", ""),
        azure_api_version=(env.get("LLM__PRIMARY__API_VERSION") or "2024-10-21") if azure else None,
    )


@contextlib.asynccontextmanager
async def eval_stack(*, scripted: bool = True, speed: float = 0.0) -> AsyncIterator[EvalStack]:
    """The emulator, the host and (scripted) models; Cosmos DB and Azurite must be running already
    (python -m local.evals starts them; tests use the local_stack fixture)."""
    bot_llm = persona_llm = None
    if scripted:
        bot_llm = await ScriptedLlm().start()
        persona_llm = await ScriptedLlm().start()
    acs = AcsEmulator(EmulatorConfig(speed_factor=speed))
    await acs.start()
    host = FunctionsHost(build_app(), config=HostConfig.load(ROOT / "host.json"), function_key=FUNCTION_KEY)
    await host.start("127.0.0.1", 0)
    env = {
        "ACS__ENDPOINT": acs.base_url,
        "ACS__JWKS_URL": acs.jwks_url,
        "ACS__CALLBACK_BASE_URL": host.base_url,
        "STORAGE__POST_CALL_QUEUE": f"post-call-evals-{uuid.uuid4().hex[:8]}",
        "HTTP__FUNCTION_KEY": FUNCTION_KEY,
    }
    if bot_llm is not None:
        env.update(
            {
                "LLM__PRIMARY__ENDPOINT": bot_llm.base_url,
                "LLM__PRIMARY__MODEL": "scripted",
                "LLM__PRIMARY__API_KEY": "scripted-key",
                "LLM__RETRY_BACKOFF_S": "0",
            }
        )
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    reset_services()
    services = get_services()
    acs.config.eventgrid_endpoint = (
        f"{host.base_url}/runtime/webhooks/EventGrid?functionName=incoming_call&code={FUNCTION_KEY}"
    )
    session = aiohttp.ClientSession()
    endpoint = (
        ModelEndpoint(persona_llm.base_url, PERSONA_MODEL, "scripted-key")
        if persona_llm is not None
        else persona_endpoint_from_env()
    )
    stack = EvalStack(acs, host, services, session, endpoint, bot_llm, persona_llm)
    _route_personas(stack)
    try:
        yield stack
    finally:
        await session.close()
        await host.stop()
        await acs.stop()
        for llm in (bot_llm, persona_llm):
            if llm is not None:
                await llm.stop()
        await services.close()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_services()


def _route_personas(stack: EvalStack) -> None:
    """The emulator builds the caller when the bot dials; numbers with a persona get a PersonaCaller.
    (The emulator has no public hook for it: its caller factory is wrapped here, for evals only.)"""
    engine = stack.acs.engine
    original = engine._make_caller

    def make_caller(call: Any, script: Any, interactive: bool) -> Any:
        factory = stack.personas.get(call.person_number)
        return factory(call) if factory else original(call, script, interactive)

    engine._make_caller = make_caller  # type: ignore[method-assign]


def _transcript(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for entry in entries:
        kind = entry["kind"]
        if kind == "bot_said":
            lines.append({"who": "bot", "text": entry["text"], "note": entry.get("language") or ""})
        elif kind == "caller_said" and not entry.get("ignored"):
            lines.append({"who": "caller", "text": entry["text"], "note": entry.get("language") or ""})
        elif kind == "caller_silence":
            lines.append({"who": "caller", "text": "", "note": f"silence {entry.get('seconds', 0):.0f} s"})
        elif kind == "caller_dtmf":
            lines.append({"who": "caller", "text": "", "note": f"pressed {entry.get('tones')}"})
        elif kind == "transfer" and not entry.get("outcome"):
            target = str(entry.get("target") or "").removeprefix("4:")
            lines.append({"who": "event", "text": "", "note": f"transfer to {target}"})
        elif kind == "call_ended":
            lines.append({"who": "event", "text": "", "note": f"call ended by {entry.get('ended_by')}"})
    return lines


async def run_conversation(
    stack: EvalStack, conversation: Conversation, prices: Prices | None = None
) -> tuple[Score, Observed]:
    setup = conversation.setup
    number = setup.caller_number or f"+1415{random.randint(2000000, 9999999)}"
    if stack.bot_llm is not None:
        stack.bot_llm.set_rules(conversation.scripted_rules)
    if stack.persona_llm is not None:
        stack.persona_llm.set_rules(conversation.scripted_persona_rules)
    persona = conversation.caller.persona
    callers: list[PersonaCaller] = []
    if persona is not None:

        def factory(call: Any) -> PersonaCaller:
            caller = PersonaCaller(
                persona, stack.persona_endpoint, call.transcript, stack.acs.engine.clock, stack.session
            )
            callers.append(caller)
            return caller

        stack.personas[number] = factory
    else:
        stack.acs.set_script(number, conversation.caller.script)
    sms_before = len(stack.acs.sent_sms)
    calls_before = len(stack.acs.engine.calls)
    body: dict[str, Any] = {
        "phone_number": number,
        "bot_name": setup.bot_name,
        "bot_company": setup.bot_company,
        "task": setup.task,
        "claim_schema": [f.model_dump(exclude_none=True) for f in setup.claim_schema],
        "languages": setup.languages,
        "agent_phone_number": setup.agent_phone_number,
    }
    if setup.default_language:
        body["default_language"] = setup.default_language
    observed = Observed(caller_number=number, agent_number=setup.agent_phone_number)
    started = time.monotonic()
    headers = {"x-functions-key": FUNCTION_KEY}
    try:
        async with stack.session.post(f"{stack.host.base_url}/call", json=body, headers=headers) as response:
            created = await response.json()
            if response.status != 201:
                raise RuntimeError(f"POST /call answered {response.status}: {created}")
        emulated = next(
            c for c in (await stack.acs.wait_for_calls(calls_before + 1)) if c.person_number == number
        )
        try:
            await stack.acs.wait_for_call_end(emulated.call_id, timeout=conversation.timeout_s)
        except TimeoutError:
            observed.error = f"the call was still going after {conversation.timeout_s:.0f} s"
            stack.acs.engine.remote_hangup(emulated)
        observed.duration_s = time.monotonic() - started
        with contextlib.suppress(TimeoutError):
            await stack.acs.drain_callbacks(timeout=10)
        stored = await stack.services.calls.get(created["call_id"])
        entries = stack.acs.transcript(emulated.call_id)
        observed.transcript = _transcript(entries)
        observed.ended = emulated.ended.is_set()
        observed.ended_by = emulated.ended_by
        observed.transfers = [
            str(e.get("target") or "").removeprefix("4:")
            for e in entries
            if e["kind"] == "transfer" and not e.get("outcome")
        ]
        observed.sms_to = [str(s["to"]) for s in stack.acs.sent_sms[sms_before:]]
        if stored is not None:
            observed.claim = dict(stored.claim)
            observed.tools = [t.name for m in stored.messages for t in m.tool_calls]
            observed.reminders = len(stored.reminders)
            observed.language = stored.language
            observed.turns = stored.counters.turns
            observed.answer_latency_ms = list(stored.timing.answer_latency_ms)
            observed.prompt_tokens = stored.counters.llm_prompt_tokens
            observed.completion_tokens = stored.counters.llm_completion_tokens
        else:
            observed.error = "the call was not stored"
    except (RuntimeError, aiohttp.ClientError, TimeoutError, StopIteration) as exc:
        observed.error = observed.error or str(exc) or type(exc).__name__
        observed.duration_s = time.monotonic() - started
    finally:
        stack.personas.pop(number, None)
    return score(conversation, observed, prices), observed


async def run_all(
    stack: EvalStack, conversations: list[Conversation], prices: Prices | None = None
) -> list[tuple[Score, Observed]]:
    results = []
    for conversation in conversations:
        results.append(await run_conversation(stack, conversation, prices))
        await asyncio.sleep(0)
    return results
