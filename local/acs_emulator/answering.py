"""Why ACS refuses to answer (or reject) a ringing call, as it answers the request.

The three refusals a bot meets in the field, each made reproducible by ``Call.answer_refusal``:

- ``caller_hung_up``: the caller hung up while it rang, just before the answer arrived. The call is
  over: **404**, ``{"error": {"code": "8522", "message": "Call not found."}}`` (8522 is the code the
  emulator uses for a call that no longer exists, on every action).
- ``expired``: the incomingCallContext is older than the ring lasts (``incoming_context_ttl_s``):
  **400**, ``{"error": {"code": "BadRequest", "message": "The incomingCallContext has expired."}}``.
- ``already_answered``: another endpoint (or an earlier delivery of the same event) answered first:
  **400**, ``{"error": {"code": "8523", "message": "Invalid request, call already answered."}}``.

All three are 4xx with a CommunicationErrorResponse body (the contract's error shape): permanent, the
same request can never succeed. The codes and messages are the emulator's reading; no public live
recording of a refused answer was found to copy them from (see the README's provenance notes).
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from local.acs_emulator.calls import Call, CallEngine, context_issued_at
from local.acs_emulator.errors import error_response

CALL_GONE = (404, "8522", "Call not found.")
EXPIRED = (400, "BadRequest", "The incomingCallContext has expired.")
ALREADY_ANSWERED = (400, "8523", "Invalid request, call already answered.")


def _apply(engine: CallEngine, call: Call) -> None:
    """What the test arranged to happen just before the request arrived."""
    refusal, call.answer_refusal = call.answer_refusal, None
    if refusal == "caller_hung_up" and not call.ended.is_set():
        call.transcript.add("caller_hangup", who="caller", reason="hung up while ringing")
        engine.remote_hangup(call)
    elif refusal == "already_answered" and not call.answered:
        call.answered = True
        call.transcript.add("note", text="another endpoint answered the call")


def refusal(engine: CallEngine, call: Call, context: str) -> web.Response | None:
    """The error response when the ringing call can no longer be answered or rejected, else None."""
    _apply(engine, call)
    issued = context_issued_at(context)
    status, code, message = (0, "", "")
    if call.answered or call.rejected:
        status, code, message = ALREADY_ANSWERED
    elif call.ended.is_set():
        status, code, message = CALL_GONE
    elif issued is not None and datetime.now(UTC).timestamp() - issued > engine.config.incoming_context_ttl_s:
        status, code, message = EXPIRED
    if not status:
        return None
    call.transcript.add("answer_refused", status=status, code=code)
    return error_response(status, code, message)
