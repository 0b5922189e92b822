"""The call flow: ACS events in, telephony actions and call-document changes out.

Usage (one per worker, built by core.bootstrap)::

    flow = get_services().flow
    await flow.handle_callback(call_id, secret, authorization, body, received_at=...)
    await flow.handle_incoming_call(event_id, data)    # Event Grid IncomingCall
    call = await flow.create_call(body)                 # POST /call

The modules, by event family: ``ingress`` (token, secret, inbox, handler table), ``lifecycle``
(placed, answered, connected, disconnected), ``dialog`` (language menu, silence, goodbye), ``turns``
(one conversational turn), ``endings`` (hang-up and transfer after their announcement).
"""

from __future__ import annotations

import time
from typing import Any

from core.callflow.context import FlowContext, FlowServices
from core.models import Action, Call, InitiateRequest

__all__ = ["CallFlow"]


class CallFlow:
    """The facade the entry points use; holds the worker's memory of running turns and secrets."""

    def __init__(self, services: FlowServices) -> None:
        self.services = services
        self.ctx = FlowContext(services)

    async def create_call(self, body: bytes) -> Call:
        """POST /call: validate, store and place an outbound call (InvalidInputError, TelephonyRefused)."""
        from core.callflow import lifecycle
        from core.callflow.outbound import parse_initiate

        async with self.ctx.event() as config:
            conversation = self.ctx.settings.conversation.model_copy(
                update={"default_task": config.default_task}
            )
            initiate = parse_initiate(body, conversation)
            return await lifecycle.place_call(self.ctx, initiate)

    async def place_campaign_call(self, initiate: InitiateRequest, call_id: str) -> Call:
        """A campaign's call, with the id its slot names (core.campaigns); TelephonyRefused as above."""
        from core.callflow import lifecycle

        async with self.ctx.event():
            return await lifecycle.place_call(self.ctx, initiate, call_id=call_id)

    async def handle_incoming_call(self, event_id: str, data: dict[str, Any]) -> str | None:
        from core.callflow import lifecycle

        async with self.ctx.event():
            return await lifecycle.answer_incoming(self.ctx, event_id, data)

    async def handle_callback(
        self,
        raw_call_id: str,
        secret: str,
        authorization: str | None,
        body: bytes,
        *,
        received_at: float | None = None,
    ) -> int:
        from core.callflow import ingress

        started = received_at if received_at is not None else time.perf_counter()
        async with self.ctx.event():
            return await ingress.handle_callback(self.ctx, raw_call_id, secret, authorization, body, started)

    async def handle_sms_during_call(self, call: Call, text: str, source_id: str) -> None:
        """An SMS from the caller during a live call: the bot takes it into the conversation and answers
        on the phone, as if the caller had said it (the message is stored as an SMS)."""
        from core.callflow import ingress, turns
        from core.callflow.events import CallEvent

        event = CallEvent(id=source_id, type="SmsReceived", connection_id=call.connection_id or "")
        async with self.ctx.event():
            await ingress.prepare_phrases(self.ctx, call)
            await turns.on_speech(self.ctx, call, event, text, time.perf_counter(), action=Action.SMS)
