"""The emulator is as strict as ACS and sends events shaped like the recorded ones (tests/fixtures/acs/):
speech needs an AI Services endpoint on the call, and the callbacks carry what the live service puts
in them."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from azure.communication.callautomation import (
    CommunicationUserIdentifier,
    DtmfTone,
    FileSource,
    PhoneNumberIdentifier,
    RecognitionChoice,
    RecognizeInputType,
    TextSource,
)
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.exceptions import HttpResponseError

from local.acs_emulator import AcsEmulator
from local.hold_sound import hold_wav
from tests.emulator.conftest import AI_SERVICES, BOT, PERSON
from tests.emulator.files import FileServer
from tests.emulator.receiver import CallbackReceiver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "acs"
ACS_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$")
ACS_USER = "8:acs:6d889502-3d7a-41a8-befa-d21fd80e8767_00000026-426d-b528-19d3-363a0d00b54a"


def recorded(name: str) -> list[dict[str, Any]]:
    """The callback events of one recorded fixture, in the order the file lists them."""
    found: list[dict[str, Any]] = []
    for key, value in json.loads((FIXTURES / name).read_text()).items():
        if key != "IncomingCall":
            found.extend(value if isinstance(value, list) else [value])
    return found


async def answered(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver, **answer: Any
) -> str:
    call = emulator.start_incoming_call(PERSON, [{"silence": 100}])
    await client.answer_call(call.incoming_call_context or "", receiver.url(), **answer)
    await receiver.wait_for("CallConnected", call.call_id)
    return call.call_id


async def test_a_call_answered_without_ai_services_is_refused_speech_as_acs_refuses_it(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id = await answered(client, emulator, receiver)
    conn = client.get_call_connection(call_id)
    person = PhoneNumberIdentifier(PERSON)
    refusals = [
        conn.play_media(TextSource(text="Hello", voice_name="en-US-AvaNeural")),
        conn.start_recognizing_media(RecognizeInputType.SPEECH, person),
        conn.start_recognizing_media(
            RecognizeInputType.CHOICES, person, choices=[RecognitionChoice(label="yes", phrases=["yes"])]
        ),
        conn.start_recognizing_media(RecognizeInputType.DTMF, person, play_prompt=TextSource(text="Press 1")),
    ]
    for refused in refusals:
        with pytest.raises(HttpResponseError) as info:
            await refused
        assert info.value.status_code == 405
        assert info.value.error is not None and info.value.error.code == "8522"
        assert "Cognitive Service Configuration not set during call setup" in str(info.value.message)
    # What needs no speech service still works: audio files and keypad input.
    async with FileServer({"hold.wav": hold_wav(), "menu.wav": hold_wav()}) as files:
        await conn.play_media(FileSource(url=files.url("hold.wav")), operation_context="file")
        await conn.start_recognizing_media(
            RecognizeInputType.DTMF, person, play_prompt=FileSource(url=files.url("menu.wav"))
        )
        await receiver.wait_for("PlayCompleted", call_id)


async def test_a_placed_call_without_ai_services_is_refused_speech_too(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.set_script(PERSON, [{"silence": 100}])
    props = await client.create_call(
        PhoneNumberIdentifier(PERSON), receiver.url(), source_caller_id_number=PhoneNumberIdentifier(BOT)
    )
    await receiver.wait_for("CallConnected", props.call_connection_id)
    with pytest.raises(HttpResponseError) as info:
        await client.get_call_connection(props.call_connection_id).play_media(TextSource(text="Hi"))
    assert info.value.status_code == 405


async def test_without_the_role_on_the_account_speech_fails_with_8565(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.config.cognitive_services_authorized = False
    call_id = await answered(client, emulator, receiver, cognitive_services_endpoint=AI_SERVICES)
    conn = client.get_call_connection(call_id)
    await conn.play_media(TextSource(text="Hello"), operation_context="hello")
    await conn.start_recognizing_media(
        RecognizeInputType.CHOICES,
        PhoneNumberIdentifier(PERSON),
        choices=[RecognitionChoice(label="yes", phrases=["yes"], tone=DtmfTone.ONE)],
    )
    (play,) = await receiver.wait_for("PlayFailed", call_id)
    (recognize,) = await receiver.wait_for("RecognizeFailed", call_id)
    for event in (play, recognize):
        info = event["data"]["resultInformation"]
        assert (info["code"], info["subCode"]) == (401, 8565)
        assert "Cognitive Services authentication error" in info["message"]


async def test_recognize_timeouts_outside_the_contract_are_refused(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id = await answered(client, emulator, receiver, cognitive_services_endpoint=AI_SERVICES)
    conn = client.get_call_connection(call_id)
    with pytest.raises(HttpResponseError) as info:
        await conn.start_recognizing_media(
            RecognizeInputType.SPEECH, PhoneNumberIdentifier(PERSON), initial_silence_timeout=301
        )
    assert info.value.status_code == 400
    # 0.5 s reaches the service as 500 ms (not rounded to a second).
    await conn.start_recognizing_media(
        RecognizeInputType.SPEECH,
        PhoneNumberIdentifier(PERSON),
        end_silence_timeout=0.5,  # type: ignore[arg-type]
    )
    listening = [e for e in emulator.transcript(call_id) if e["kind"] == "listening"]
    assert listening[-1]["end_silence_s"] == 0.5


async def test_callbacks_are_shaped_like_the_recorded_ones(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id = await answered(client, emulator, receiver, cognitive_services_endpoint=AI_SERVICES)
    conn = client.get_call_connection(call_id)
    props = await conn.get_call_properties()
    recording = await client.start_recording(server_call_id=props.server_call_id)
    await receiver.wait_for("RecordingStateChanged", call_id)
    await conn.hang_up(is_for_everyone=True)
    await receiver.wait_for("CallDisconnected", call_id)
    ours = {e["type"]: e for e in receiver.events(call_id)}
    real = {e["type"]: e for e in recorded("start_recording_with_call_connection_id.json")}
    for event_type, theirs in real.items():
        mine = ours[event_type]
        assert set(theirs) == set(mine), event_type  # the same envelope
        assert set(theirs["data"]) - {"operationContext"} <= set(mine["data"]), event_type
        assert mine["data"]["publicEventType"] == event_type
        assert ACS_TIME.match(mine["time"]), mine["time"]
    assert receiver.types(call_id, participants=True)[:2] == ["CallConnected", "ParticipantsUpdated"]
    changed = ours["Microsoft.Communication.RecordingStateChanged"]
    where = f"calling/recordings/{props.server_call_id}/{recording.recording_id}/RecordingStateChanged"
    assert changed["source"] == changed["subject"] == changed["data"]["eventSource"] == where
    token = json.loads(base64.urlsafe_b64decode(recording.recording_id + "=="))
    assert token["PlatformEndpointId"] == call_id
    ended = ours["Microsoft.Communication.CallDisconnected"]["data"]["resultInformation"]
    assert ended["subCode"] == 7000 and "Call Automation API" in ended["message"]


async def test_the_caller_leaving_updates_the_participants_before_the_end(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call = emulator.start_incoming_call(PERSON, [{"hangup": True}])
    await client.answer_call(call.incoming_call_context or "", receiver.url())
    await receiver.wait_for("CallDisconnected", call.call_id)
    assert receiver.types(call.call_id, participants=True) == [
        "CallConnected",
        "ParticipantsUpdated",
        "ParticipantsUpdated",
        "CallDisconnected",
    ]
    joined, left = [e["data"] for e in receiver.events(call.call_id) if e["type"].endswith("Updated")]
    assert [p["identifier"]["rawId"] for p in joined["participants"]] == [f"4:{PERSON}", f"4:{BOT}"]
    assert [p["identifier"]["rawId"] for p in left["participants"]] == [f"4:{BOT}"]
    assert left["sequenceNumber"] == joined["sequenceNumber"] + 1
    ended = receiver.events(call.call_id)[-1]["data"]["resultInformation"]
    assert ended == {
        "code": 200,
        "subCode": 7000,
        "message": "The conversation has ended. DiagCode: 0#7000.@",
    }


async def test_incoming_call_from_an_acs_user_with_a_display_name(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.start_incoming_call(ACS_USER, caller_display_name="Jane from the web")
    await receiver.wait_until(lambda: bool(receiver.eventgrid()))
    delivery = receiver.eventgrid()[0]
    data = delivery.body[0]["data"]
    real = json.loads((FIXTURES / "start_recording_with_call_connection_id.json").read_text())["IncomingCall"]
    assert set(data) == set(real)
    assert data["from"] == real["from"]  # the same identifier shape, kind and raw id
    assert data["callerDisplayName"] == "Jane from the web"
    assert CommunicationUserIdentifier(ACS_USER).raw_id == data["from"]["rawId"]
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    assert headers["aeg-event-type"] == "Notification"
    assert headers["aeg-delivery-count"] == "0"
    assert {"aeg-subscription-name", "aeg-data-version", "aeg-metadata-version"} <= set(headers)
