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
from core.models import Action, Call
from core.models import Persona as MessagePersona
from local.acs_emulator import AcsEmulator, EmulatorConfig
from local.acs_emulator.caller import ScriptedCaller
from local.acs_emulator.script import parse_script
from local.evals.persona import ModelEndpoint, PersonaCaller
from local.evals.scoring import Observed, Score, score
from local.evals.spec import Conversation, OneCall, Prices
from local.evals.texting import TextingCaller, has_texts
from local.functions_host import FunctionsHost, HostConfig
from local.scripted_llm import ScriptedLlm

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEY = "evals-function-key"
PERSONA_MODEL = "persona"
# How long the function app may take over one SMS (a live call answers it on the phone: a model turn).
SMS_TIMEOUT_S = 60.0


def build_app() -> func.FunctionApp:
    """The call-handling blueprints and the SMS trigger; the post-call queue is left unconsumed (insights are not scored)."""
    from functions.calls_create import bp as calls_create_bp
    from functions.calls_read import bp as calls_read_bp
    from functions.health import bp as health_bp
    from functions.messaging import bp as messaging_bp
    from functions.telephony import bp as telephony_bp

    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    for blueprint in (health_bp, calls_read_bp, calls_create_bp, telephony_bp, messaging_bp):
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
    # Who the emulator makes the caller on a number's next call (a persona, a script that texts).
    callers: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

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
async def eval_stack(
    *, scripted: bool = True, speed: float = 0.0, **emulator: Any
) -> AsyncIterator[EvalStack]:
    """The emulator (``emulator``: more EmulatorConfig fields), the host and (scripted) models; Cosmos
    DB and Azurite must be running already (python -m local.evals starts them; tests use the
    local_stack fixture)."""
    bot_llm = persona_llm = None
    if scripted:
        bot_llm = await ScriptedLlm().start()
        persona_llm = await ScriptedLlm().start()
    acs = AcsEmulator(EmulatorConfig(speed_factor=speed, **emulator))
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
    webhooks = f"{host.base_url}/runtime/webhooks/EventGrid?code={FUNCTION_KEY}&functionName="
    acs.config.eventgrid_endpoint = webhooks + "incoming_call"
    acs.config.sms_eventgrid_endpoint = webhooks + "sms_received"
    session = aiohttp.ClientSession()
    endpoint = (
        ModelEndpoint(persona_llm.base_url, PERSONA_MODEL, "scripted-key")
        if persona_llm is not None
        else persona_endpoint_from_env()
    )
    stack = EvalStack(acs, host, services, session, endpoint, bot_llm, persona_llm)
    _route_callers(stack)
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


def _route_callers(stack: EvalStack) -> None:
    """The emulator builds the caller when a call starts; numbers with a factory (a persona, a script
    that texts) get it, once. (The emulator has no public hook for it: its caller factory is wrapped
    here, for evals only.)"""
    engine = stack.acs.engine
    original = engine._make_caller

    def make_caller(call: Any, script: Any, interactive: bool) -> Any:
        factory = stack.callers.pop(call.person_number, None)
        return factory(call) if factory else original(call, script, interactive)

    engine._make_caller = make_caller  # type: ignore[method-assign]


@dataclass
class _Run:
    """One conversation as it goes: its calls, the texts sent, what went wrong."""

    stack: EvalStack
    conversation: Conversation
    number: str
    emulated: list[Any] = field(default_factory=list)  # the emulator's calls, in order
    between: dict[int, list[str]] = field(default_factory=dict)  # texts sent before call n
    personas: list[PersonaCaller] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def send_sms(self, text: str) -> None:
        """The caller texts the bot; returns once the product has handled the SMSReceived event."""
        acs = self.stack.acs
        event = acs.receive_sms(self.number, text)
        try:
            outcome = await acs.wait_for_sms_delivery(event["id"], timeout=SMS_TIMEOUT_S)
        except TimeoutError:
            self.errors.append(f"the SMS {text[:40]!r} was still not handled after {SMS_TIMEOUT_S:.0f} s")
            return
        if not outcome.delivered:
            self.errors.append(f"the function app refused the SMS {text[:40]!r} (HTTP {outcome.status})")

    def factory(self, one: OneCall) -> Callable[[Any], Any] | None:
        """How the emulator makes this call's caller: None for a plain script (its own scripted caller)."""
        stack = self.stack
        persona = one.persona
        if persona is not None:

            def play_persona(call: Any) -> PersonaCaller:
                caller = PersonaCaller(
                    persona, stack.persona_endpoint, call.transcript, stack.acs.engine.clock, stack.session
                )
                self.personas.append(caller)
                return caller

            return play_persona
        if has_texts(one.script):
            engine = stack.acs.engine
            steps = list(one.script or [])

            def texting(call: Any) -> TextingCaller:
                def part(part_steps: list[dict[str, Any]]) -> ScriptedCaller:
                    return ScriptedCaller(
                        parse_script(part_steps),
                        call.transcript,
                        engine.clock,
                        lambda: engine.remote_hangup(call),
                        engine.config.exhausted_script_hangup_s,
                    )

                return TextingCaller(steps, part, self.send_sms, engine.clock)

            return texting
        return None

    async def until_ended(self, emulated: Any) -> bool:
        self.emulated.append(emulated)
        try:
            await self.stack.acs.wait_for_call_end(emulated.call_id, timeout=self.conversation.timeout_s)
        except TimeoutError:
            self.errors.append(
                f"call {len(self.emulated)} was still going after {self.conversation.timeout_s:.0f} s"
            )
            self.stack.acs.engine.remote_hangup(emulated)
            return False
        return True

    async def call_back(self, one: OneCall) -> bool:
        """The caller rings the bot's number."""
        factory = self.factory(one)
        if factory is not None:
            self.stack.callers[self.number] = factory
        script = None if factory is not None else one.script
        return await self.until_ended(self.stack.acs.start_incoming_call(self.number, script))

    def transcript(self) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for index, emulated in enumerate(self.emulated):
            for text in self.between.get(index, []):
                lines.append({"who": "caller", "text": text, "note": "SMS, between calls"})
            if index:
                lines.append(
                    {"who": "event", "text": "", "note": f"the caller calls back (call {index + 1})"}
                )
            lines += _transcript(self.stack.acs.transcript(emulated.call_id))
        for text in self.between.get(len(self.emulated), []):
            lines.append({"who": "caller", "text": text, "note": "SMS, after the calls"})
        return lines


def _transcript(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for entry in entries:
        kind = entry["kind"]
        if kind == "bot_said":
            lines.append({"who": "bot", "text": entry["text"], "note": entry.get("language") or ""})
        elif kind == "caller_said" and not entry.get("ignored"):
            lines.append({"who": "caller", "text": entry["text"], "note": entry.get("language") or ""})
        elif kind == "caller_sms":
            lines.append({"who": "caller", "text": entry["text"], "note": "SMS"})
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


async def _case(stack: EvalStack, first_id: str, number: str, calls: int) -> Call | None:
    """The case the conversation ended on: the first call's, or after calls back the number's latest."""
    if calls == 1:
        return await stack.services.calls.get(first_id)
    page = await stack.services.calls.list(phone_number=number, limit=1)
    return page.calls[0] if page.calls else None


def _observe(observed: Observed, run: _Run, stored: Call | None, first_id: str) -> None:
    acs = run.stack.acs
    entries = [e for c in run.emulated for e in acs.transcript(c.call_id)]
    last = run.emulated[-1]
    observed.transcript = run.transcript()
    observed.calls = len(run.emulated)
    observed.ended = last.ended.is_set()
    observed.ended_by = last.ended_by
    observed.transfers = [
        str(e.get("target") or "").removeprefix("4:")
        for e in entries
        if e["kind"] == "transfer" and not e.get("outcome")
    ]
    if stored is None:
        observed.error = "the call was not stored"
        return
    observed.claim = dict(stored.claim)
    observed.tools = [t.name for m in stored.messages for t in m.tool_calls]
    observed.reminders = len(stored.reminders)
    observed.language = stored.language
    observed.turns = stored.counters.turns
    observed.answer_latency_ms = list(stored.timing.answer_latency_ms)
    observed.prompt_tokens = stored.counters.llm_prompt_tokens
    observed.completion_tokens = stored.counters.llm_completion_tokens
    observed.resumed = len(run.emulated) > 1 and stored.call_id == first_id and stored.resumed_count > 0
    observed.caller_texts = sum(
        1 for m in stored.messages if m.action is Action.SMS and m.persona is MessagePersona.HUMAN
    )


async def run_conversation(
    stack: EvalStack, conversation: Conversation, prices: Prices | None = None
) -> tuple[Score, Observed]:
    setup = conversation.setup
    number = setup.caller_number or f"+1415{random.randint(2000000, 9999999)}"
    if stack.bot_llm is not None:
        stack.bot_llm.set_rules(conversation.scripted_rules)
    if stack.persona_llm is not None:
        stack.persona_llm.set_rules(conversation.scripted_persona_rules)
    run = _Run(stack, conversation, number)
    first = run.factory(conversation.caller)
    if first is not None:
        stack.callers[number] = first
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
        going = await run.until_ended(emulated)
        for step in conversation.caller.then if going else []:
            with contextlib.suppress(TimeoutError):
                await stack.acs.drain_callbacks(timeout=10)  # the call before is wrapped up
            if step.sms is not None:
                run.between.setdefault(len(run.emulated), []).append(step.sms)
                await run.send_sms(step.sms)
            elif step.call_back is not None and not await run.call_back(step.call_back):
                break
        observed.duration_s = time.monotonic() - started
        with contextlib.suppress(TimeoutError):
            await stack.acs.drain_callbacks(timeout=10)
        observed.sms_to = [str(s["to"]) for s in stack.acs.sent_sms[sms_before:]]
        _observe(
            observed,
            run,
            await _case(stack, created["call_id"], number, len(run.emulated)),
            created["call_id"],
        )
    except (RuntimeError, aiohttp.ClientError, TimeoutError, StopIteration) as exc:
        observed.error = observed.error or str(exc) or type(exc).__name__
        observed.duration_s = time.monotonic() - started
    finally:
        stack.callers.pop(number, None)
    if run.errors:
        observed.error = "; ".join(e for e in (observed.error, *run.errors) if e)
    return score(conversation, observed, prices), observed


async def run_all(
    stack: EvalStack, conversations: list[Conversation], prices: Prices | None = None
) -> list[tuple[Score, Observed]]:
    results = []
    for conversation in conversations:
        results.append(await run_conversation(stack, conversation, prices))
        await asyncio.sleep(0)
    return results
