"""Event Grid trigger: a call's recording file is stored (Microsoft.Communication.RecordingFileStatusUpdated).

Thin: the handling (find the call, keep where the file is) is core.recordings. A transient failure
raises so Event Grid delivers the event again; other event types are acknowledged and ignored.
"""

from __future__ import annotations

import azure.functions as func

bp = func.Blueprint()


@bp.event_grid_trigger(arg_name="event")
async def recording_file_status(event: func.EventGridEvent) -> None:
    from core.recordings import EVENT_TYPE

    if event.event_type != EVENT_TYPE:
        return
    from core.bootstrap import get_services
    from core.recordings import on_file_status

    data = event.get_json()
    await on_file_status(
        get_services(), event.id, event.subject or "", data if isinstance(data, dict) else {}
    )
