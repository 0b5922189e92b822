"""Queue trigger: one attempt of one signed webhook delivery (core/webhooks/outbox.py).

The message is ``{"call_id", "event_id", "endpoint"}``. A failed attempt is retried by a delayed
message the job sends itself (backoff); raising (the call store unreachable) makes the host redeliver
this one. A malformed message fails every time and ends in ``<queue>-poison``.
"""

from __future__ import annotations

import azure.functions as func

from core.settings import get_settings

bp = func.Blueprint()


@bp.queue_trigger(arg_name="msg", queue_name=get_settings().webhooks.queue, connection="AzureWebJobsStorage")
async def webhook_delivery(msg: func.QueueMessage) -> None:
    from core.bootstrap import get_services
    from core.webhooks.outbox import deliver, parse_job

    services = get_services()
    job = parse_job(msg.get_body(), message_id=msg.id or "")
    await deliver(services.settings, services.calls, services.queues, services.webhook_poster, job)
