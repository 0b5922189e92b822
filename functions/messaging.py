"""Event Grid trigger: SMS received on the product's number (Microsoft.Communication.SMSReceived).

Event Grid retries a failed delivery, so a transient failure raises; an event that can never be handled
(malformed) is logged and acknowledged. Other event types are acknowledged and ignored.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func

bp = func.Blueprint()


def _event_fields(event: func.EventGridEvent | func.CloudEvent) -> tuple[str, str, Any]:
    """(id, type, data) of an Event Grid schema or CloudEvents schema event."""
    if isinstance(event, func.EventGridEvent):
        return event.id, event.event_type, event.get_json()
    return event.id, event.type, event.get_json()


@bp.event_grid_trigger(arg_name="event")
async def sms_received(event: func.EventGridEvent) -> None:
    from core.bootstrap import get_services
    from core.errors import InvalidInputError
    from core.messaging.sms_inbound import handle_sms_received
    from core.observability import logger

    event_id, event_type, data = _event_fields(event)
    try:
        result = await handle_sms_received(get_services(), event_id, event_type, data)
    except InvalidInputError as exc:
        logger().warning("SMS event %s dropped: %s", event_id, exc)
        return
    logger().info("SMS event %s: %s", event_id, result.value)
