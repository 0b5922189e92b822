"""Event Grid IncomingCall: answer it, for a new case or the caller's recent one, and leave no mess.

How an answer that fails is kept from damaging anything (the choice, and why):

- **Who is answered.** Only calls addressed to the bot's number (``data.to``, ACS__PHONE_NUMBER) are
  answered; a call to another number of the resource is someone else's and is left alone (logged; the
  Event Grid subscription in infra/ filters on ``data.to.phoneNumber.value`` as well). A caller with
  no phone number (an ACS user, a Teams user: ``from.kind`` is not ``phoneNumber``) is **rejected**
  with reason ``forbidden``, never left ringing: a case is keyed by the caller's phone number (callback
  window, SMS, transfer), which such a caller does not have.
- **Exactly once per event.** The Event Grid event id is claimed in the inbox first. A permanent
  refusal keeps the claim: the event is acknowledged and a redelivery is a duplicate, never a resume.
  A transient failure (5xx, timeout) releases it and raises, so Event Grid delivers it again.
- **A new case rings first.** Its document is created in status ``ringing`` with an id derived from the
  event id (a retried delivery finds the same document, with the same callback secret), then the call
  is answered with that document's callback URL. Accepted: it becomes ``created`` (then ``connected``
  on CallConnected). Refused for good (the caller hung up while ringing, the context expired, already
  answered): it becomes ``missed`` with the reason. ``ringing`` and ``missed`` calls are never resumed.
- **A resumed case is not touched before ACS accepts.** The answer carries the existing case's
  callback URL; only once ACS accepted is the case resumed over the new connection
  (``Call.resume_on``, which the new connection's CallConnected applies too if it arrives first).
  A refusal leaves the case exactly as it was and records the missed ring as its own ``missed`` call.
- **Permanent refusals** (4xx: TelephonyRefused, CallGone) are logged once, naming the event, the
  call, the server call and ACS's status and code, and acknowledged.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.callflow import verification
from core.callflow.context import FlowContext
from core.errors import CallGone, DependencyError, TelephonyError, TelephonyRefused
from core.models import Call, CallDirection, CallStatus, InitiateRequest, normalize_e164, utcnow
from core.models.verification import ResumeCheck
from core.observability import tracer

INBOX_PARTITION = "incoming-call"
# Ids of ring documents: derived from the Event Grid event id, so a redelivery finds its document.
_RING_NAMESPACE = uuid.UUID("4f0c7a55-5e0b-4c55-9a57-1c2b9d0e6a11")
REJECT_REASON = "forbidden"


@dataclass(frozen=True)
class Ring:
    """An IncomingCall, as much of it as the answer needs."""

    event_id: str
    context: str
    caller_number: str | None  # E.164; None for a caller without a phone number
    caller_raw_id: str
    server_call_id: str

    @property
    def ring_id(self) -> str:
        return str(uuid.uuid5(_RING_NAMESPACE, self.event_id))


def _phone(identifier: Any) -> str:
    if not isinstance(identifier, dict):
        return ""
    if identifier.get("kind") not in (None, "phoneNumber"):
        return ""
    phone = identifier.get("phoneNumber")
    value = phone.get("value") if isinstance(phone, dict) else None
    return value if isinstance(value, str) else ""  # anything else is not a phone number


def _addressed_to_bot(ctx: FlowContext, data: dict[str, Any]) -> bool:
    raw = _phone(data.get("to"))
    try:
        return bool(raw) and normalize_e164(raw) == ctx.settings.acs.phone_number
    except ValueError:
        return False


def parse_ring(ctx: FlowContext, event_id: str, data: dict[str, Any]) -> Ring | None:
    """The ring to answer or reject; None (logged) for one that is not ours or cannot be handled."""
    given_context = data.get("incomingCallContext")
    context = given_context if isinstance(given_context, str) else ""
    if not context:
        ctx.log.warning("IncomingCall %s without an incomingCallContext: ignored", event_id)
        return None
    if not _addressed_to_bot(ctx, data):
        ctx.log.info("IncomingCall %s is not addressed to the bot's number: left to its owner", event_id)
        return None
    given = data.get("from")
    caller: dict[str, Any] = given if isinstance(given, dict) else {}
    raw_id = caller.get("rawId") if isinstance(caller.get("rawId"), str) else ""
    number: str | None = None
    if _phone(caller):
        try:
            number = normalize_e164(_phone(caller))
        except ValueError:
            number = None
    return Ring(event_id, context, number, raw_id or "unknown", str(data.get("serverCallId") or ""))


def _refusal(exc: TelephonyError) -> str:
    code = f" {exc.acs_code}" if exc.acs_code else ""
    status = f"HTTP {exc.acs_status}" if exc.acs_status else type(exc).__name__
    return f"not answered: ACS refused ({status}{code})"


async def answer_incoming(ctx: FlowContext, event_id: str, data: dict[str, Any]) -> str | None:
    """Answer (or reject) one IncomingCall. Returns the call id answered for, else None. Raises only
    for a transient failure (Event Grid delivers the event again)."""
    ring = parse_ring(ctx, event_id, data)
    if ring is None:
        return None
    inbox = ctx.services.inbox
    if not await inbox.claim(INBOX_PARTITION, event_id):
        return None  # a redelivery of a ring already handled
    try:
        with tracer().start_as_current_span("callflow.IncomingCall") as span:
            span.set_attribute("event.id", event_id)
            if ring.caller_number is None:
                await _reject(ctx, ring)
                return None
            return await _answer(ctx, ring, span)
    except (TelephonyRefused, CallGone):
        return None  # logged where it happened; the claim stays: acknowledged, never retried
    except BaseException:
        with contextlib.suppress(Exception):
            await inbox.release(INBOX_PARTITION, event_id)
        raise


async def _reject(ctx: FlowContext, ring: Ring) -> None:
    try:
        await ctx.tel.reject(ring.context, REJECT_REASON)
    except (TelephonyRefused, CallGone) as exc:
        ctx.log.warning(
            "IncomingCall %s from %s (server call %s): the rejection was refused (ACS %s %s)",
            ring.event_id, ring.caller_raw_id, ring.server_call_id, exc.acs_status, exc.acs_code,
        )  # fmt: skip
        raise
    ctx.log.info(
        "IncomingCall %s from %s, a caller without a phone number: rejected (%s)",
        ring.event_id, ring.caller_raw_id, REJECT_REASON,
    )  # fmt: skip


async def _previous_case(ctx: FlowContext, number: str) -> Call | None:
    hours = ctx.config.callback_window_hours
    if hours <= 0:
        return None
    return await ctx.calls.latest_for_phone_number(number, utcnow() - timedelta(hours=hours))


def _inbound_initiate(ctx: FlowContext, number: str) -> InitiateRequest:
    """A new inbound case: the settings, with the default task and claim schema of the run-time
    options."""
    from core.callflow.outbound import default_initiate

    config = ctx.config
    conversation = ctx.settings.conversation.model_copy(update={"default_task": config.default_task})
    initiate = default_initiate(number, conversation)
    if config.default_claim_schema is not None:
        initiate = initiate.model_copy(update={"claim_schema": config.default_claim_schema})
    return initiate


async def _ringing(ctx: FlowContext, ring: Ring, number: str, held: Call | None = None) -> Call:
    """The ring's document: created ringing (holding the earlier case ``held`` back until the caller
    proves who they are, core.callflow.verification), or found again on a redelivery."""

    found = await ctx.calls.get(ring.ring_id)
    if found is not None:
        return found
    initiate = _inbound_initiate(ctx, number)
    call = Call(
        call_id=ring.ring_id, direction=CallDirection.INBOUND, status=CallStatus.RINGING, initiate=initiate
    )
    if held is not None:
        await verification.hold(ctx, call, held)
    return await ctx.calls.create(call)


async def _answer(ctx: FlowContext, ring: Ring, span: Any) -> str:
    assert ring.caller_number is not None
    previous = await _previous_case(ctx, ring.caller_number)
    if previous is not None and previous.call_id == ring.ring_id:
        previous = None  # our own ring document from an earlier delivery
    previous = verification.resumable(ctx, previous, ring.event_id)
    held = None
    if previous is not None and verification.check_of(ctx) is not ResumeCheck.NONE:
        previous, held = None, previous  # a new case, until the caller answers the check
    call = previous if previous is not None else await _ringing(ctx, ring, ring.caller_number, held)
    span.set_attribute("call.id", call.call_id)
    try:
        connection_id = await ctx.tel.answer(ring.context, ctx.callback_url(call))
    except (TelephonyRefused, CallGone) as exc:
        reason = _refusal(exc)
        ctx.log.warning(
            "IncomingCall %s for call %s (server call %s) %s: acknowledged, not retried",
            ring.event_id, call.call_id, ring.server_call_id, reason,
        )  # fmt: skip
        await _record_missed(ctx, ring, call, previous is not None, reason)
        raise
    try:
        if previous is None:
            await ctx.calls.update(call.call_id, lambda c: c.answered(connection_id), current=call)
        else:
            await ctx.calls.update(call.call_id, lambda c: c.resume_on(connection_id), current=call)
    except DependencyError as exc:
        # Answered: the call is live and its CallConnected applies the same change. Raising now would
        # make Event Grid redeliver a ring ACS has already answered.
        ctx.log.warning("IncomingCall %s answered; recording it failed (%s)", ring.event_id, exc)
    return call.call_id


async def _record_missed(ctx: FlowContext, ring: Ring, call: Call, resumed: bool, reason: str) -> None:
    """The missed ring, visible in GET /call; the caller's earlier case is left as it was."""

    with contextlib.suppress(DependencyError):  # the refusal is logged already; the record is a bonus
        if not resumed:
            await ctx.calls.update(call.call_id, lambda c: c.miss(reason), current=call)
            return
        missed = Call(
            call_id=ring.ring_id,
            direction=CallDirection.INBOUND,
            status=CallStatus.MISSED,
            initiate=_inbound_initiate(ctx, ring.caller_number or call.phone_number),
            ended_at=utcnow(),
            end_reason=reason,
        )
        if await ctx.calls.get(missed.call_id) is None:
            await ctx.calls.create(missed)
