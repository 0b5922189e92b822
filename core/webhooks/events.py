"""The body of each webhook event: what a company's system needs about the call, never a secret (the
callback secret, the live connection's state and the delivery log stay out)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.models import Call, utcnow
from core.models.webhook import WebhookEventType

_NAMESPACE = uuid.UUID("6f1c3c4e-8a55-4d0e-9f55-0b8f4a6c2d11")


def event_id(call_id: str, kind: WebhookEventType, key: str) -> str:
    """The same id whenever the same thing happens again (a redelivered ACS event, a retried job)."""
    return str(uuid.uuid5(_NAMESPACE, f"{call_id}/{kind.value}/{key}"))


def _summary(call: Call) -> dict[str, Any]:
    return {
        "direction": call.direction.value,
        "status": call.status.value,
        "phone_number": call.phone_number,
        "created_at": call.created_at.isoformat(),
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "language": call.language,
    }


def _cost(call: Call) -> dict[str, Any] | None:
    return call.cost.model_dump(mode="json", exclude={"lines"}) if call.cost is not None else None


def event_data(call: Call, kind: WebhookEventType) -> dict[str, Any]:
    data = _summary(call)
    if kind is WebhookEventType.CALL_ENDED:
        data.update(
            end_reason=call.end_reason,
            transferred=call.connection.transferred,
            turns=call.counters.turns,
            claim=call.claim,
            cost=_cost(call),
        )
    elif kind is WebhookEventType.CALL_TRANSFERRED:
        data.update(agent_phone_number=call.initiate.agent_phone_number)
    elif kind is WebhookEventType.CALL_FAILED:
        data.update(reason=call.end_reason)
    elif kind is WebhookEventType.INSIGHTS_READY:
        data.update(
            insights=call.insights.model_dump(mode="json") if call.insights else None,
            claim=call.claim,
            reminders=[r.model_dump(mode="json") for r in call.reminders],
            cost=_cost(call),
        )
    return data


def event_body(call: Call, kind: WebhookEventType, identifier: str) -> str:
    """The JSON body: ``{"id", "type", "created_at", "call_id", "data"}``."""
    event = {
        "id": identifier,
        "type": kind.value,
        "created_at": utcnow().isoformat(),
        "call_id": call.call_id,
        "data": event_data(call, kind),
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)
