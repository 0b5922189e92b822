"""The optional SMS summary sent to the caller after the call, exactly once.

Guard: the Table inbox row ``post-call-sms-summary`` of the call (first insert wins) is claimed before
sending; a failed send releases it so a retry can send. After a successful send,
``post_call.sms_summary_sent_at`` is recorded with an ETag-conditional write, and only then is the
summary considered done. A redelivered job that finds the guard taken but nothing recorded never sends
again: it fails (and ends in the poison queue) rather than risk a second SMS.
"""

from __future__ import annotations

from core.models import Action, Call, Message, Persona, utcnow
from core.models.phone_policy import PhonePolicy
from core.observability import logger
from core.ports import CallStore, EventInbox, SmsSender

SUMMARY_GUARD_ID = "post-call-sms-summary"
SMS_MAX_CHARS = 640


class SmsSummaryError(RuntimeError):
    """The summary could not be sent now; a retry may succeed."""


class SmsSummaryUncertainError(RuntimeError):
    """An earlier attempt took the guard and did not record the outcome: never resend."""


def compose_summary(call: Call) -> str:
    initiate = call.initiate
    head = f"{initiate.bot_name}, {initiate.bot_company}: "
    body = call.insights.synthesis_short if call.insights else "thank you for your call."
    reference = f" Ref: {call.call_id[:8]}"
    room = SMS_MAX_CHARS - len(head) - len(reference)
    if len(body) > room:
        body = body[: room - 1].rstrip() + "…"
    return head + body + reference


async def send_summary_once(
    store: CallStore, inbox: EventInbox, sender: SmsSender, call: Call, policy: PhonePolicy | None = None
) -> bool:
    """Send the summary unless it was sent already or the caller's number may not be texted (the
    toll-fraud guard: an inbound caller may be anywhere). True when this invocation sent it."""
    if call.post_call.sms_summary_sent_at is not None:
        return False
    if policy is not None and not policy.allows(call.phone_number):
        # Not the number itself: phone numbers reach logs only with content logging.
        logger().warning("post-call SMS summary of call %s not sent: number not allowed", call.call_id)
        return False
    if not await inbox.claim(call.call_id, SUMMARY_GUARD_ID):
        fresh = await store.get(call.call_id)
        if fresh is not None and fresh.post_call.sms_summary_sent_at is not None:
            return False
        raise SmsSummaryUncertainError(
            "an earlier attempt started the SMS summary and did not record it; not sent again"
        )
    text = compose_summary(call)
    try:
        accepted = await sender.send(call.phone_number, text)
    except BaseException:
        await inbox.release(call.call_id, SUMMARY_GUARD_ID)
        raise
    if not accepted:
        await inbox.release(call.call_id, SUMMARY_GUARD_ID)
        raise SmsSummaryError("the SMS provider did not accept the summary")
    sent_at = utcnow()

    def record(fresh: Call) -> bool:
        if fresh.post_call.sms_summary_sent_at is not None:
            return False
        fresh.post_call.sms_summary_sent_at = sent_at
        if not fresh.has_message(SUMMARY_GUARD_ID):
            fresh.messages.append(
                Message(
                    persona=Persona.ASSISTANT, action=Action.SMS, content=text, source_id=SUMMARY_GUARD_ID
                )
            )
        return True

    await store.update(call.call_id, record)
    logger().info("post-call SMS summary sent for call %s", call.call_id)
    return True
