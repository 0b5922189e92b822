"""What a turn said, and its plays that come before the end of the answer: the first sentence (the
answer latency is measured there) and the apology when the hard timeout passed."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.callflow.context import FlowContext, TurnHandle
from core.errors import TelephonyError
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
    rest: list[SpokenText] = field(default_factory=list)
    extra_messages: list[Message] = field(default_factory=list)

    @property
    def outcome(self) -> TurnOutcome | None:
        try:
            return self.turn.outcome if self.turn is not None else None
        except RuntimeError:  # given up (hard timeout) before the turn had started
            return None

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
    if cancel is not None:
        await asyncio.gather(cancel, return_exceptions=True)
    context = OperationContext.turn(result.handle.turn_id, 0)
    try:
        await ctx.tel.play(connection_id, spoken, context=context.format())
    except TelephonyError as exc:
        ctx.log.info("play on %s failed (%s); the line is gone", connection_id, exc)
        result.line_dead = True
        return False
    result.first_context = context
    result.answer_latency_ms = (time.perf_counter() - received_at) * 1000
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
    if result.first_context is None:
        await play_first(ctx, connection_id, spoken, result, cancel, received_at)
    else:
        result.rest.append(spoken)
