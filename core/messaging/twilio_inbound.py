"""Inbound SMS from Twilio's webhook (a form POST for each message received on the Twilio number).

The request is Twilio's only if its ``X-Twilio-Signature`` checks out (core.messaging.twilio_signature)
against the URL configured in Twilio (SMS__TWILIO__WEBHOOK_URL, else the URL the request arrived at):
anything else is refused and changes nothing. A genuine message goes the way of an ACS SMSReceived
event (core.messaging.sms_inbound): into the live call, else onto the caller's case; the message SID is
its event id, so a retried webhook is handled once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.errors import InvalidInputError, NotFoundError, UnauthorizedError
from core.messaging.sms_inbound import SMS_RECEIVED, InboundSmsResult, handle_sms_received
from core.messaging.twilio_signature import is_valid

if TYPE_CHECKING:
    from core.bootstrap import Services

# The empty TwiML answer: the product replies on the phone or later, never in the webhook response.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def handle_twilio_sms(
    services: Services, url: str, params: Sequence[tuple[str, str]], given_signature: str | None
) -> InboundSmsResult:
    """Handle one webhook request. NotFoundError when Twilio is not the SMS provider, UnauthorizedError
    for a request Twilio did not sign (nothing changed), InvalidInputError for one without a message."""
    settings = services.settings.sms
    if settings.provider != "twilio":
        raise NotFoundError("Twilio is not the SMS provider (SMS__PROVIDER)")
    twilio = settings.twilio
    if not is_valid(twilio.webhook_url or url, params, twilio.auth_token, given_signature):
        raise UnauthorizedError("the request does not carry Twilio's signature")
    form = dict(params)
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid:
        raise InvalidInputError("the webhook has no MessageSid")
    data = {"from": form.get("From", ""), "to": form.get("To", ""), "message": form.get("Body", "")}
    return await handle_sms_received(services, sid, SMS_RECEIVED, data)
