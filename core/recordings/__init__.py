"""Recordings that are kept: where ACS stored a call's recording, and serving it back to the report.

ACS records into the project's blob container (bring-your-own-storage: ``start_recording`` is given
RECORDINGS__CONTAINER_URL) and, once the file is written, publishes
``Microsoft.Communication.RecordingFileStatusUpdated`` through Event Grid. Its ``subject`` is
``/recording/call/{call-id}/serverCallId/{serverCallId}`` and each chunk of
``data.recordingStorageInfo.recordingChunks`` has a ``contentLocation`` (the documented schema: Call
Recording quickstart, "Example of the event schema"; AcsRecordingFileStatusUpdatedEventData in the
Event Grid system events). The call is found by that server call id (CallConnected gave it), and each
chunk stored in our container is kept on the call as a RecordingFile (its blob name, not the URL).

Usage::

    await on_file_status(services, event_id, subject, data)    # Event Grid trigger
    body, media_type = await read_recording(services, call_id, index)   # GET /report/{id}/recordings/{n}
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from core.api.calls_query import get_call
from core.errors import InvalidInputError, NotFoundError
from core.models import Call, RecordingFile
from core.observability import logger

if TYPE_CHECKING:
    from core.bootstrap import Services

EVENT_TYPE = "Microsoft.Communication.RecordingFileStatusUpdated"
_SUBJECT = re.compile(r"/serverCallId/(?P<server_call_id>[^/]+)")
_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg", "mp4": "video/mp4"}


def server_call_id_of(subject: str) -> str:
    match = _SUBJECT.search(subject or "")
    return unquote(match.group("server_call_id")) if match else ""


def blob_name_in(container_url: str, content_location: str) -> str | None:
    """The blob's name when ``content_location`` is in our container, else None."""
    container, location = urlsplit(container_url), urlsplit(content_location)
    prefix = container.path.rstrip("/") + "/"
    if (location.scheme, location.netloc) != (container.scheme, container.netloc):
        return None
    if not location.path.startswith(prefix) or len(location.path) == len(prefix):
        return None
    return unquote(location.path[len(prefix) :])


def _started_at(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None


def files_of(
    event_id: str, server_call_id: str, data: dict[str, Any], container_url: str
) -> list[RecordingFile]:
    """The chunks of the event that are in our container, in their index order."""
    given = data.get("recordingStorageInfo")
    info: dict[str, Any] = given if isinstance(given, dict) else {}
    chunks = [c for c in info.get("recordingChunks") or [] if isinstance(c, dict)]
    media_type = _FORMATS.get(
        str(data.get("recordingFormatType") or "wav").lower(), "application/octet-stream"
    )
    duration = data.get("recordingDurationMs")
    files: list[RecordingFile] = []
    for chunk in sorted(chunks, key=lambda c: int(c.get("index") or 0)):
        name = blob_name_in(container_url, str(chunk.get("contentLocation") or ""))
        if name is None:
            continue
        files.append(
            RecordingFile(
                server_call_id=server_call_id,
                blob_name=name,
                content_type=media_type,
                duration_ms=int(duration) if isinstance(duration, int | float) and len(chunks) == 1 else None,
                started_at=_started_at(data.get("recordingStartTime")),
                source_id=f"{event_id}:{chunk.get('index') or 0}",
            )
        )
    return files


async def on_file_status(services: Services, event_id: str, subject: str, data: dict[str, Any]) -> str | None:
    """Keep the recording on its call. Returns the call id, or None (logged) when there is nothing to
    keep: no such call, or the file is not in our container. Idempotent: a redelivery adds nothing."""
    log = logger()
    server_call_id = server_call_id_of(subject) or str(data.get("serverCallId") or "")
    files = files_of(event_id, server_call_id, data, services.settings.recordings.container_url)
    if not files:
        log.warning("RecordingFileStatusUpdated %s: no chunk in the recordings container; ignored", event_id)
        return None
    call = await services.calls.find_by_server_call_id(server_call_id) if server_call_id else None
    if call is None:
        log.warning(
            "RecordingFileStatusUpdated %s: no call with server call %s; ignored", event_id, server_call_id
        )
        return None

    def keep(c: Call) -> bool:
        added = [c.add_recording(f) for f in files]
        return any(added)

    await services.calls.update(call.call_id, keep, current=call)
    return call.call_id


async def read_recording(services: Services, raw_call_id: str, raw_index: str) -> tuple[bytes, str]:
    """The recording's bytes and media type. NotFoundError, InvalidInputError."""
    call = await get_call(services.calls, raw_call_id)
    try:
        index = int(raw_index)
    except ValueError:
        raise InvalidInputError(f"recording index '{raw_index[:20]}' is not a number") from None
    if not 0 <= index < len(call.recordings):
        raise NotFoundError(f"call {call.call_id} has no recording {index}")
    recording = call.recordings[index]
    limit = services.settings.recordings.max_download_mb * 1024 * 1024
    return await services.recordings.read(recording.blob_name, max_bytes=limit), recording.content_type
