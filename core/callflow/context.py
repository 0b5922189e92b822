"""What every event handler of the call flow is given: the ports, the settings, the worker's memory,
and the telephony helpers all handlers share (what to say in which voice, how to listen)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import CallGone
from core.models import Call, Choice, OperationContext, SpokenText, Style
from core.observability import logger

if TYPE_CHECKING:
    from core.engine.translation import PhraseTranslations
    from core.engine.turn import TurnEngine
    from core.ports import CallbackVerifier, CallStore, EventInbox, QueueSender, RuntimeConfig, Telephony
    from core.runtime import RuntimeSnapshot
    from core.settings import Settings

# Bounded worker memories: a worker handles many calls over its life.
_MEMORY_LIMIT = 10_000

# The run-time options of the event being handled (read once per event; tasks it starts inherit them).
_EVENT_CONFIG: ContextVar[RuntimeSnapshot | None] = ContextVar("event_runtime_config", default=None)


class FlowServices(Protocol):
    """The part of core.bootstrap.Services the call flow uses."""

    settings: Settings

    @property
    def calls(self) -> CallStore: ...
    @property
    def inbox(self) -> EventInbox: ...
    @property
    def queues(self) -> QueueSender: ...
    @property
    def telephony(self) -> Telephony: ...
    @property
    def verifier(self) -> CallbackVerifier: ...
    @property
    def engine(self) -> TurnEngine: ...
    @property
    def runtime_config(self) -> RuntimeConfig: ...
    @property
    def phrases(self) -> PhraseTranslations: ...
    def start_warm_up(self) -> None: ...
    async def ready_engine(self) -> TurnEngine: ...


@dataclass
class TurnHandle:
    """One spoken turn of a call on this worker. Interrupting it (the caller spoke again, or another
    worker's turn took over) stops it before its next sentence."""

    call_id: str
    turn_id: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def interrupt(self) -> None:
        self.stop.set()

    @property
    def interrupted(self) -> bool:
        return self.stop.is_set()


class WorkerMemory:
    """What one worker remembers between invocations; the store holds the cross-worker truth."""

    def __init__(self) -> None:
        self.running: dict[str, TurnHandle] = {}
        # Callback secrets never change: once a call's document has been read, its secret is kept.
        self.secrets: dict[str, str] = {}
        # Turns this worker ran to the end without a hang-up or transfer: their plays need no follow-up.
        self.quiet_turns: set[str] = set()

    def start_turn(self, call_id: str, turn_id: str) -> tuple[TurnHandle, TurnHandle | None]:
        """The new turn's handle, and the older running one it interrupted (if any)."""
        older = self.running.get(call_id)
        handle = TurnHandle(call_id, turn_id)
        self.running[call_id] = handle
        if older is not None and older.turn_id != turn_id:
            older.interrupt()
            return handle, older
        return handle, None

    def end_turn(self, handle: TurnHandle) -> None:
        if self.running.get(handle.call_id) is handle:
            del self.running[handle.call_id]

    def is_current(self, handle: TurnHandle) -> bool:
        return self.running.get(handle.call_id) is handle and not handle.interrupted

    def remember_secret(self, call: Call) -> None:
        if len(self.secrets) > _MEMORY_LIMIT:
            self.secrets.clear()
        self.secrets[call.call_id] = call.callback_secret

    def quiet(self, turn_id: str) -> None:
        if len(self.quiet_turns) > _MEMORY_LIMIT:
            self.quiet_turns.clear()
        self.quiet_turns.add(turn_id)


class FlowContext:
    def __init__(self, services: FlowServices) -> None:
        self.services = services
        self.settings = services.settings
        self.memory = WorkerMemory()
        self.log: logging.Logger = logger()

    @property
    def calls(self) -> CallStore:
        return self.services.calls

    @property
    def tel(self) -> Telephony:
        return self.services.telephony

    @contextlib.asynccontextmanager
    async def event(self) -> AsyncIterator[RuntimeSnapshot]:
        """Handle one event with one snapshot of the run-time options (cached; see RuntimeConfig)."""
        token = _EVENT_CONFIG.set(await self.services.runtime_config.snapshot())
        try:
            yield self.config
        finally:
            _EVENT_CONFIG.reset(token)

    @property
    def config(self) -> RuntimeSnapshot:
        """The run-time options of the event being handled."""
        found = _EVENT_CONFIG.get()
        return found if found is not None else self.services.runtime_config.current()

    def callback_url(self, call: Call) -> str:
        base = self.settings.acs.callback_base_url.rstrip("/")
        return f"{base}/callbacks/{call.call_id}/{call.callback_secret}"

    def phrase(self, name: str, call: Call, **fmt: Any) -> str:
        from core.engine.phrases import render_phrase

        # Varied along the call, stable across retries of the same step.
        seed = f"{call.call_id}:{len(call.messages)}"
        return render_phrase(
            name, call.language, call=call, overrides=self.config.overrides, seed=seed, **fmt
        )

    def spoken(
        self, call: Call, text: str, style: Style | str = Style.NONE, language: str = ""
    ) -> SpokenText:
        option = call.initiate.language(language or call.language)
        return SpokenText(
            text=text,
            voice=option.voice,
            language=option.code,
            style=str(style.value if isinstance(style, Style) else style),
            rate=call.speech_speed,
            **option.speech_fields(),
        )

    async def unless_gone(self, action: Awaitable[None]) -> None:
        """Run a telephony action; a call that no longer exists (the caller hung up) is not an error:
        its CallDisconnected finalizes it."""
        try:
            await action
        except CallGone as exc:
            self.log.info("telephony action on a call that is gone: %s", exc)

    async def play(self, call: Call, connection_id: str, text: SpokenText, context: OperationContext) -> None:
        await self.unless_gone(self.tel.play(connection_id, text, context=context.format()))

    async def listen(
        self,
        call: Call,
        connection_id: str,
        context: OperationContext,
        prompt: Sequence[SpokenText] = (),
        choices: list[Choice] | None = None,
    ) -> None:
        await self.unless_gone(self.recognize(call, connection_id, context, prompt, choices=choices))

    async def recognize(
        self,
        call: Call,
        connection_id: str,
        context: OperationContext,
        prompt: Sequence[SpokenText] = (),
        *,
        choices: list[Choice] | None = None,
        initial_silence_s: float | None = None,
        interrupt_media: bool = False,
        language: str = "",
    ) -> None:
        """A recognize with the run-time timeouts (``initial_silence_s`` overrides the silence one);
        raises CallGone when the call is gone."""
        config = self.config
        silence = config.phone_silence_timeout_s if initial_silence_s is None else initial_silence_s
        await self.tel.listen(
            connection_id,
            call.phone_number,
            language=call.initiate.language(language or call.language).code,
            context=context.format(),
            prompt=prompt,
            choices=choices,
            initial_silence_s=silence,
            end_silence_s=config.recognition_completion_timeout_s,
            interrupt_media=interrupt_media,
        )
