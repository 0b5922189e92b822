"""What a turn said, and its plays that come before the end of the answer: the first sentence (the
answer latency is measured there) and the apology when the hard timeout passed.

The first sentence is claimed in the inbox while the model thinks (an earlier attempt of a redelivered
event may have said it already), and only a hang-up (CallGone) means the line is gone: any other
refusal of ACS leaves the sentence to be said with the rest of the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.callflow.context import FlowContext, TurnHandle
from core.errors import CallGone, StoreUnavailable, TelephonyError
from core.models import Call, Message, OperationContext, Persona, SpokenText

if TYPE_CHECKING:
    from core.engine.outcome import TurnOutcome
    from core.engine.turn import Turn


@dataclass
class SpokenTurn:
    """What a turn said, as it happened."""

    handle: TurnHandle
    turn: Turn | None = None
    first_context: OperationContext | None = None
    answer_latency_ms: float | None = None
    line_dead: bool = False
    # The caller hung up (or the call ended elsewhere): say nothing more, but let the model finish.
    hung_up: bool = False
    # A first play ACS refused (not a hang-up): its sentence is said with the rest.
    first_failed: bool = False
    said_before: asyncio.Task[bool] | None = None
    rest: list[SpokenText] = field(default_factory=list)
    extra_messages: list[Message] = field(default_factory=list)

    @property
    def outcome(self) -> TurnOutcome | None:
        try:
            return self.turn.outcome if self.turn is not None else None
        except RuntimeError:  # given up (hard timeout) before the turn had started
            return None

    @property
    def silent(self) -> bool:
        return self.line_dead or self.hung_up

    @property
    def first_pending(self) -> bool:
        """The first sentence is still to be played (neither played nor handed to the rest)."""
        return self.first_context is None and not self.first_failed

    def last_context(self) -> OperationContext:
        """The context of the turn's last play: a hang-up or transfer waits for it to be played."""
        turn_id = self.handle.turn_id
        if self.rest:
            return OperationContext.turn(turn_id, len(self.rest))
        return self.first_context or OperationContext.turn(turn_id, OperationContext.SILENT)


async def play_first(
    ctx: FlowContext,
    connection_id: str,
    spoken: SpokenText,
    result: SpokenTurn,
    cancel: asyncio.Task[None] | None,
    received_at: float,
) -> bool:
    """Play the first sentence; False when the line is gone (the caller hung up)."""
    if cancel is not None:
        await asyncio.gather(cancel, return_exceptions=True)
    handle = result.handle
    context = OperationContext.turn(handle.turn_id, 0)
    if not await _first_time(ctx, result):
        result.first_context = context  # said by an earlier attempt of this event
        return True
    try:
        await ctx.tel.play(connection_id, spoken, context=context.format())
    except CallGone as exc:
        ctx.log.info("play on %s failed (%s); the line is gone", connection_id, exc)
        result.line_dead = True
        return False
    except TelephonyError as exc:
        ctx.log.warning("first play on %s failed (%s); said with the rest", connection_id, exc)
        result.first_failed = True
        result.rest.append(spoken)
        with contextlib.suppress(StoreUnavailable):
            await ctx.services.inbox.release(handle.call_id, said_key(handle.turn_id))
        return True
    result.first_context = context
    result.answer_latency_ms = (time.perf_counter() - received_at) * 1000
    return True


def said_key(turn_id: str) -> str:
    """The inbox key claimed by the first attempt that says a turn's first sentence."""
    return f"{turn_id}#said"


async def _first_time(ctx: FlowContext, result: SpokenTurn) -> bool:
    """False when an earlier attempt of this event said the first sentence already."""
    if result.said_before is None:
        return True
    try:
        return await result.said_before
    except StoreUnavailable as exc:  # better said twice than not at all
        ctx.log.warning("first-sentence claim failed: %s", exc)
        return True


async def apologize(
    ctx: FlowContext,
    call: Call,
    connection_id: str,
    result: SpokenTurn,
    cancel: asyncio.Task[None] | None,
    received_at: float,
) -> None:
    """The hard timeout passed: say sorry and invite the caller to repeat; the call goes on."""
    turn_id = result.handle.turn_id
    ctx.log.warning("turn %s of call %s: no answer within the hard timeout", turn_id, call.call_id)
    text = ctx.phrase("error", call)
    result.extra_messages.append(
        Message(persona=Persona.ASSISTANT, content=text, source_id=f"{turn_id}:late")
    )
    spoken = ctx.spoken(call, text)
    if result.first_pending:
        await play_first(ctx, connection_id, spoken, result, cancel, received_at)
    else:
        result.rest.append(spoken)
