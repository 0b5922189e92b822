"""The dialog the bot runs without the model: the language menu, silence, and the goodbye."""

from __future__ import annotations

from collections.abc import Sequence

from core.callflow.context import FlowContext
from core.callflow.events import CallEvent, RecognizeCompleted
from core.models import (
    Call,
    CallStatus,
    Choice,
    EndingKind,
    Message,
    OperationContext,
    Persona,
    Purpose,
    SpokenText,
)


async def listen_for_language(
    ctx: FlowContext, call: Call, connection_id: str, ref: str, before: Sequence[SpokenText] = ()
) -> None:
    """The language menu, after ``before`` (the greeting): all of it interruptible by the choice."""
    options = call.initiate.languages
    listing = ", ".join(f"{o.name} ({index + 1})" for index, o in enumerate(options))
    prompt = ctx.spoken(call, ctx.phrase("language_choice", call, languages=listing))
    choices = [
        Choice(label=o.code, phrases=o.choice_phrases, tone=str(index + 1) if index < 9 else None)
        for index, o in enumerate(options)
    ]
    await ctx.listen(call, connection_id, OperationContext(Purpose.CHOICE, ref), [*before, prompt], choices)


def _connection(call: Call, event: CallEvent) -> str:
    return event.connection_id or call.connection_id or ""


async def on_choice(ctx: FlowContext, call: Call, event: RecognizeCompleted, received_at: float) -> None:
    if not call.live:
        return
    code = event.choice
    previous = call.language
    if code not in {o.code for o in call.initiate.languages}:
        await on_choice_failed(ctx, call, event, received_at)
        return

    def chosen(c: Call) -> None:
        c.language = code
        c.language_chosen = True
        c.connection.choice_attempts = 0
        c.counters.silence_retries = 0

    call = await ctx.calls.update(call.call_id, chosen, current=call)
    # Something in the language chosen, even when it is the one the greeting was in: the caller waits
    # for the bot to speak after choosing.
    if code == previous:
        language = call.initiate.language(code).name
        prompt = [ctx.spoken(call, ctx.phrase("language_default", call, language_name=language))]
    else:
        prompt = [ctx.spoken(call, ctx.phrase("greeting", call))]
    await ctx.listen(call, _connection(call, event), OperationContext(Purpose.LISTEN, event.id), prompt)


async def on_choice_failed(ctx: FlowContext, call: Call, event: CallEvent, received_at: float) -> None:
    if not call.live:
        return
    retries = ctx.config.recognition_retries

    def attempt(c: Call) -> None:
        if c.connection.fail_choice(retries):
            c.language_chosen = True  # keep the default language and go on

    call = await ctx.calls.update(call.call_id, attempt, current=call)
    connection_id = _connection(call, event)
    if call.language_chosen:
        # The caller said nothing the menu understood: say which language the call goes on in, and
        # ask again (listening without a prompt would leave them in silence).
        language = call.initiate.language(call.language).name
        prompt = ctx.spoken(call, ctx.phrase("language_default", call, language_name=language))
        await ctx.listen(call, connection_id, OperationContext(Purpose.LISTEN, event.id), [prompt])
    else:
        await listen_for_language(ctx, call, connection_id, event.id)


async def on_silence(ctx: FlowContext, call: Call, event: CallEvent, received_at: float) -> None:
    if not call.live:
        return

    def silent(c: Call) -> None:
        c.counters.silence_retries += 1

    call = await ctx.calls.update(call.call_id, silent, current=call)
    if call.counters.silence_retries > ctx.config.recognition_retries:
        await say_goodbye(ctx, call, event)
        return
    prompt = ctx.spoken(call, ctx.phrase("silence", call))
    await ctx.listen(call, _connection(call, event), OperationContext(Purpose.LISTEN, event.id), [prompt])


async def say_goodbye(ctx: FlowContext, call: Call, event: CallEvent) -> None:
    """Goodbye, then hang up when it has been said (claimed first, so it happens once). The goodbye
    is a sentence like the others (core.callflow.speaker): a caller who speaks during it is answered
    and the hang-up gives way."""
    context = OperationContext(Purpose.GOODBYE, event.id)
    text = ctx.phrase("goodbye", call)
    decided: list[bool] = []

    def ending(c: Call) -> bool:
        decided.clear()
        if c.status is CallStatus.ENDED or not c.connection.request_ending(EndingKind.HANGUP, str(context)):
            return False
        c.messages.append(Message(persona=Persona.ASSISTANT, content=text, source_id=str(context)))
        decided.append(True)
        return True

    call = await ctx.calls.update(call.call_id, ending, current=call)
    if decided:
        await ctx.unless_gone(
            ctx.recognize(
                call, _connection(call, event), context, [ctx.spoken(call, text)], initial_silence_s=0
            )
        )
