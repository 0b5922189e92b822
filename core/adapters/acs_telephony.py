"""Telephony on Azure Communication Services Call Automation (aio SDK).

The client is built with an explicit endpoint and key (never from a connection string, which forces
https); it is created on first use and reused by the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from core.adapters import azure_http
from core.adapters.identity import CredentialSource, require
from core.adapters.ssml import to_ssml
from core.errors import CallGone, TelephonyError, TelephonyRefused
from core.models import Choice, SpokenText

if TYPE_CHECKING:
    from azure.communication.callautomation.aio import CallAutomationClient, CallConnectionClient

    from core.settings import AcsSettings

_TONES = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
    "7": "seven", "8": "eight", "9": "nine", "*": "asterisk", "#": "pound",
}  # fmt: skip


@contextlib.asynccontextmanager
async def _translated(action: str) -> AsyncIterator[None]:
    """SDK errors as the port's: 404/410 mean the call is gone, other 4xx a refusal (permanent), 5xx,
    429 and network failures a transient TelephonyError. Each carries ACS's status and error code."""
    from azure.core.exceptions import AzureError, HttpResponseError

    try:
        yield
    except HttpResponseError as exc:
        status = exc.status_code or 0
        error = getattr(exc, "error", None)
        code = str(getattr(error, "code", "") or "") or None
        detail = f"{action}: HTTP {status}{f' {code}' if code else ''} {(exc.reason or '')[:100]}".strip()
        if status in (404, 410):
            raise CallGone(detail, acs_status=status, acs_code=code) from exc
        if status >= 500 or status == 429 or status == 0:
            raise TelephonyError(detail, acs_status=status or None, acs_code=code) from exc
        raise TelephonyRefused(detail, acs_status=status, acs_code=code) from exc
    except (AzureError, OSError, TimeoutError) as exc:
        raise TelephonyError(f"{action}: {type(exc).__name__}") from exc


# What the REST contract accepts (callautomation 2025-06-15): initialSilenceTimeoutInSeconds is an
# integer from 0 to 300; speechOptions.endSilenceTimeoutInMs an integer of milliseconds (no documented
# range: the settings bound it).
MAX_INITIAL_SILENCE_S = 300


def _whole_seconds(seconds: float) -> int:
    return min(MAX_INITIAL_SILENCE_S, max(1, round(seconds)))


def end_silence_ms(seconds: float) -> int:
    """The end-silence timeout as the whole milliseconds ACS takes (at least 1)."""
    return max(1, round(seconds * 1000))


def _sdk_end_silence(seconds: float) -> float:
    """What to hand the SDK's ``end_silence_timeout`` so that ACS gets ``end_silence_ms(seconds)``.

    The SDK types it as whole seconds and sends ``int(value * 1000)`` milliseconds: a whole number of
    seconds would turn 0.5 s into 1 s. Half a millisecond above the wanted value survives both the float
    product and the truncation, whatever the binary rounding of ``value * 1000``."""
    return (end_silence_ms(seconds) + 0.5) / 1000


def _play_source(speech: SpokenText) -> Any:
    """An audio file (``audio_url``: the hold sound), else the text as SSML (:func:`_ssml_source`)."""
    if speech.audio_url:
        from azure.communication.callautomation import FileSource

        return FileSource(url=speech.audio_url)
    return _ssml_source(speech)


def _ssml_source(speech: SpokenText) -> Any:
    """The SSML play source of a text, with the custom voice's endpoint when the language has one."""
    from azure.communication.callautomation import SsmlSource

    endpoint = speech.custom_voice_endpoint_id or None
    return SsmlSource(ssml_text=to_ssml(speech), custom_voice_endpoint_id=endpoint)


class AcsTelephony:
    """core.ports.Telephony on ACS Call Automation."""

    def __init__(self, settings: AcsSettings, credential: CredentialSource | None = None) -> None:
        self._settings = settings
        self._credential_source = credential
        self._client: CallAutomationClient | None = None
        self._connections: dict[str, CallConnectionClient] = {}
        self._lock = asyncio.Lock()

    async def _get_client(self) -> CallAutomationClient:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    from azure.communication.callautomation.aio import CallAutomationClient
                    from azure.core.credentials import AzureKeyCredential

                    key = self._settings.access_key
                    self._client = CallAutomationClient(
                        self._settings.endpoint,
                        AzureKeyCredential(key)
                        if key
                        else require(self._credential_source, "ACS Call Automation", "ACS__ACCESS_KEY"),
                        **azure_http.client_options(),
                    )
        return self._client

    async def _connection(self, connection_id: str) -> CallConnectionClient:
        found = self._connections.get(connection_id)
        if found is None:
            client = await self._get_client()
            found = client.get_call_connection(connection_id)
            # Bounded: a worker handles many calls over its life; connection clients are cheap wrappers.
            if len(self._connections) > 1000:
                self._connections.clear()
            self._connections[connection_id] = found
        return found

    async def close(self) -> None:
        self._connections.clear()
        if self._client is not None:
            await self._client.close()
        self._client = None

    async def answer(self, incoming_call_context: str, callback_url: str) -> str:
        client = await self._get_client()
        async with _translated("answer"):
            properties = await client.answer_call(
                incoming_call_context,
                callback_url,
                cognitive_services_endpoint=self._settings.cognitive_services_endpoint,
            )
        return str(properties.call_connection_id)

    async def reject(self, incoming_call_context: str, reason: str) -> None:
        client = await self._get_client()
        async with _translated("reject"):
            await client.reject_call(incoming_call_context, call_reject_reason=reason)

    async def call(self, phone_number: str, callback_url: str) -> str:
        from azure.communication.callautomation import PhoneNumberIdentifier

        client = await self._get_client()
        async with _translated("create call"):
            properties = await client.create_call(
                PhoneNumberIdentifier(phone_number),
                callback_url,
                source_caller_id_number=PhoneNumberIdentifier(self._settings.phone_number),
                cognitive_services_endpoint=self._settings.cognitive_services_endpoint,
            )
        return str(properties.call_connection_id)

    async def play(self, connection_id: str, speech: SpokenText, *, context: str) -> None:
        connection = await self._connection(connection_id)
        async with _translated("play"):
            await connection.play_media(_play_source(speech), operation_context=context)

    async def listen(
        self,
        connection_id: str,
        phone_number: str,
        *,
        language: str,
        context: str,
        prompt: Sequence[SpokenText] = (),
        choices: list[Choice] | None = None,
        initial_silence_s: float = 6.0,
        end_silence_s: float = 0.5,
        interrupt_media: bool = False,
    ) -> None:
        from azure.communication.callautomation import (
            PhoneNumberIdentifier,
            RecognitionChoice,
            RecognizeInputType,
        )

        connection = await self._connection(connection_id)
        kwargs: dict[str, Any] = {
            "operation_context": context,
            "speech_language": language,
            # 0 (the contract's minimum) is kept: a sentence of an answer, more is coming.
            "initial_silence_timeout": 0 if initial_silence_s <= 0 else _whole_seconds(initial_silence_s),
        }
        if interrupt_media:
            kwargs["interrupt_call_media_operation"] = True
        if prompt:
            kwargs["play_prompt"] = [_play_source(p) for p in prompt]
            kwargs["interrupt_prompt"] = True
        if choices:
            kwargs["choices"] = [
                RecognitionChoice(label=c.label, phrases=c.phrases, tone=_TONES.get(c.tone or ""))
                for c in choices
            ]
            input_type = RecognizeInputType.CHOICES
        else:
            kwargs["end_silence_timeout"] = _sdk_end_silence(end_silence_s)
            input_type = RecognizeInputType.SPEECH
        async with _translated("recognize"):
            await connection.start_recognizing_media(
                input_type, PhoneNumberIdentifier(phone_number), **kwargs
            )

    async def cancel_media(self, connection_id: str) -> None:
        connection = await self._connection(connection_id)
        async with _translated("cancel media"):
            await connection.cancel_all_media_operations()

    async def transfer(self, connection_id: str, phone_number: str, *, context: str) -> None:
        from azure.communication.callautomation import PhoneNumberIdentifier

        connection = await self._connection(connection_id)
        async with _translated("transfer"):
            await connection.transfer_call_to_participant(
                PhoneNumberIdentifier(phone_number), operation_context=context
            )

    async def hang_up(self, connection_id: str) -> None:
        connection = await self._connection(connection_id)
        try:
            async with _translated("hang up"):
                await connection.hang_up(is_for_everyone=True)
        finally:
            self._connections.pop(connection_id, None)

    async def start_recording(self, connection_id: str, *, container_url: str = "") -> None:
        # Audio only, mixed, WAV: what the report plays (ACS's default is an audio-video MP4).
        kwargs: dict[str, Any] = {
            "recording_content_type": "audio",
            "recording_channel_type": "mixed",
            "recording_format_type": "wav",
        }
        if container_url:
            from azure.communication.callautomation import AzureBlobContainerRecordingStorage

            # Bring-your-own-storage: ACS writes the file into our container (its identity needs
            # Storage Blob Data Contributor there) and announces it with RecordingFileStatusUpdated.
            kwargs["recording_storage"] = AzureBlobContainerRecordingStorage(container_url)
        client = await self._get_client()
        async with _translated("start recording"):
            await client.start_recording(call_connection_id=connection_id, **kwargs)
