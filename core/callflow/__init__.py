"""The call flow: ACS events in, telephony actions and call-document changes out.

Usage::

    flow = get_flow()                                  # per worker (core.callflow.wiring)
    await flow.handle_callback(call_id, secret, authorization, body, received_at=...)
    await flow.handle_incoming_call(event_id, data)    # Event Grid IncomingCall
    call = await flow.create_call(body)                 # POST /call
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.container import Container
    from core.models import Call


async def handle_sms_during_call(container: Container, call: Call, text: str, *, source_id: str) -> None:
    """Entry point for inbound SMS during a live call (used by core.messaging.sms_inbound)."""
    from core.callflow.wiring import build_flow, get_flow
    from core.container import get_container

    flow = get_flow() if container is get_container() else build_flow(container)
    await flow.handle_sms_during_call(call, text, source_id)
