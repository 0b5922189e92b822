"""Hang-up and transfer, each performed once, after its announcement has been played."""

from __future__ import annotations

from core import telemetry
from core.callflow.context import FlowContext
from core.callflow.events import (
    CallEvent,
    CallTransferAccepted,
    CallTransferFailed,
    PlayEnded,
    PlayFailed,
    RecognizeFailed,
)
from core.errors import CallGone, TelephonyError
from core.models import (
    Action,
    Call,
    CallStatus,
    EndingKind,
    Message,
    OperationContext,
    PendingAction,
    Persona,
    Purpose,
)
from core.models.webhook import WebhookEventType
from core.webhooks.outbox import emit

# RecognizeFailed's subCode when nothing was said before the initial silence ran out.
SILENCE_SUB_CODE = 8510


def needs_nothing(ctx: FlowContext, event: CallEvent) -> bool:
    """A play's (or a sentence's) end that cannot be the announcement of a pending hang-up or
    transfer."""
    context = event.context
    if context is None:
        return False
    if isinstance(event, RecognizeFailed) and event.of_turn:
        if context.is_turn_listening:
            return True  # the listening while the model thought, replaced or timed out
        return event.sub_code == SILENCE_SUB_CODE and context.ref in ctx.memory.quiet_turns
    if not isinstance(event, PlayEnded) or isinstance(event, PlayFailed):
        return False  # a failed play is rare and always worth its log line
    return context.purpose is Purpose.GREETING or (
        context.is_turn_play and context.ref in ctx.memory.quiet_turns
    )


def log_play_failed(ctx: FlowContext, call: Call, event: PlayFailed) -> None:
    """What ACS said about a play that failed: the caller heard nothing of it."""
    info = event.data.get("resultInformation") or {}
    ctx.log.warning(
        "PlayFailed %s of call %s (%s): code %s, subCode %s: %s",
        event.id,
        call.call_id,
        event.raw_context or "no context",
        info.get("code"),
        info.get("subCode"),
        str(info.get("message") or "")[:200],
    )


async def on_sentence_ended(ctx: FlowContext, call: Call, event: RecognizeFailed, received_at: float) -> None:
    """A sentence of an answer or the goodbye ended (a recognize with an initial silence of 0: ACS
    gives up as soon as its prompt ends), or the listening while the model thought timed out."""
    context = event.context
    if context is None or not (context.is_turn_play or context.purpose is Purpose.GOODBYE):
        return
    await _announcement_ended(ctx, call, context)


async def on_play_ended(ctx: FlowContext, call: Call, event: PlayEnded, received_at: float) -> None:
    if isinstance(event, PlayFailed):
        log_play_failed(ctx, call, event)
    await _announcement_ended(ctx, call, event.context)


async def _announcement_ended(ctx: FlowContext, call: Call, context: OperationContext | None) -> None:
    if context is None or call.status is CallStatus.ENDED:
        return
    raw = context.format()
    # A play of a turn not yet persisted may be the announcement of a hang-up or transfer that turn
    # is about to request: remember it was played (the turn side then runs the action). The turn may
    # not even be stored as begun yet (concurrent delivery): only a turn stored as settled, or a play
    # of another kind, needs nothing.
    unsettled = context.is_turn_play and not call.connection.settled(context.ref)
    if call.connection.waits_for(raw) or unsettled:
        await perform_when_played(ctx, call, raw, from_play=True)


async def perform_when_played(ctx: FlowContext, call: Call, context: str, *, from_play: bool) -> None:
    """Run the pending action (hang-up, transfer) once its announcement has been played.

    Both sides record what they know in the call document: the play side that `context` was played,
    the turn side the pending action. Whichever writes second runs the action, exactly once."""
    started: list[tuple[PendingAction, str, str]] = []

    def check(c: Call) -> bool:
        started.clear()
        if from_play:
            c.connection.mark_played(context)
        pending = c.connection.start_pending() if c.status is not CallStatus.ENDED else None
        if pending is not None:
            started.append((pending, c.connection_id or "", c.initiate.agent_phone_number))
        return from_play or pending is not None

    call = await ctx.calls.update(call.call_id, check, current=call)
    if not started:
        return
    pending, connection_id, agent = started[0]
    if pending.kind is EndingKind.HANGUP:
        try:
            await ctx.tel.hang_up(connection_id)
        except CallGone:
            return  # the caller hung up first
        except BaseException:
            await ctx.calls.update(call.call_id, lambda c: c.connection.retry_pending(pending.context))
            raise
        return
    try:
        transfer = OperationContext(Purpose.TRANSFER, pending.context)
        await ctx.tel.transfer(connection_id, agent, context=transfer.format())
    except TelephonyError as exc:
        ctx.log.warning("transfer of call %s failed: %s", call.call_id, exc)
        fresh = await ctx.calls.get(call.call_id)
        if fresh is not None:
            await transfer_failed(ctx, fresh, fresh.connection_id or "", f"xfer-error:{context}")


async def on_transfer_accepted(
    ctx: FlowContext, call: Call, event: CallTransferAccepted, received_at: float
) -> None:
    accepted: list[bool] = []

    def transferred(c: Call) -> bool:
        # Only the answer to the transfer this call requested: a stray or replayed acceptance (no
        # transfer started, or another operation's context) must not mark the call transferred.
        accepted[:] = [False]
        pending = c.connection.pending
        if pending is None or pending.kind is not EndingKind.TRANSFER or not pending.started:
            return False
        expected = OperationContext(Purpose.TRANSFER, pending.context).format()
        if event.raw_context and event.raw_context != expected:
            return False
        accepted[:] = [c.connection.accept_transfer()]
        if not accepted[0]:
            return False
        c.messages.append(
            Message(
                persona=Persona.ASSISTANT,
                action=Action.TRANSFER,
                content=f"Transferred to {c.initiate.agent_phone_number}",
                source_id=event.id,
            )
        )
        return True

    state = await ctx.calls.update(call.call_id, transferred, current=call)
    if accepted and accepted[0]:
        telemetry.record_transfer("accepted")
    if state.connection.transferred:  # on a retried delivery too: the event is idempotent
        await emit(
            ctx.settings,
            ctx.calls,
            ctx.services.queues,
            call.call_id,
            WebhookEventType.CALL_TRANSFERRED,
            state.connection_id or "transfer",
            current=state,
        )


async def on_transfer_failed(
    ctx: FlowContext, call: Call, event: CallTransferFailed, received_at: float
) -> None:
    await transfer_failed(ctx, call, event.connection_id or call.connection_id or "", event.id)


async def transfer_failed(ctx: FlowContext, call: Call, connection_id: str, source_id: str) -> None:
    """Nobody took the call: say so and keep the conversation going."""
    if call.status is CallStatus.ENDED:
        return
    text = ctx.phrase("transfer_failed", call)

    first: list[bool] = []

    def failed(c: Call) -> bool:
        first[:] = [not c.has_message(source_id)]
        if not first[0]:
            return False
        c.connection.cancel_ending()
        c.messages.append(Message(persona=Persona.ASSISTANT, content=text, source_id=source_id))
        return True

    call = await ctx.calls.update(call.call_id, failed, current=call)
    if first and first[0]:
        telemetry.record_transfer("failed")
    listen = OperationContext(Purpose.LISTEN, source_id)
    await ctx.listen(call, connection_id, listen, [ctx.spoken(call, text)])
