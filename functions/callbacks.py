"""The call-back timer: places the calls the assistant promised (reminders it owns that are due).

Every decision is in core.callbacks.scheduler; a run is safe twice at once or after a missed one.
The schedule (NCRONTAB, seconds first) is CALLBACKS__SCHEDULE, read when the app is indexed.
"""

from __future__ import annotations

import azure.functions as func

from core.settings import get_settings

bp = func.Blueprint()


@bp.timer_trigger(
    arg_name="timer", schedule=get_settings().callbacks.schedule, run_on_startup=False, use_monitor=True
)
async def callbacks_timer(timer: func.TimerRequest) -> None:
    from core.bootstrap import get_services
    from core.callbacks.scheduler import run_due
    from core.observability import logger

    services = get_services()
    if not services.settings.callbacks.enabled:
        return
    if timer.past_due:
        logger().info("call-back timer is past due: catching up")
    await run_due(services)
