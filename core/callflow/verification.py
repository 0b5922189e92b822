"""Resuming a case safely (rules in core.models.verification): a call from the number of a finished
case either resumes it (CONVERSATION__RESUME_VERIFICATION=none) or starts as a new case that holds the
earlier one back until the caller answers the check."""

from __future__ import annotations

from core.callflow.context import FlowContext
from core.models import Call, CallStatus
from core.models.verification import SMS_TEXT, PendingResume, ResumeCheck, expected_answer


def check_of(ctx: FlowContext) -> ResumeCheck:
    return ResumeCheck(ctx.settings.conversation.resume_verification)


def resumable(ctx: FlowContext, previous: Call | None, event_id: str) -> Call | None:
    """The earlier case an incoming call may take up: never one whose call is still connected (or
    connecting): caller ID can be spoofed, and the real caller would lose their line while the newcomer
    hears their case."""
    if previous is not None and previous.status is not CallStatus.ENDED:
        ctx.log.warning("IncomingCall %s: the number's last call is live; a new case", event_id)
        return None
    return previous


async def hold(ctx: FlowContext, call: Call, previous: Call) -> None:
    """Make the new call hold the earlier case back until the caller answers the check (nothing when
    the case cannot be checked: then it stays a plain new case)."""
    call.connection.held_case = await _hold(ctx, previous, check_of(ctx))
    if call.connection.held_case is not None:
        # The question is asked in the case's language (no secret): no language menu first.
        call.language, call.language_chosen = previous.language, previous.language_chosen


async def _hold(ctx: FlowContext, previous: Call, check: ResumeCheck) -> PendingResume | None:
    expected = expected_answer(check, previous.claim)
    if expected is None:
        ctx.log.info("call %s: the earlier case has no %s to check; a new case", previous.call_id, check)
        return None
    if check is ResumeCheck.SMS_CODE:
        number, sms = previous.initiate.phone_number, ctx.services.engine.sms
        if sms is None or not ctx.settings.conversation.phone_policy.allows(number):
            return None
        if not await sms.send(number, SMS_TEXT.format(code=expected)):
            ctx.log.warning("call %s: the resume code could not be texted; a new case", previous.call_id)
            return None
    return PendingResume(
        case_id=previous.call_id,
        check=check,
        expected=expected,
        claim=dict(previous.claim),
        reminders=[r.model_dump(mode="json") for r in previous.reminders],
        messages=[m.model_dump(mode="json") for m in previous.messages],
        resumed_count=previous.resumed_count,
    )
