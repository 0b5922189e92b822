"""The public view of a call: what GET /call, POST /call, the reports and the OpenAPI document show.

An explicit list of fields, so nothing new in the call document is published by accident: never the
callback secret (it authenticates ACS callbacks), nor the state of the live phone connection (the ACS
connection id, the turn allowed to speak, the typed connection state, the post-call job's lease).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.models import (
    Call,
    CallDirection,
    CallStatus,
    Counters,
    InitiateRequest,
    Insights,
    Message,
    PostCallStatus,
    Reminder,
    TimingFigures,
)
from core.models.cost import CallCost
from core.models.reminder import CallbackOrigin
from core.models.webhook import DeliveryAttempt, DeliveryStatus, WebhookEventType


class PublicPostCall(BaseModel):
    """Where the post-call job (insights, SMS summary) stands."""

    status: PostCallStatus
    enqueued_at: datetime | None = None
    attempts: int = 0
    sms_summary_sent_at: datetime | None = None
    error: str | None = None


class PublicRecording(BaseModel):
    """A recording of the call, kept in the project's storage (played from the report)."""

    content_type: str
    duration_ms: int | None = None
    started_at: datetime | None = None
    stored_at: datetime


class PublicWebhookDelivery(BaseModel):
    """One signed webhook event sent to one URL, and every attempt (the delivery log)."""

    event_id: str
    type: WebhookEventType
    url: str
    status: DeliveryStatus
    created_at: datetime
    delivered_at: datetime | None = None
    attempts: list[DeliveryAttempt] = Field(default_factory=list)


class PublicCall(BaseModel):
    """A call: what it is for, what was said and collected, what came of it, and its figures."""

    call_id: str = Field(description="The call id (a UUID).")
    created_at: datetime
    updated_at: datetime
    direction: CallDirection
    status: CallStatus
    initiate: InitiateRequest = Field(description="What the call is for: task, claim schema, bot, numbers.")
    claim: dict[str, Any] = Field(description="The claim values collected so far, by field name.")
    messages: list[Message] = Field(description="The transcript, oldest first.")
    reminders: list[Reminder]
    insights: Insights | None = Field(description="Post-call insights, once computed.")
    language: str = Field(description="The language the call is in now.")
    counters: Counters
    timing: TimingFigures
    post_call: PublicPostCall
    ended_at: datetime | None
    end_reason: str | None = Field(
        default=None, description="Why the call ended without a conversation (missed, not placed)."
    )
    callback_of: CallbackOrigin | None = Field(
        default=None, description="On a call the assistant placed for a reminder: the call it calls back for."
    )
    recordings: list[PublicRecording] = Field(
        default_factory=list, description="Recordings kept, in order (report: /report/{id}/recordings/{n})."
    )
    cost: CallCost | None = Field(
        default=None, description="What the call cost at the PRICES__* unit prices, once it ended."
    )
    webhooks: list[PublicWebhookDelivery] = Field(
        default_factory=list, description="Signed webhook events of the call and their delivery log."
    )

    @classmethod
    def of(cls, call: Call) -> PublicCall:
        # The call is valid already: copy the listed fields without validating them again.
        skip = ("post_call", "recordings", "webhooks")
        fields = {name: getattr(call, name) for name in cls.model_fields if name not in skip}
        post_call = PublicPostCall.model_construct(
            **{name: getattr(call.post_call, name) for name in PublicPostCall.model_fields}
        )
        recordings = [
            PublicRecording.model_construct(
                **{name: getattr(r, name) for name in PublicRecording.model_fields}
            )
            for r in call.recordings
        ]
        webhooks = [
            PublicWebhookDelivery.model_construct(
                **{name: getattr(d, name) for name in PublicWebhookDelivery.model_fields}
            )
            for d in call.webhooks
        ]
        return cls.model_construct(**fields, post_call=post_call, recordings=recordings, webhooks=webhooks)

    @property
    def phone_number(self) -> str:
        return self.initiate.phone_number


def public_view(call: Call) -> dict[str, Any]:
    """The public view of a call as JSON."""
    return PublicCall.of(call).model_dump(mode="json")


class CallPage(BaseModel):
    """A page of calls, newest first."""

    calls: list[PublicCall] = Field(description="Calls, newest first.")
    continuation: str | None = Field(
        description="Opaque token for the next page (pass it as ?continuation=), null on the last page."
    )
    cost_total: dict[str, float] = Field(
        default_factory=dict, description="The summed cost of the priced calls of this page, by currency."
    )
