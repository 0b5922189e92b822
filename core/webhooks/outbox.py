"""Signed webhooks: events recorded in the call document, delivered through a Storage queue.

``emit`` records the event for each configured URL (a delivery record keyed by event id + URL, with the
body as it will be sent) and queues one message per new record (``{"call_id", "event_id",
"endpoint"}``: ids, not documents). ``deliver`` is the queue worker: it posts the body, signed, and
writes the attempt into the record. A failed attempt is retried by a new message made invisible for
the backoff delay (doubling, capped), so a retry survives the worker; the record says delivered
after a 2xx and is never posted again; failed once the attempts are used up.

Every step is safe to repeat: the event id is derived from what happened (a redelivered ACS event
emits the same event), a record is added once, a duplicate message finds the record delivered or
leased by the other message. A worker that dies mid-delivery leaves its message on the queue, which
the host delivers again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.costs import price_call
from core.errors import InvalidInputError
from core.models import Call, utcnow
from core.models.webhook import DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEventType
from core.observability import logger
from core.webhooks.events import event_body, event_id
from core.webhooks.signing import ID_HEADER, SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from core.ports import CallStore, QueueSender, WebhookPoster
    from core.settings import Settings

LEASE_MARGIN_S = 30
ERROR_MAX_CHARS = 300


def endpoint_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _find(call: Call, event: str, endpoint: str) -> WebhookDelivery | None:
    return next((d for d in call.webhooks if d.event_id == event and d.endpoint == endpoint), None)


async def emit(
    settings: Settings,
    calls: CallStore,
    queues: QueueSender,
    call_id: str,
    kind: WebhookEventType,
    key: str,
    *,
    current: Call | None = None,
    reprice: bool = False,
) -> Call | None:
    """Record ``kind`` for every configured URL and queue its deliveries. With ``reprice`` the call's
    cost is computed again first (in the same write; the event then carries it). Idempotent for the
    same (kind, key): run it on every delivery of the event that caused it."""
    urls = settings.webhooks.url_list
    if not urls and not reprice:
        return None
    identifier = event_id(call_id, kind, key)
    queued: list[str] = []

    def record(c: Call) -> bool:
        queued.clear()
        changed = False
        if reprice:
            c.cost = price_call(c, settings)
            changed = True
        body: str | None = None
        for url in urls:
            endpoint = endpoint_id(url)
            delivery = _find(c, identifier, endpoint)
            if delivery is None:
                body = body or event_body(c, kind, identifier)
                delivery = WebhookDelivery(
                    event_id=identifier, type=kind, url=url, endpoint=endpoint, body=body
                )
                c.webhooks.append(delivery)
                changed = True
            if delivery.status is DeliveryStatus.PENDING and not delivery.attempts:
                queued.append(endpoint)
        return changed

    call = await calls.update(call_id, record, current=current)
    for endpoint in queued:
        message = {"call_id": call_id, "event_id": identifier, "endpoint": endpoint}
        await queues.send(settings.webhooks.queue, message)
    return call


@dataclass(frozen=True)
class DeliveryJob:
    call_id: str
    event_id: str
    endpoint: str
    message_id: str


def parse_job(body: bytes | str, *, message_id: str) -> DeliveryJob:
    """The job of a queue message; InvalidInputError when malformed."""
    from core.api.calls_query import parse_call_id

    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("webhook message is not JSON") from None
    fields = ("call_id", "event_id", "endpoint")
    if not isinstance(payload, dict) or not all(isinstance(payload.get(f), str) for f in fields):
        raise InvalidInputError("webhook message must be an object with call_id, event_id and endpoint")
    return DeliveryJob(
        parse_call_id(payload["call_id"]), payload["event_id"], payload["endpoint"], message_id
    )


async def deliver(
    settings: Settings, calls: CallStore, queues: QueueSender, poster: WebhookPoster, job: DeliveryJob
) -> str:
    """One attempt of one delivery; what happened: delivered, retry, failed, or why it was skipped."""
    config = settings.webhooks
    taken: list[WebhookDelivery] = []

    def lease(c: Call) -> bool:
        taken.clear()
        delivery = _find(c, job.event_id, job.endpoint)
        now = utcnow()
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return False
        if delivery.leased_by_other(job.message_id, now):
            return False
        delivery.lease(job.message_id, now, config.timeout_s + LEASE_MARGIN_S)
        taken.append(delivery.model_copy())
        return True

    call = await calls.get(job.call_id)
    if call is None:
        logger().warning("webhook delivery for unknown call %s: dropped", job.call_id)
        return "unknown_call"
    found = _find(call, job.event_id, job.endpoint)
    if found is None or found.status is not DeliveryStatus.PENDING:
        return "already_done" if found is not None else "unknown_event"
    await calls.update(job.call_id, lease, current=call)
    if not taken:
        return "skipped"
    delivery = taken[0]
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        ID_HEADER: delivery.event_id,
        SIGNATURE_HEADER: sign(config.signing_secrets, body),
        "User-Agent": "call-center-ai-webhooks/1",
    }
    started = time.perf_counter()
    response = await poster.post(delivery.url, body, headers, timeout_s=config.timeout_s)
    attempt = DeliveryAttempt(
        at=utcnow(),
        status_code=response.status_code,
        error=(response.error or "")[:ERROR_MAX_CHARS] or None,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
    outcome: list[tuple[DeliveryStatus, int]] = []

    def write(c: Call) -> bool:
        outcome.clear()
        fresh = _find(c, job.event_id, job.endpoint)
        if fresh is None:
            return False
        if fresh.status is DeliveryStatus.PENDING:
            fresh.record(attempt, max_attempts=config.max_attempts)
        outcome.append((fresh.status, len(fresh.attempts)))
        return True

    await calls.update(job.call_id, write)
    status, attempts = outcome[0] if outcome else (DeliveryStatus.FAILED, 0)
    if status is DeliveryStatus.PENDING:
        delay = config.backoff_s(attempts)
        message: dict[str, Any] = {"call_id": job.call_id, "event_id": job.event_id, "endpoint": job.endpoint}
        await queues.send(config.queue, message, delay_s=delay)
        logger().info(
            "webhook %s of call %s: attempt %d got %s; next in %d s",
            delivery.type.value,
            job.call_id,
            attempts,
            response.status_code or response.error,
            delay,
        )
        return "retry"
    if status is DeliveryStatus.FAILED:
        logger().warning(
            "webhook %s of call %s given up after %d attempts", delivery.type.value, job.call_id, attempts
        )
    return status.value
