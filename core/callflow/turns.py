"""One conversational turn: the caller's words in, the model's answer spoken as it streams.

The turn reads the call once (the caller's event brought it) and writes it twice, each write
conditional on the ETag of the one before: the caller's words at once (concurrently with the model),
the answer when it is complete. A turn has a handle: a newer utterance interrupts it before its next
sentence, on this worker at once and on another through the store (checked at most every second).
The caller waits for the answer at most the turn's answer timeouts (run-time options, read once per
turn): past the soft one a filler is played, past the hard one the bot apologizes and listens again
(core.callflow.waits).
A caller who hangs up mid-turn interrupts only the speaking: the model's tool calls still run and are
stored. A failed event is redelivered by ACS: the first sentence is claimed in the inbox (never said
twice), and a persisted turn resumes from its stored follow-up (core.callflow.turn_follow_up).
"""

from __future__ import annotations

import asyncio

from core import telemetry
from core.callflow import hold
from core.callflow.answer import SpokenTurn, said_key
from core.callflow.context import FlowContext
from core.callflow.dialog import say_goodbye
from core.callflow.events import CallEvent
from core.callflow.speaker import Speaker
from core.callflow.turn_follow_up import follow_up, resumable
from core.callflow.waits import AnswerClock, AnswerLate, next_within
from core.errors import ProductError, TelephonyError
from core.models import (
    Action,
    Call,
    CallStatus,
    EndingKind,
    Message,
    OperationContext,
    Persona,
    TurnFollowUp,
)
from core.observability import redact, tracer

# A running turn reads the store at most this often to learn it was superseded on another instance
# (the same instance knows at once); the end of the turn checks the fresh state anyway.
SUPERSEDE_CHECK_S = 1.0


async def on_speech(
    ctx: FlowContext,
    call: Call,
    event: CallEvent,
    text: str,
    received_at: float,
    *,
    action: Action = Action.TALK,
    barge_in: bool = False,
) -> None:
    """The caller said ``text``. ``barge_in``: during a sentence of an answer, whose sentences still
    queued are cut, and whose pending hang-up or transfer (the caller interrupted its announcement)
    gives way to the conversation."""
    pending = call.connection.pending
    ending_interrupted = barge_in and pending is not None and not pending.started
    if not call.live and not (ending_interrupted and call.status is CallStatus.CONNECTED):
        return
    from core.engine.safety import clean_caller_text

    call_id, turn_id = call.call_id, event.id
    connection_id = event.connection_id or call.connection_id or ""
    stored = resumable(call, turn_id)
    if stored is not None:  # a redelivery of a turn already persisted: only its follow-up is left
        await follow_up(ctx, call, connection_id, stored)
        return
    if call.counters.turns >= ctx.settings.conversation.max_turns:
        await say_goodbye(ctx, call, event)
        return
    handle, older = ctx.memory.start_turn(call_id, turn_id)
    stored_older = call.connection.open_turn
    # A newer utterance, or an SMS (the caller may be listening or being listened to), clears the
    # media queue so the answer is heard and recognition starts afresh after it.
    cancel: asyncio.Task[None] | None = None
    newer = older is not None or bool(stored_older and stored_older != turn_id)
    if action is Action.SMS or barge_in or newer:
        cancel = asyncio.create_task(_cancel_media(ctx, connection_id))
    caller = Message(
        persona=Persona.HUMAN, action=action, content=clean_caller_text(text), source_id=f"{turn_id}:caller"
    )

    def begin_turn(c: Call) -> None:
        pending = c.connection.pending
        if barge_in and pending is not None and not pending.started:
            c.connection.cancel_ending()
        c.begin_turn(turn_id, caller)

    begin = asyncio.create_task(ctx.calls.update(call_id, begin_turn, current=call))
    spoken = SpokenTurn(handle=handle)
    # Claimed while the model thinks: an earlier attempt of this event may have said it already.
    spoken.said_before = asyncio.create_task(ctx.services.inbox.claim(call_id, said_key(turn_id)))
    engine_stop = asyncio.Event()
    watch = StoreWatch(ctx, spoken, begin)
    watcher = asyncio.create_task(watch.run())
    relay = asyncio.create_task(_relay_stop(ctx, spoken, engine_stop))
    with tracer().start_as_current_span("callflow.turn") as span:
        span.set_attribute("call.id", call_id)
        span.set_attribute("turn.id", turn_id)
        speaker = Speaker(ctx, call, connection_id, spoken, received_at, cancel, watch.before_sentence)
        try:
            try:
                await _speak(ctx, call, speaker, engine_stop, caller)
            finally:
                watcher.cancel()
                relay.cancel()
                if cancel is not None and not cancel.done():
                    await asyncio.gather(cancel, return_exceptions=True)
                await asyncio.gather(watcher, relay, spoken.said_before, return_exceptions=True)
                begun = await begin
            await _finish(ctx, begun, connection_id, spoken)
        except BaseException:
            # ACS redelivers the event: its next attempt must not say again what the caller heard.
            await speaker.remember_said()
            raise
        if spoken.answer_latency_ms is not None:
            span.set_attribute("call.answer.latency_ms", spoken.answer_latency_ms)


async def _cancel_media(ctx: FlowContext, connection_id: str) -> None:
    try:
        await ctx.tel.cancel_media(connection_id)
    except TelephonyError as exc:
        ctx.log.info("cancel media on %s: %s", connection_id, exc)


class StoreWatch:
    """Interrupts the turn when the store says another worker's turn took over (or the call ended):
    every SUPERSEDE_CHECK_S in the background, and before every sentence but the first (one point
    read: a sentence requested after the caller spoke again on another worker would be heard)."""

    def __init__(self, ctx: FlowContext, spoken: SpokenTurn, begin: asyncio.Task[Call]) -> None:
        self.ctx, self.spoken, self.begin = ctx, spoken, begin

    async def run(self) -> None:
        # asyncio.wait, not gather: cancelling this watcher must never cancel the write it waits for.
        await asyncio.wait({self.begin})
        while not self.spoken.handle.interrupted:
            await asyncio.sleep(SUPERSEDE_CHECK_S)
            await self.look()

    async def before_sentence(self) -> None:
        if self.begin.done():
            await self.look()

    async def look(self) -> None:
        handle = self.spoken.handle
        fresh = await self.ctx.calls.get(handle.call_id)
        if fresh is None or fresh.status is CallStatus.ENDED:
            self.spoken.hung_up = True
            handle.interrupt()
        elif fresh.current_turn_id != handle.turn_id:
            handle.interrupt()


async def _relay_stop(ctx: FlowContext, spoken: SpokenTurn, engine_stop: asyncio.Event) -> None:
    """A newer turn stops the model; a hang-up only silences the turn (its tool calls still run).
    A hang-up ends the handle without a successor (CallDisconnected); a newer turn replaces it."""
    handle = spoken.handle
    await handle.stop.wait()
    if spoken.hung_up or ctx.memory.running.get(handle.call_id) is None:
        spoken.hung_up = True
    else:
        engine_stop.set()


async def _speak(
    ctx: FlowContext, call: Call, speaker: Speaker, engine_stop: asyncio.Event, caller: Message
) -> None:
    result, received_at = speaker.result, speaker.received_at
    handle = result.handle
    config = ctx.config  # once per turn: a change applies from the next turn
    speaker.listen_while_thinking(config.answer_hard_timeout_s + config.phone_silence_timeout_s)
    try:
        try:
            engine = await ctx.services.ready_engine()
        except ProductError as exc:  # no model configured: say so to the caller, keep listening
            ctx.log.error("no conversation engine for call %s: %s", call.call_id, exc)
            text = ctx.phrase("error", call)
            result.extra_messages.append(
                Message(persona=Persona.ASSISTANT, content=text, source_id=handle.turn_id)
            )
            await speaker.say(ctx.spoken(call, text))
            return
        clock = AnswerClock(received_at, config.answer_soft_timeout_s, config.answer_hard_timeout_s)
        turn = engine.run(call, None, turn_id=handle.turn_id, stop=engine_stop, extra_messages=[caller])
        result.turn = turn
        stream = turn.__aiter__()

        async def filler() -> None:
            await hold.while_thinking(ctx, call, speaker)

        try:
            speech = await next_within(stream, clock, on_soft=filler)
            while speech is not None:
                # Once the line is gone the model still runs to the end (its tool calls are stored).
                await speaker.say(ctx.spoken(call, speech.text, speech.style, speech.language))
                speech = await next_within(stream, clock)
        except AnswerLate:
            if not result.silent and ctx.memory.is_current(handle):
                await _apologize(ctx, call, speaker)
        finally:
            await stream.aclose()
    finally:
        speaker.leftover()
        await speaker.close()


async def _apologize(ctx: FlowContext, call: Call, speaker: Speaker) -> None:
    """The hard timeout passed: say sorry and invite the caller to repeat; the call goes on."""
    turn_id = speaker.result.handle.turn_id
    ctx.log.warning("turn %s of call %s: no answer within the hard timeout", turn_id, call.call_id)
    text = ctx.phrase("error", call)
    speaker.result.extra_messages.append(
        Message(persona=Persona.ASSISTANT, content=text, source_id=f"{turn_id}:late")
    )
    await speaker.say(ctx.spoken(call, text))


async def _finish(ctx: FlowContext, begun: Call, connection_id: str, spoken: SpokenTurn) -> None:
    """Persist the turn first (a few ms; the caller is still hearing the first sentence), then act on
    the fresh state: a turn superseded on another worker, or a call ended meanwhile, stays silent."""
    from core.engine.outcome import EndCall, TransferToAgent

    handle = spoken.handle
    turn_id = handle.turn_id
    outcome = spoken.outcome
    superseded = bool(outcome is not None and outcome.superseded) or not ctx.memory.is_current(handle)
    actions = list(outcome.actions) if outcome is not None else []
    terminal = next((a for a in actions if isinstance(a, TransferToAgent | EndCall)), None)
    kind = EndingKind.TRANSFER if isinstance(terminal, TransferToAgent) else EndingKind.HANGUP
    llm_ms = outcome.llm_first_sentence_ms if outcome is not None else None
    latency = spoken.answer_latency_ms
    last = spoken.last_context()
    decided: list[bool] = []

    def finish(c: Call) -> bool:
        decided.clear()
        applied = outcome is not None and outcome.mutation(c) is not False
        for message in spoken.extra_messages:
            if not c.has_message(message.source_id or ""):
                c.messages.append(message.model_copy(deep=True))
                applied = True
        if applied and latency is not None and llm_ms is not None:
            c.timing.answer_latency_ms.append(round(latency, 2))
            c.timing.llm_first_sentence_ms.append(round(llm_ms, 2))
        applied = c.connection.close(turn_id) or applied
        live = not spoken.line_dead and not superseded and c.current_turn_id == turn_id and c.live
        if live and terminal is not None:
            silent = last.part == OperationContext.SILENT
            applied = c.connection.request_ending(kind, last.format(), silent=silent) or applied
        if live:
            c.connection.follow_up = follow.model_copy(deep=True)
            applied = True
        decided.append(live)
        return applied

    follow = TurnFollowUp(
        turn_id=turn_id,
        prompts=spoken.rest,
        first_index=spoken.next_index,
        ending=terminal is not None,
        replace_listening=spoken.listening,
    )
    try:
        state = await ctx.calls.update(begun.call_id, finish, current=begun)
        if decided and decided[0]:
            await follow_up(ctx, state, connection_id, follow)
    finally:
        ctx.memory.end_turn(handle)
    if latency is not None and llm_ms is not None:
        telemetry.record_answer(latency, llm_ms, superseded=superseded)
    ctx.log.debug(
        "turn %s of call %s: latency=%s llm=%s said=%s",
        turn_id,
        begun.call_id,
        latency,
        llm_ms,
        redact(" ".join(s.text for s in spoken.rest)),
    )
