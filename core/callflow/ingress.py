"""The way in for ACS callbacks: the token, the per-call secret, the inbox, and the handler table.

Each event is claimed in the inbox first (a duplicate is skipped) unless it is idempotent by itself;
a failure releases the claim so ACS's retry can run. The call document is read once per event, at the
same time as the claim when the secret is already known, and handed to the event's handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from core.callflow import dialog, endings, lifecycle, turns, voicemail
from core.callflow.context import FlowContext
from core.callflow.events import (
    CallConnected,
    CallDisconnected,
    CallEvent,
    CallTransferAccepted,
    CallTransferFailed,
    ConnectionFailed,
    PlayEnded,
    RecognizeCompleted,
    RecognizeFailed,
    RecordingStateChanged,
    parse_callback_body,
)
from core.errors import NotFoundError, UnauthorizedError
from core.models import Call, Purpose
from core.observability import tracer

Handler = Callable[[FlowContext, Call, Any, float], Awaitable[None]]


def secret_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of the per-call callback secret."""
    return hmac.compare_digest(expected.encode(), given.encode())


async def _recognized(ctx: FlowContext, call: Call, event: RecognizeCompleted, received_at: float) -> None:
    if event.is_choice:
        await dialog.on_choice(ctx, call, event, received_at)
    elif event.speech:
        if call.callback_of is not None and await voicemail.screen(ctx, call, event, event.speech):
            return  # an answering machine on a call-back call (core.callflow.voicemail)
        context = event.context
        # Words said during a sentence of an answer (or the goodbye): what is still queued is cut.
        barge_in = context is not None and (context.is_turn_play or context.purpose is Purpose.GOODBYE)
        await turns.on_speech(ctx, call, event, event.speech, received_at, barge_in=barge_in)
    else:
        await dialog.on_silence(ctx, call, event, received_at)


# RecognizeFailed subCodes that are the caller's doing (silence, no match, a wrong key): not logged.
CALLER_SUB_CODES = frozenset({8508, 8510, 8532, 8534, 8547})


async def _recognize_failed(ctx: FlowContext, call: Call, event: RecognizeFailed, received_at: float) -> None:
    if event.sub_code not in CALLER_SUB_CODES:
        # The caller heard nothing of the prompts (AI Services refused, a prompt ACS cannot play...).
        info = event.data.get("resultInformation") or {}
        ctx.log.warning(
            "RecognizeFailed %s of call %s (%s): code %s, subCode %s: %s",
            event.id,
            call.call_id,
            event.raw_context or "no context",
            info.get("code"),
            info.get("subCode"),
            str(info.get("message") or "")[:200],
        )
    if event.is_choice:
        await dialog.on_choice_failed(ctx, call, event, received_at)
    elif event.of_turn:
        await endings.on_sentence_ended(ctx, call, event, received_at)
    else:
        await dialog.on_silence(ctx, call, event, received_at)


# Event kind -> handler; a subclass (PlayCompleted, CreateCallFailed...) finds its family's handler.
HANDLERS: dict[type[CallEvent], Handler] = {
    CallConnected: lifecycle.on_connected,
    CallDisconnected: lifecycle.on_disconnected,
    ConnectionFailed: lifecycle.on_connection_failed,
    RecordingStateChanged: lifecycle.on_recording,
    RecognizeCompleted: _recognized,
    RecognizeFailed: _recognize_failed,
    PlayEnded: endings.on_play_ended,
    CallTransferAccepted: endings.on_transfer_accepted,
    CallTransferFailed: endings.on_transfer_failed,
}


async def prepare_phrases(ctx: FlowContext, call: Call) -> None:
    """The fixed phrases of the call's languages, before anything is said: a language with no
    built-in set is translated once (core.engine.translation)."""
    from core.phrasebook import has_builtin

    codes = [o.code for o in call.initiate.languages]
    # The usual case touches no service: a worker's lazily built services may be held by its warm-up.
    if not all(has_builtin(code) for code in codes):
        await ctx.services.phrases.prepare(codes, ctx.config.overrides)


def handler_for(event: CallEvent) -> Handler | None:
    for kind in type(event).__mro__:
        found = HANDLERS.get(kind)
        if found is not None:
            return found
    return None


async def handle_callback(
    ctx: FlowContext,
    raw_call_id: str,
    secret: str,
    authorization: str | None,
    body: bytes,
    received_at: float,
) -> int:
    """An ACS callback POST. Raises UnauthorizedError (nothing changed) on a bad token or secret.
    Returns how many events were handled (duplicates excluded)."""
    await ctx.services.verifier.verify(authorization)
    try:
        call_id = str(uuid.UUID(raw_call_id))
    except ValueError:
        raise UnauthorizedError("unknown call") from None
    known_secret = ctx.memory.secrets.get(call_id)
    if known_secret is not None and not secret_matches(known_secret, secret):
        raise UnauthorizedError("unknown call or wrong callback secret")
    inbox = ctx.services.inbox
    handled = 0
    for event in parse_callback_body(body):
        if known_secret is not None and (event.ignored or endings.needs_nothing(ctx, event)):
            continue  # authenticated; nothing to do and nothing to remember
        # A sentence's end only records that it was played: idempotent, like a play's end.
        needs_claim = event.claimed and not (isinstance(event, RecognizeFailed) and event.of_turn)
        if known_secret is None:
            # First callback of this call in this worker: the secret check needs the document.
            found = await ctx.calls.get(call_id)
            if found is None or not secret_matches(found.callback_secret, secret):
                raise UnauthorizedError("unknown call or wrong callback secret")
            ctx.memory.remember_secret(found)
            known_secret = found.callback_secret
            claimed = await inbox.claim(call_id, event.id) if needs_claim else True
        elif needs_claim:
            found, claimed = await _read_and_claim(ctx, call_id, event.id)
        else:
            found, claimed = await ctx.calls.get(call_id), True
        if found is None:
            raise NotFoundError(f"call {call_id} not found")
        if not claimed or event.ignored:
            continue  # a duplicate, or nothing to do
        await _dispatch(ctx, found, event, received_at, release=needs_claim)
        handled += 1
    return handled


async def _read_and_claim(ctx: FlowContext, call_id: str, event_id: str) -> tuple[Call | None, bool]:
    """The document read and the inbox claim, together; when either fails the claim is released, so
    ACS's redelivery of the event runs it rather than being taken for a duplicate."""
    read, claim = await asyncio.gather(
        ctx.calls.get(call_id), ctx.services.inbox.claim(call_id, event_id), return_exceptions=True
    )
    if isinstance(read, BaseException):
        if claim is True:
            with contextlib.suppress(Exception):  # the read's error is the one ACS must see
                await ctx.services.inbox.release(call_id, event_id)
        raise read
    if isinstance(claim, BaseException):
        raise claim
    return read, claim


async def _dispatch(
    ctx: FlowContext, call: Call, event: CallEvent, received_at: float, *, release: bool
) -> None:
    try:
        with tracer().start_as_current_span(f"callflow.{event.type}") as span:
            span.set_attribute("call.id", call.call_id)
            span.set_attribute("event.id", event.id)
            if call.is_old_connection(event.connection_id):
                return  # a late event of an earlier connection of a resumed call
            handler = handler_for(event)
            if handler is not None:
                await prepare_phrases(ctx, call)
                await handler(ctx, call, event, received_at)
    except BaseException as exc:
        ctx.log.warning(
            "%s %s of call %s failed (%s); %s",
            event.type,
            event.id,
            call.call_id,
            type(exc).__name__,
            "released for a retry" if release else "ACS retries it",
            exc_info=not isinstance(exc, asyncio.CancelledError),
        )
        if release:
            with contextlib.suppress(Exception):
                await ctx.services.inbox.release(call.call_id, event.id)
        raise
