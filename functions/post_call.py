"""Queue trigger: the post-call job (insights, optional SMS summary) for a call that ended.

The message is ``{"call_id": "<uuid>"}``. Raising makes the host redeliver it; after host.json's
``maxDequeueCount`` deliveries it moves to ``<queue>-poison`` (the job marks the call FAILED on the last
delivery). The queue lives in the ``AzureWebJobsStorage`` account (same as STORAGE__CONNECTION_STRING).
"""

from __future__ import annotations

import functools
from pathlib import Path

import azure.functions as func

from core.settings import get_settings

bp = func.Blueprint()

_HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"


@functools.cache
def _max_dequeue_count() -> int:
    from core.insights.service import max_dequeue_count

    return max_dequeue_count(_HOST_JSON)


@bp.queue_trigger(
    arg_name="msg", queue_name=get_settings().storage.post_call_queue, connection="AzureWebJobsStorage"
)
async def post_call(msg: func.QueueMessage) -> None:
    from core.bootstrap import get_services
    from core.errors import InvalidInputError
    from core.insights.service import parse_job, run_post_call
    from core.observability import logger

    try:
        job = parse_job(
            msg.get_body(),
            message_id=msg.id or "",
            dequeue_count=msg.dequeue_count or 1,
            max_dequeue_count=_max_dequeue_count(),
        )
    except InvalidInputError as exc:
        # Never valid, whatever the retry: fail so that it ends in the poison queue for inspection.
        logger().error("post-call message %s rejected: %s", msg.id, exc)
        raise
    await run_post_call(get_services(), job)
