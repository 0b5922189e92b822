"""After a turn is persisted: say what it still had to say, then listen or let its ending run.

What is left is stored with the turn (``Connection.follow_up``), so when a telephony action fails here
the event fails, ACS redelivers it, and the redelivery resumes from the stored follow-up: the model is
not asked again, nothing already played is played again, no tool runs twice.
"""

from __future__ import annotations

import functools

from core.callflow.context import FlowContext
from core.callflow.endings import perform_when_played
from core.errors import CallGone, TelephonyError
from core.models import Call, CallStatus, OperationContext, Purpose, TurnFollowUp


def resumable(call: Call, turn_id: str) -> TurnFollowUp | None:
    """The stored follow-up of ``turn_id`` when its event is redelivered and it is still the call's turn."""
    follow = call.connection.resumable(turn_id)
    if follow is None or call.current_turn_id != turn_id or call.status is CallStatus.ENDED:
        return None
    pending = call.connection.pending
    if follow.ending and (pending is None or pending.started):
        return None  # the ending ran already
    return follow


async def follow_up(ctx: FlowContext, state: Call, connection_id: str, follow: TurnFollowUp) -> None:
    turn_id = follow.turn_id
    if not follow.ending:
        ctx.memory.quiet(turn_id)
        listen = OperationContext(Purpose.LISTEN, turn_id)
        await ctx.unless_gone(
            ctx.recognize(
                state, connection_id, listen, follow.prompts, interrupt_media=follow.replace_listening
            )
        )
        return
    if follow.replace_listening and follow.prompts:
        # The announcement must not wait behind the listening that ran while the model thought.
        try:
            await ctx.tel.cancel_media(connection_id)
        except CallGone:
            return
        except TelephonyError as exc:
            ctx.log.info("cancel media on %s: %s", connection_id, exc)
    for offset, item in enumerate(follow.prompts):
        index = follow.first_index + offset
        context = OperationContext.turn(turn_id, index)
        try:
            await ctx.tel.play(connection_id, item, context=context.format())
        except CallGone:
            return  # the caller hung up: CallDisconnected ends the call
        except TelephonyError:
            # The redelivery says the rest, from this play on (the pending ending waits for the last).
            left = follow.model_copy(
                update={"prompts": follow.prompts[offset:], "first_index": index, "replace_listening": False}
            )
            await ctx.calls.update(state.call_id, functools.partial(_store, follow=left))
            raise
    if not follow.prompts:
        pending = state.connection.pending
        await perform_when_played(ctx, state, pending.context if pending else "", from_play=False)


def _store(call: Call, follow: TurnFollowUp) -> bool:
    if call.connection.follow_up is None or call.connection.follow_up.turn_id != follow.turn_id:
        return False
    call.connection.follow_up = follow.model_copy(deep=True)
    return True
