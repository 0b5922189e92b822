"""The first sentence of a turn and the record of what the turn said.

The first play is the latency path: it is claimed in the inbox while the model thinks (an earlier
attempt of a redelivered event may have said it already), and only a hang-up (CallGone) means the
line is gone; any other refusal of ACS leaves the sentence to be said with the rest of the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.callflow.context import FlowContext, TurnHandle
from core.errors import CallGone, StoreUnavailable, TelephonyError
from core.models import Message, OperationContext, SpokenText

if TYPE_CHECKING:
    from core.engine.outcome import TurnOutcome
    from core.engine.turn import Turn


def said_key(turn_id: str) -> str:
    """The inbox key claimed by the first attempt that says a turn's first sentence."""
    return f"{turn_id}#said"


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
        return self.turn.outcome if self.turn is not None else None

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
) -> None:
    if cancel is not None:
        await asyncio.gather(cancel, return_exceptions=True)
    handle = result.handle
    context = OperationContext.turn(handle.turn_id, 0)
    if not await _first_time(ctx, result):
        result.first_context = context  # said by an earlier attempt of this event
        return
    try:
        await ctx.tel.play(connection_id, spoken, context=context.format())
    except CallGone as exc:
        ctx.log.info("play on %s failed (%s); the line is gone", connection_id, exc)
        result.line_dead = True
        return
    except TelephonyError as exc:
        ctx.log.warning("first play on %s failed (%s); said with the rest", connection_id, exc)
        result.first_failed = True
        result.rest.append(spoken)
        with contextlib.suppress(StoreUnavailable):
            await ctx.services.inbox.release(handle.call_id, said_key(handle.turn_id))
        return
    result.first_context = context
    result.answer_latency_ms = (time.perf_counter() - received_at) * 1000


async def _first_time(ctx: FlowContext, result: SpokenTurn) -> bool:
    """False when an earlier attempt of this event said the first sentence already."""
    if result.said_before is None:
        return True
    try:
        return await result.said_before
    except StoreUnavailable as exc:  # better said twice than not at all
        ctx.log.warning("first-sentence claim failed: %s", exc)
        return True
