"""A signed webhook event of a call and its delivery to one URL: the record that makes each event
delivered once per (event id, URL), and the delivery log the API and the report show. Pure: no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WebhookEventType(StrEnum):
    CALL_ENDED = "call.ended"
    CALL_TRANSFERRED = "call.transferred"
    CALL_FAILED = "call.failed"
    INSIGHTS_READY = "insights.ready"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued or waiting for its next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx: never sent again
    FAILED = "failed"  # every attempt failed: given up


class DeliveryAttempt(BaseModel):
    at: datetime = Field(default_factory=_utcnow)
    status_code: int | None = Field(default=None, description="The receiver's HTTP status; null: no answer.")
    error: str | None = Field(default=None, description="Why there was no answer (timeout, refused).")
    duration_ms: float = 0.0


class WebhookDelivery(BaseModel):
    """One event for one URL. The body is kept as sent, so every attempt sends the same bytes."""

    event_id: str
    type: WebhookEventType
    url: str
    endpoint: str = Field(description="A short stable id of the URL (queue messages carry it).")
    body: str = Field(description="The JSON body, exactly as posted.")
    created_at: datetime = Field(default_factory=_utcnow)
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    delivered_at: datetime | None = None
    # The queue message working on it, until when (a duplicate message must not post concurrently).
    lease_owner: str | None = None
    lease_until: datetime | None = None

    def leased_by_other(self, owner: str, now: datetime) -> bool:
        if self.lease_owner is None or self.lease_owner == owner:
            return False
        return self.lease_until is not None and self.lease_until > now

    def lease(self, owner: str, now: datetime, seconds: float) -> None:
        self.lease_owner = owner
        self.lease_until = now + timedelta(seconds=seconds)

    def record(self, attempt: DeliveryAttempt, *, max_attempts: int) -> None:
        """One attempt's outcome: delivered on 2xx, failed once the attempts are used up."""
        self.attempts.append(attempt)
        self.lease_owner = self.lease_until = None
        if attempt.status_code is not None and 200 <= attempt.status_code < 300:
            self.status = DeliveryStatus.DELIVERED
            self.delivered_at = attempt.at
        elif len(self.attempts) >= max_attempts:
            self.status = DeliveryStatus.FAILED
