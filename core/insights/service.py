"""The post-call job: insights once, the optional SMS summary once, then post_call.status = DONE.

Delivery is at least once. A message carries only ``{"call_id": ...}``.
- Finished work is never redone: insights already stored for this job are kept, a sent summary is
  never resent, a DONE call is acknowledged at once.
- Insights belong to the connection whose end enqueued the job: a call resumed on a new connection
  gets them computed again, over the whole conversation (insights older than the job are stale).
- A duplicate message (another queue message for the same call) does not run the job concurrently:
  the job holds a lease in the call document (owner = queue message id, conditional write). A
  redelivery of the owner's own message takes the lease over; a lease older than LEASE_SECONDS is free.
- A failure re-raises so the queue redelivers; on the last allowed delivery the call is marked
  post_call.status = FAILED with the error, and the host moves the message to ``<queue>-poison``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from core import telemetry
from core.api.calls_query import parse_call_id
from core.errors import InvalidInputError
from core.insights.prompt import insights_messages
from core.insights.schema import answer_model, to_insights
from core.models import Call, Insights, PostCallStatus, utcnow
from core.observability import logger
from core.ports import SmsSender

if TYPE_CHECKING:
    from core.bootstrap import Services

LEASE_SECONDS = 300
DEFAULT_MAX_DEQUEUE_COUNT = 5
ERROR_MAX_CHARS = 500

ModelT = TypeVar("ModelT", bound=BaseModel)


class JsonCompleter(Protocol):
    async def complete_json(
        self, messages: list[dict[str, Any]], schema: type[ModelT], *, attempts: int = 3
    ) -> ModelT: ...


class PostCallResult(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already_done"
    DUPLICATE_IN_PROGRESS = "duplicate_in_progress"
    UNKNOWN_CALL = "unknown_call"


@dataclass(frozen=True)
class PostCallJob:
    call_id: str
    message_id: str
    dequeue_count: int
    max_dequeue_count: int


def parse_job(
    body: bytes | str, *, message_id: str, dequeue_count: int, max_dequeue_count: int
) -> PostCallJob:
    """The job of a queue message ``{"call_id": "<uuid>"}``; InvalidInputError when malformed."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("post-call message is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("call_id"), str):
        raise InvalidInputError("post-call message must be an object with a string call_id")
    return PostCallJob(
        call_id=parse_call_id(payload["call_id"]),
        message_id=message_id,
        dequeue_count=max(dequeue_count, 1),
        max_dequeue_count=max(max_dequeue_count, 1),
    )


def max_dequeue_count(host_json: Path) -> int:
    """``extensions.queues.maxDequeueCount`` of host.json (the host's default, 5, when absent)."""
    try:
        config = json.loads(host_json.read_text())
        value = config["extensions"]["queues"]["maxDequeueCount"]
        return int(value) if int(value) >= 1 else DEFAULT_MAX_DEQUEUE_COUNT
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_MAX_DEQUEUE_COUNT


async def generate_insights(llm: JsonCompleter, call: Call, actions: tuple[str, ...]) -> Insights:
    """The insights of a call; the model picks the next action among `actions` (the settings'
    ``next_action_names``)."""
    schema = answer_model(actions)
    answer = await llm.complete_json(insights_messages(call, actions), schema, attempts=3)
    return to_insights(answer)


def insights_tokens(call: Call, insights: Insights, actions: tuple[str, ...]) -> tuple[int, int]:
    """Estimated (prompt, completion) tokens of the insights request: its structured answer reports no
    usage (core.engine.tokens estimates within about 10%)."""
    from core.engine.tokens import estimate_prompt_tokens, estimate_tokens

    answer = insights.model_dump_json(exclude={"created_at"})
    return estimate_prompt_tokens(insights_messages(call, actions)), estimate_tokens(answer)


def insights_current(call: Call) -> bool:
    """Whether the stored insights were made for the current job, not for an earlier connection of a
    resumed call. The job is enqueued when its connection ends (``post_call.enqueued_at``); insights
    made before that are of an earlier connection. (Clocks of two workers may differ by a little: at
    worst a redelivered job computes insights once more, never keeps stale ones of a whole call ago.)"""
    if call.insights is None:
        return False
    enqueued = call.post_call.enqueued_at
    return enqueued is None or call.insights.created_at >= enqueued


def _lease_held_by_other(call: Call, owner: str, now: datetime) -> bool:
    lease = call.post_call
    if lease.lease_owner is None or lease.lease_owner == owner:
        return False
    return lease.lease_until is not None and lease.lease_until > now


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:ERROR_MAX_CHARS]


async def run_post_call(
    container: Services,
    job: PostCallJob,
    *,
    llm: JsonCompleter | None = None,
    sms: SmsSender | None = None,
) -> PostCallResult:
    store = container.calls
    settings = container.settings.conversation
    call = await store.get(job.call_id)
    if call is None:
        logger().warning("post-call job for unknown call %s: acknowledged", job.call_id)
        return PostCallResult.UNKNOWN_CALL
    if call.post_call.status is PostCallStatus.DONE:
        return PostCallResult.ALREADY_DONE

    outcome: list[PostCallResult] = []

    def acquire(fresh: Call) -> bool:
        outcome.clear()
        now = utcnow()
        if fresh.post_call.status is PostCallStatus.DONE:
            outcome.append(PostCallResult.ALREADY_DONE)
            return False
        if _lease_held_by_other(fresh, job.message_id, now):
            outcome.append(PostCallResult.DUPLICATE_IN_PROGRESS)
            return False
        fresh.post_call.lease_owner = job.message_id
        fresh.post_call.lease_until = now + timedelta(seconds=LEASE_SECONDS)
        fresh.post_call.attempts = max(fresh.post_call.attempts, job.dequeue_count)
        return True

    call = await store.update(job.call_id, acquire)
    if outcome:
        logger().info("post-call job for call %s skipped: %s", job.call_id, outcome[0].value)
        return outcome[0]

    try:
        if not insights_current(call):
            # The slow model: no caller is waiting, quality matters more than latency.
            model = llm or container.slow_chat_model
            insights = await generate_insights(model, call, settings.next_action_names)
            prompt_tokens, completion_tokens = insights_tokens(call, insights, settings.next_action_names)

            def store_insights(fresh: Call) -> bool:
                if insights_current(fresh):
                    return False
                fresh.insights = insights
                fresh.counters.insights_prompt_tokens += prompt_tokens
                fresh.counters.insights_completion_tokens += completion_tokens
                return True

            call = await store.update(job.call_id, store_insights)
        # Before DONE: a failure here redelivers the job, which announces them again (idempotent).
        from core.models.webhook import WebhookEventType
        from core.webhooks.outbox import emit

        key = call.post_call.for_connection or "insights"
        kind = WebhookEventType.INSIGHTS_READY
        emitted = await emit(
            container.settings, store, container.queues, job.call_id, kind, key, reprice=True
        )
        call = emitted or call
        if settings.sms_summary_enabled and call.post_call.sms_summary_sent_at is None:
            from core.messaging.sms_summary import send_summary_once

            await send_summary_once(store, container.inbox, sms or container.sms, call, settings.phone_policy)

        def finish(fresh: Call) -> bool:
            fresh.post_call.status = PostCallStatus.DONE
            fresh.post_call.error = None
            fresh.post_call.lease_owner = fresh.post_call.lease_until = None
            return True

        await store.update(job.call_id, finish)
    except Exception as exc:
        last = job.dequeue_count >= job.max_dequeue_count
        error = _describe(exc)
        telemetry.record_post_call_failure(type(exc).__name__, last_attempt=last)
        logger().warning(
            "post-call job for call %s failed (delivery %d of %d): %s",
            job.call_id,
            job.dequeue_count,
            job.max_dequeue_count,
            type(exc).__name__,
        )

        def give_up_or_release(fresh: Call) -> bool:
            if fresh.post_call.lease_owner == job.message_id:
                fresh.post_call.lease_owner = fresh.post_call.lease_until = None
            if last and fresh.post_call.status is not PostCallStatus.DONE:
                fresh.post_call.status = PostCallStatus.FAILED
                fresh.post_call.error = error
            return True

        try:
            await store.update(job.call_id, give_up_or_release)
        except Exception as inner:  # the original failure matters more; the queue retries anyway
            logger().warning("could not record the post-call failure: %s", type(inner).__name__)
        raise
    logger().info("post-call job for call %s done", job.call_id)
    return PostCallResult.DONE
