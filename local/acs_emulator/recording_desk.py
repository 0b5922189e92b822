"""Call recording as ACS does it: sessions that change state (RecordingStateChanged), and the file
written into the app's own container when a session ends (RecordingFileStatusUpdated via Event Grid).
Mixed into the call engine (calls.py)."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from local.acs_emulator import recording_files
from local.acs_emulator.call_state import Call, Recording, new_recording_id
from local.acs_emulator.callbacks import Dispatcher
from local.acs_emulator.clock import Clock
from local.acs_emulator.config import EmulatorConfig
from local.acs_emulator.results import PARTICIPANTS_RESULT


class RecordingDesk:
    config: EmulatorConfig
    dispatcher: Dispatcher
    clock: Clock
    recordings: dict[str, Recording]

    if TYPE_CHECKING:

        def spawn(self, coro: Any) -> None: ...

        def emit(
            self,
            call: Call,
            event_name: str,
            data: dict[str, Any],
            operation_context: str | None = None,
            result: dict[str, Any] | None = None,
            uri: str | None = None,
            source: str | None = None,
        ) -> dict[str, Any]: ...

    def start_recording(
        self, call: Call, callback_uri: str | None, paused: bool, options: dict[str, Any] | None = None
    ) -> Recording:
        recording = Recording(
            new_recording_id(call.call_id), call, "inactive", callback_uri, **(options or {})
        )
        self.recordings[recording.recording_id] = recording
        call.transcript.add("recording", recording_id=recording.recording_id, action="start", paused=paused)
        if not paused:
            self.set_recording_state(recording, "active")
        return recording

    def set_recording_state(self, recording: Recording, state: str) -> None:
        recording.state = state
        recording.call.transcript.add("recording", recording_id=recording.recording_id, state=state)
        # Recording events come from the recording, not the call connection (recorded callbacks).
        source = f"calling/recordings/{recording.call.server_call_id}/{recording.recording_id}/RecordingStateChanged"
        self.emit(
            recording.call,
            "RecordingStateChanged",
            {
                "eventSource": source,
                "recordingId": recording.recording_id,
                "state": state,
                "startDateTime": recording.started_at,
                "recordingKind": "azureCommunicationServices",
            },
            None,
            PARTICIPANTS_RESULT,
            recording.callback_uri,
            source,
        )

    def finish_recording(self, recording: Recording) -> None:
        """The recording session is over (stopped, or the call ended): its file goes out once."""
        if recording.finished:
            return
        recording.finished = True
        if recording.container_url:
            self.spawn(self._store_recording_file(recording))

    async def _store_recording_file(self, recording: Recording) -> None:
        await self.clock.sleep(self.config.recording_file_delay_s)
        call = recording.call
        duration_ms = max(1000, int((time.monotonic() - recording.started_monotonic) * 1000))
        format_name, media_type = recording_files.FORMATS[recording.format]
        data = recording_files.wav_file(duration_ms) if recording.format == "wav" else b"\x00" * 64
        document_id = str(uuid.uuid4())
        name = recording_files.blob_name(
            call.server_call_id, recording.recording_id, document_id, recording.format
        )
        assert recording.container_url is not None
        try:
            url = await recording_files.write_blob(recording.container_url, name, data, media_type)
            metadata_url = await recording_files.write_blob(
                recording.container_url,
                name.rsplit(".", 1)[0] + ".json",
                recording_files.metadata(
                    recording.recording_id,
                    call.server_call_id,
                    recording.started_at,
                    duration_ms,
                    format_name,
                ),
                "application/json",
            )
        except Exception as exc:  # ACS cannot write there: no file, no event
            call.transcript.add("note", text=f"recording file not written: {type(exc).__name__}: {exc}")
            return
        chunk = {
            "documentId": document_id,
            "index": 0,
            "endReason": "SessionEnded",
            "contentLocation": url,
            "metadataLocation": metadata_url,
            "deleteLocation": url,
        }
        event = recording_files.file_status_event(
            topic=self._topic(),
            correlation_id=call.correlation_id,
            server_call_id=call.server_call_id,
            chunk=chunk,
            started_at=recording.started_at,
            duration_ms=duration_ms,
            content=recording.content[0].upper() + recording.content[1:],
            channel=recording.channel.capitalize(),
            format_type=format_name,
        )
        call.transcript.add("recording", recording_id=recording.recording_id, file=url, event_id=event["id"])
        endpoint = self.config.recording_eventgrid_endpoint
        if endpoint:
            self.dispatcher.send_eventgrid(f"recording-{call.call_id}", endpoint, event, call.transcript)

    def _topic(self) -> str:
        return (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
            f"Microsoft.Communication/communicationServices/{self.config.resource_name}"
        )
