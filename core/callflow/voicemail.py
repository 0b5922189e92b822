"""Answering machines on call-back calls: recognized from the first utterance, a message left.

Azure Communication Services Call Automation has no answering-machine detection: the GA REST API
(2025-06-15, pinned in contracts/) has no such option on CreateCall nor any such event. So the first
thing the far end says on a call-back call is screened here: a voicemail greeting is a monologue said
right after the call connects (at least CALLBACKS__VOICEMAIL_MIN_WORDS words), or says what machines
say ("leave a message", "after the tone", "messagerie", "deje su mensaje", ...) in one of the call's
languages. Then the bot leaves CALLBACKS__VOICEMAIL_MESSAGE and hangs up once it has been played
(the goodbye's announce-then-act, core.callflow.endings); the scheduler reads the call's outcome and
schedules the next attempt. A person who answers says something short: the conversation goes on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from core.models import Action, Call, CallStatus, EndingKind, Message, OperationContext, Persona, Purpose

if TYPE_CHECKING:
    from core.callflow.context import FlowContext
    from core.callflow.events import RecognizeCompleted

# What voicemail greetings say, by language (the call's languages are tried, then all of them).
PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        r"leave (me |us )?(a |your )?(brief |short )?message",
        r"after the (tone|beep)",
        r"(is|am|are) (not available|unavailable)",
        r"(can't|cannot|can not) (take|come to|answer) (your|the|this) (call|phone)",
        r"voice ?mail",
        r"you('ve| have) reached",
        r"record your message",
        r"mailbox",
    ),
    "fr": (
        r"laisse[rz]?(-moi| moi)? (un |votre )?message",
        r"apr[eè]s le (bip|signal)",
        r"messagerie",
        r"(n'est|ne suis|ne sommes) pas disponible",
        r"vous [eê]tes bien (sur|chez)",
        r"r[eé]pondeur",
    ),
    "es": (
        r"deje (su |un )?mensaje",
        r"despu[eé]s (de la se[nñ]al|del tono|del pitido)",
        r"buz[oó]n de voz",
        r"no (est[aá]|puedo|podemos) (disponible|atender|contestar)",
    ),
    "de": (
        r"hinterlassen sie",
        r"nach dem (signalton|ton|piep)",
        r"mailbox",
        r"(nicht|leider nicht) erreichbar",
        r"anrufbeantworter",
    ),
}
_COMPILED = {lang: [re.compile(p, re.IGNORECASE) for p in patterns] for lang, patterns in PHRASES.items()}


def looks_like_machine(text: str, languages: list[str], min_words: int) -> bool:
    """A voicemail greeting, by its length or its wording (call languages first, then the others)."""
    if len(text.split()) >= min_words:
        return True
    wanted = [code.split("-")[0].lower() for code in languages]
    order = [*dict.fromkeys(wanted), *(lang for lang in _COMPILED if lang not in wanted)]
    return any(p.search(text) for lang in order for p in _COMPILED.get(lang, ()))


def _first_words(call: Call) -> bool:
    return not any(m.persona is Persona.HUMAN and m.action is Action.TALK for m in call.messages)


def message_for(ctx: FlowContext, call: Call) -> str:
    origin = call.callback_of
    values = {
        "bot_name": call.initiate.bot_name,
        "bot_company": call.initiate.bot_company,
        "title": origin.reminder if origin is not None else "",
    }
    template = ctx.settings.callbacks.voicemail_message
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


async def screen(ctx: FlowContext, call: Call, event: RecognizeCompleted, text: str) -> bool:
    """True when the utterance was an answering machine's (the message is being left, or was): the
    caller's turn must not run. Only the first utterance of a call-back call is screened; other calls
    pay nothing (no I/O)."""
    origin = call.callback_of
    if origin is None:
        return False
    context = OperationContext(Purpose.GOODBYE, event.id)
    message = message_for(ctx, call)
    if origin.answering_machine:
        # The message is being left: what the machine records is nobody's turn. A redelivery of the
        # greeting's event whose play failed plays the message again.
        if call.connection.waits_for(str(context)) and call.status is not CallStatus.ENDED:
            await ctx.play(
                call, event.connection_id or call.connection_id or "", ctx.spoken(call, message), context
            )
        return True
    if not _first_words(call):
        return False
    options = ctx.settings.callbacks
    languages = [option.code for option in call.initiate.languages]
    if not looks_like_machine(text, [call.language, *languages], options.voicemail_min_words):
        return False
    decided: list[bool] = []

    def leave_message(c: Call) -> bool:
        decided.clear()
        if c.callback_of is None or c.status is CallStatus.ENDED:
            return False
        if c.callback_of.answering_machine or not c.connection.request_ending(
            EndingKind.HANGUP, str(context)
        ):
            return False
        c.callback_of.answering_machine = True
        c.messages.append(Message(persona=Persona.HUMAN, content=text, source_id=f"machine:{event.id}"))
        c.messages.append(Message(persona=Persona.ASSISTANT, content=message, source_id=str(context)))
        decided.append(True)
        return True

    call = await ctx.calls.update(call.call_id, leave_message, current=call)
    if decided:
        ctx.log.info("call %s reached an answering machine: leaving the message", call.call_id)
        await ctx.play(
            call, event.connection_id or call.connection_id or "", ctx.spoken(call, message), context
        )
    return True
