"""Where a call's recordings are kept. Pure: no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field


def _now() -> datetime:
    return datetime.now(UTC)


class RecordingFile(BaseModel):
    """A recording of the call, stored in the project's blob container (RecordingFileStatusUpdated)."""

    server_call_id: str = Field(description="The ACS server call id the recording is of.")
    # The blob's path in the recordings container (never a URL with credentials).
    blob_name: str
    content_type: str = "audio/wav"
    duration_ms: int | None = None
    started_at: datetime | None = None
    stored_at: datetime = Field(default_factory=_now)
    # The Event Grid event that announced it (a redelivery adds nothing).
    source_id: str
