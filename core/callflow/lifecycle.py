"""A call's life: placed or answered, connected (the greeting), disconnected (the post-call job)."""

from __future__ import annotations

import asyncio
from typing import Any

from core import telemetry
from core.callflow.context import FlowContext
from core.callflow.events import CallConnected, CallDisconnected, ConnectionFailed, RecordingStateChanged
from core.errors import TelephonyError, TelephonyRefused
from core.models import (
    Action,
    Call,
    CallDirection,
    CallStatus,
    InitiateRequest,
    Message,
    OperationContext,
    Persona,
    Purpose,
)
from core.models.verification import QUESTIONS, localized
from core.models.webhook import WebhookEventType
from core.observability import tracer
from core.webhooks.outbox import emit


async def place_call(ctx: FlowContext, initiate: InitiateRequest, *, call_id: str | None = None) -> Call:
    """POST /call (and a campaign's call, with its id): store the call, then place it.
    TelephonyRefused when ACS will not place it (the call is stored as ended, with the reason)."""
    fields = {"call_id": call_id} if call_id else {}
    call = await ctx.calls.create(Call(direction=CallDirection.OUTBOUND, initiate=initiate, **fields))
    with tracer().start_as_current_span("callflow.create_call") as span:
        span.set_attribute("call.id", call.call_id)
        try:
            connection_id = await ctx.tel.call(initiate.phone_number, ctx.callback_url(call))
        except TelephonyError as exc:
            ctx.log.warning("placing call %s failed: %s", call.call_id, exc)
            reason = f"could not place the call: {type(exc).__name__}"
            ended = await ctx.calls.update(call.call_id, lambda c: c.end(reason), current=call)
            await _announce(ctx, ended, WebhookEventType.CALL_FAILED, "place")
            raise TelephonyRefused("the telephony service refused to place the call") from exc
    return await ctx.calls.update(call.call_id, lambda c: c.attach(connection_id), current=call)


async def answer_incoming(ctx: FlowContext, event_id: str, data: dict[str, Any]) -> str | None:
    """Event Grid IncomingCall: see core.callflow.incoming (what a failed answer leaves behind)."""
    from core.callflow.incoming import answer_incoming as answer

    return await answer(ctx, event_id, data)


async def on_connected(ctx: FlowContext, call: Call, event: CallConnected, received_at: float) -> None:
    from core.callflow.dialog import listen_for_language

    connection_id = event.connection_id
    greeting: list[tuple[str, bool]] = []

    def connected(c: Call) -> bool:
        greeting.clear()
        if c.status is CallStatus.ENDED:
            # An answer for a caller who called back, connected before the answer was written.
            c.resume_on(connection_id)
        elif c.status in (CallStatus.RINGING, CallStatus.MISSED):
            # Connected before the answer was written (or after a lost answer was taken as refused).
            c.answered(connection_id)
        if c.status is CallStatus.ENDED or not c.connection.greet(connection_id, event.server_call_id):
            return False
        c.add_server_call_id(event.server_call_id)
        c.status = CallStatus.CONNECTED
        c.connection_id = connection_id or c.connection_id
        pending = c.connection.held_case
        if pending is not None:  # ask for the proof first (core.models.verification)
            text = localized(QUESTIONS[pending.check], c.language)
        else:
            text = ctx.phrase("welcome_back" if c.resumed else "greeting", c)
        if not c.has_message(event.id):  # a redelivery after a failed greeting says it again
            c.messages.append(
                Message(persona=Persona.ASSISTANT, action=Action.CALL, content=text, source_id=event.id)
            )
        greeting.append((text, len(c.initiate.languages) > 1 and not c.language_chosen))
        return True

    call = await ctx.calls.update(call.call_id, connected, current=call)
    if not greeting:
        return
    text, choose = greeting[0]
    # Recording starts with the connection (so the greeting is on it), alongside the greeting.
    recording = (
        asyncio.create_task(_start_recording(ctx, call.call_id, connection_id))
        if ctx.config.recording_enabled
        else None
    )
    spoken = ctx.spoken(call, text)
    try:
        if choose:
            await listen_for_language(ctx, call, connection_id, event.id, before=[spoken])
        else:
            await ctx.listen(call, connection_id, OperationContext(Purpose.LISTEN, event.id), [spoken])
    except TelephonyError:
        # ACS refused the greeting (CallGone is not raised here): not greeted, so the redelivered
        # CallConnected greets and listens again instead of leaving the caller in silence.
        await ctx.calls.update(call.call_id, lambda c: c.connection.ungreet(connection_id))
        if recording is not None:
            await recording
        raise
    ctx.services.start_warm_up()  # while the greeting plays: the first turn pays no imports nor clients
    if recording is not None:
        await recording


async def _start_recording(ctx: FlowContext, call_id: str, connection_id: str) -> None:
    try:
        await ctx.tel.start_recording(connection_id, container_url=ctx.settings.recordings.container_url)
    except TelephonyError as exc:  # recording is best effort: the conversation goes on
        ctx.log.warning("starting the recording of call %s failed: %s", call_id, exc)


async def on_recording(
    ctx: FlowContext, call: Call, event: RecordingStateChanged, received_at: float
) -> None:
    state = event.state
    await ctx.calls.update(call.call_id, lambda c: c.connection.set_recording(state), current=call)


async def on_disconnected(ctx: FlowContext, call: Call, event: CallDisconnected, received_at: float) -> None:
    connection_id = event.connection_id or call.connection_id or "-"
    enqueue: list[bool] = []

    def finalize(c: Call) -> bool:
        enqueue.clear()
        ending = c.status is not CallStatus.ENDED
        enqueue.append(c.finalize(connection_id, event.id))
        return ending or enqueue[0]

    state = await ctx.calls.update(call.call_id, finalize, current=call)
    if enqueue[0]:
        telemetry.record_call_ended("completed", transferred=state.connection.transferred)
    handle = ctx.memory.running.get(call.call_id)
    if handle is not None:
        handle.interrupt()
        ctx.memory.end_turn(handle)
    await _wake_campaign(ctx, state)
    if enqueue[0]:
        try:
            await ctx.services.queues.send(ctx.settings.storage.post_call_queue, {"call_id": call.call_id})
        except BaseException:
            await ctx.calls.update(call.call_id, lambda c: c.unqueue_post_call(connection_id))
            raise
    if state.status is CallStatus.ENDED:
        # On every delivery of the event (a retried one too): pricing and the event are idempotent.
        await emit(
            ctx.settings,
            ctx.calls,
            ctx.services.queues,
            call.call_id,
            WebhookEventType.CALL_ENDED,
            connection_id,
            current=state,
            reprice=True,
        )


async def on_connection_failed(
    ctx: FlowContext, call: Call, event: ConnectionFailed, received_at: float
) -> None:
    reason = f"{event.type} ({event.sub_code})"
    ended: list[bool] = []

    def end(c: Call) -> bool:
        ended[:] = [c.end(reason)]
        return ended[0]

    state = await ctx.calls.update(call.call_id, end, current=call)
    await _wake_campaign(ctx, state)
    if ended and ended[0]:
        telemetry.record_call_ended("failed")
    if state.status is CallStatus.ENDED and state.end_reason == reason:
        await _announce(ctx, state, WebhookEventType.CALL_FAILED, event.connection_id or "connection")


async def _wake_campaign(ctx: FlowContext, call: Call) -> None:
    """A campaign's call ended: wake its campaign (core.campaigns) to free the slot and place the next
    call. A redelivered end wakes it again, which changes nothing; a queue that cannot be reached
    raises, so that the event comes again."""
    if call.initiate.campaign_id:
        await ctx.services.queues.send(
            ctx.settings.campaigns.queue, {"campaign_id": call.initiate.campaign_id}
        )


async def _announce(ctx: FlowContext, call: Call, kind: WebhookEventType, key: str) -> None:
    """A call.failed event; a failure to queue it is logged, never hides the call's own failure."""
    try:
        await emit(ctx.settings, ctx.calls, ctx.services.queues, call.call_id, kind, key, current=call)
    except Exception as exc:
        ctx.log.warning("webhook %s of call %s not queued: %s", kind.value, call.call_id, type(exc).__name__)
