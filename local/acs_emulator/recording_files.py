"""Recording files: written into the bring-your-own-storage container, then announced on Event Grid.

When a recording session started with ``externalStorage`` (``recordingStorageKind: azureBlobStorage``
and ``recordingDestinationContainerUrl``) ends (stopped, or the call ended), the emulator writes a
small file into that container (Azurite locally: the well-known development account key stands for
ACS's managed identity) and publishes ``Microsoft.Communication.RecordingFileStatusUpdated`` to
``recording_eventgrid_endpoint``, shaped as documented (provenance: learn.microsoft.com, Call Recording
quickstart, "Example of the event schema"; the Event Grid system event model
AcsRecordingFileStatusUpdatedEventData: recordingStorageInfo.recordingChunks[documentId, index,
endReason, contentLocation, metadataLocation, deleteLocation], recordingStartTime, recordingDurationMs,
recordingContentType, recordingChannelType, recordingFormatType, sessionEndReason; subject
``/recording/call/{call-id}/serverCallId/{serverCallId}``).

Without ``externalStorage`` ACS keeps the file in its own storage; the emulator does not (nothing is
written, no event is sent). A container that does not exist gets nothing either (logged in the call's
transcript): ACS cannot write there.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import wave
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

# Azurite's development account key: public, documented, not a secret.
AZURITE_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
FORMATS = {"wav": ("Wav", "audio/wav"), "mp3": ("Mp3", "audio/mpeg"), "mp4": ("Mp4", "video/mp4")}


def wav_file(duration_ms: int, rate: int = 16000) -> bytes:
    """A mono 16-bit PCM WAV of a quiet 440 Hz tone, at most 2 s (kept small)."""
    frames = max(1, min(duration_ms, 2000) * rate // 1000)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        period = rate // 440
        sample = [(2000 * (1 if (i % period) < period // 2 else -1)) for i in range(period)]
        chunk = b"".join(v.to_bytes(2, "little", signed=True) for v in sample)
        writer.writeframes((chunk * (frames // period + 1))[: frames * 2])
    return out.getvalue()


def blob_name(server_call_id: str, recording_id: str, document_id: str, extension: str) -> str:
    """Where the file goes in the container: one folder per day, call and recording."""
    day = datetime.now(UTC).strftime("%Y%m%d")
    call = hashlib.sha256(server_call_id.encode()).hexdigest()[:16]
    recording = hashlib.sha256(recording_id.encode()).hexdigest()[:16]
    return f"{day}/{call}/{recording}/{document_id}.{extension}"


def account_of(container_url: str) -> str:
    """The storage account of a container URL: Azurite's path-style, else the host's first label."""
    parts = urlsplit(container_url)
    segments = [s for s in parts.path.split("/") if s]
    if parts.hostname in ("127.0.0.1", "localhost") and len(segments) >= 2:
        return segments[0]
    return (parts.hostname or "").split(".")[0]


async def write_blob(container_url: str, name: str, data: bytes, content_type: str) -> str:
    """Upload into the container (which must exist); returns the blob's URL."""
    from azure.storage.blob import ContentSettings
    from azure.storage.blob.aio import ContainerClient

    credential = {"account_name": account_of(container_url), "account_key": AZURITE_ACCOUNT_KEY}
    async with ContainerClient.from_container_url(container_url, credential=credential) as container:
        blob = container.get_blob_client(name)
        await blob.upload_blob(
            data, overwrite=True, content_settings=ContentSettings(content_type=content_type)
        )
        return str(blob.url)


def file_status_event(
    *,
    topic: str,
    correlation_id: str,
    server_call_id: str,
    chunk: dict[str, Any],
    started_at: str,
    duration_ms: int,
    content: str,
    channel: str,
    format_type: str,
) -> dict[str, Any]:
    """Microsoft.Communication.RecordingFileStatusUpdated, Event Grid schema."""
    return {
        "id": str(uuid.uuid4()),
        "topic": topic,
        "subject": f"/recording/call/{correlation_id}/serverCallId/{server_call_id}",
        "data": {
            "recordingStorageInfo": {"recordingChunks": [chunk]},
            "recordingStartTime": started_at,
            "recordingDurationMs": duration_ms,
            "recordingContentType": content,
            "recordingChannelType": channel,
            "recordingFormatType": format_type,
            "sessionEndReason": "CallEnded",
        },
        "eventType": "Microsoft.Communication.RecordingFileStatusUpdated",
        "dataVersion": "1.0",
        "metadataVersion": "1",
        "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


def metadata(
    recording_id: str, server_call_id: str, started_at: str, duration_ms: int, format_type: str
) -> bytes:
    return json.dumps(
        {
            "resourceId": "acs-emulator",
            "callId": server_call_id,
            "recordingId": recording_id,
            "chunkDocumentId": "",
            "chunkIndex": 0,
            "chunkStartTime": started_at,
            "chunkDuration": duration_ms,
            "recordingInfo": {"contentType": "audio", "channelType": "mixed", "format": format_type.lower()},
        }
    ).encode()
