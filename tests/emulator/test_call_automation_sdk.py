"""The official Call Automation SDK drives the emulator unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from azure.communication.callautomation import (
    DtmfTone,
    FileSource,
    PhoneNumberIdentifier,
    RecognitionChoice,
    RecognizeInputType,
    SsmlSource,
    TextSource,
)
from azure.communication.callautomation.aio import CallAutomationClient, CallConnectionClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from local.acs_emulator import AcsEmulator
from tests.emulator.conftest import AGENT, AI_SERVICES, BOT, PERSON
from tests.emulator.receiver import CallbackReceiver

PERSON_ID = PhoneNumberIdentifier(PERSON)


async def dial(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver, script: Any
) -> tuple[str, CallConnectionClient]:
    emulator.set_script(PERSON, script)
    props = await client.create_call(
        PERSON_ID,
        receiver.url(),
        source_caller_id_number=PhoneNumberIdentifier(BOT),
        cognitive_services_endpoint=AI_SERVICES,
        operation_context="dial",
    )
    assert props.call_connection_state == "connecting"
    call_id = props.call_connection_id
    assert call_id
    connected = await receiver.wait_for("CallConnected", call_id)
    assert connected[0]["data"]["operationContext"] == "dial"
    return call_id, client.get_call_connection(call_id)


def kinds(emulator: AcsEmulator, call_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in emulator.transcript(call_id) if e["kind"] == kind]


async def test_outbound_call_play_recognize_hangup(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id, conn = await dial(
        client, emulator, receiver, [{"expect": "(?i)hello"}, {"say": "My car was hit"}]
    )
    props = await conn.get_call_properties()
    assert props.call_connection_state == "connected"
    await conn.play_media(
        TextSource(text="Hello, this is the insurer.", voice_name="en-US-AvaNeural"),
        operation_context="greet",
    )
    await conn.start_recognizing_media(
        RecognizeInputType.SPEECH, PERSON_ID, end_silence_timeout=1, operation_context="listen"
    )
    completed = await receiver.wait_for("RecognizeCompleted", call_id)
    data = completed[0]["data"]
    assert data["recognitionType"] == "speech"
    assert data["speechResult"]["speech"] == "My car was hit"
    assert data["operationContext"] == "listen"
    await conn.hang_up(is_for_everyone=False)
    await receiver.wait_for("CallDisconnected", call_id)
    assert receiver.types(call_id) == [
        "CallConnected",
        "PlayStarted",
        "PlayCompleted",
        "RecognizeCompleted",
        "CallDisconnected",
    ]
    said = kinds(emulator, call_id, "bot_said")
    assert said[0]["text"] == "Hello, this is the insurer." and said[0]["voice"] == "en-US-AvaNeural"
    assert kinds(emulator, call_id, "expectation_met")
    assert not kinds(emulator, call_id, "expectation_failed")
    with pytest.raises(ResourceNotFoundError):
        await conn.play_media(TextSource(text="too late"))


async def test_media_operations_queue_in_order_and_ssml_is_transcribed(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id, conn = await dial(client, emulator, receiver, [{"silence": 1}])
    ssml = (
        # The Speech service requires version, xmlns and xml:lang on <speak> (SSML reference).
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="fr-FR">'
        '<voice name="fr-FR-DeniseNeural">Bonjour &amp; bienvenue</voice></speak>'
    )
    await conn.play_media(TextSource(text="one"), operation_context="1")
    await conn.play_media(SsmlSource(ssml_text=ssml), operation_context="2")
    await receiver.wait_for("PlayCompleted", call_id, count=2)
    events = [
        (e["type"].removeprefix("Microsoft.Communication."), e["data"].get("operationContext"))
        for e in receiver.events(call_id)
        if not e["type"].endswith("ParticipantsUpdated")
    ]
    assert events[1:5] == [
        ("PlayStarted", "1"),
        ("PlayCompleted", "1"),
        ("PlayStarted", "2"),
        ("PlayCompleted", "2"),
    ]
    french = kinds(emulator, call_id, "bot_said")[1]
    assert french["text"] == "Bonjour & bienvenue"
    assert french["language"] == "fr-FR" and french["voice"] == "fr-FR-DeniseNeural"


async def test_cancel_all_media_operations(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id, conn = await dial(client, emulator, receiver, [{"silence": 100}])
    await conn.play_media(TextSource(text="hold music"), loop=True, operation_context="loop")
    await conn.start_recognizing_media(RecognizeInputType.SPEECH, PERSON_ID, operation_context="rec")
    await receiver.wait_for("PlayStarted", call_id)
    await conn.cancel_all_media_operations()
    canceled = await receiver.wait_for("RecognizeCanceled", call_id)
    assert canceled[0]["data"]["operationContext"] == "rec"
    assert receiver.types(call_id) == ["CallConnected", "PlayStarted", "PlayCanceled", "RecognizeCanceled"]
    play_canceled = next(e for e in receiver.events(call_id) if e["type"].endswith("PlayCanceled"))["data"]
    assert play_canceled["resultInformation"]["subCode"] == 8508
    assert play_canceled["operationContext"] == "loop"


async def test_recognize_dtmf_choices_and_silence(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    script = [{"dtmf": "12#"}, {"say": "yes please"}, {"dtmf": "2"}, {"silence": 5}, {"say": "maybe"}]
    call_id, conn = await dial(client, emulator, receiver, script)
    choices = [
        RecognitionChoice(label="confirm", phrases=["yes", "sure"], tone=DtmfTone.ONE),
        RecognitionChoice(label="cancel", phrases=["no"], tone=DtmfTone.TWO),
    ]
    await conn.start_recognizing_media(
        RecognizeInputType.DTMF, PERSON_ID, dtmf_max_tones_to_collect=5, dtmf_stop_tones=[DtmfTone.POUND]
    )
    await conn.start_recognizing_media(RecognizeInputType.CHOICES, PERSON_ID, choices=choices)
    await conn.start_recognizing_media(RecognizeInputType.CHOICES, PERSON_ID, choices=choices)
    await conn.start_recognizing_media(RecognizeInputType.SPEECH, PERSON_ID, initial_silence_timeout=5)
    await conn.start_recognizing_media(RecognizeInputType.CHOICES, PERSON_ID, choices=choices)
    await receiver.wait_for("RecognizeFailed", call_id, count=2)
    results = [e["data"] for e in receiver.events(call_id) if e["type"].endswith(("Completed", "Failed"))]
    assert results[0]["dtmfResult"]["tones"] == ["one", "two"]
    assert results[0]["resultInformation"]["subCode"] == 8514
    assert results[1]["choiceResult"] == {"label": "confirm", "recognizedPhrase": "yes"}
    assert results[2]["choiceResult"]["label"] == "cancel"
    assert results[3]["resultInformation"]["subCode"] == 8510
    assert results[4]["resultInformation"]["subCode"] == 8547


async def test_barge_in_interrupts_the_prompt(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id, conn = await dial(client, emulator, receiver, [{"say": "stop talking", "barge_in": True}])
    await conn.start_recognizing_media(
        RecognizeInputType.SPEECH,
        PERSON_ID,
        play_prompt=TextSource(text="A very long explanation of the policy terms."),
        interrupt_prompt=True,
    )
    done = await receiver.wait_for("RecognizeCompleted", call_id)
    assert done[0]["data"]["speechResult"]["speech"] == "stop talking"
    assert any(e.get("barge_in") for e in kinds(emulator, call_id, "caller_said"))


async def test_play_failure_for_unreachable_file(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id, conn = await dial(client, emulator, receiver, [{"silence": 1}])
    await conn.play_media([TextSource(text="ok"), FileSource(url="ftp://nowhere/x.wav")])
    failed = await receiver.wait_for("PlayFailed", call_id)
    assert failed[0]["data"]["failedPlaySourceIndex"] == 1


@pytest.mark.parametrize("accept", [True, False])
async def test_transfer_to_agent(
    accept: bool, client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.set_agent(AGENT, accept)
    call_id, conn = await dial(client, emulator, receiver, [{"silence": 1}])
    result = await conn.transfer_call_to_participant(
        PhoneNumberIdentifier(AGENT), operation_context="to-agent"
    )
    assert result.operation_context == "to-agent"
    if accept:
        accepted = await receiver.wait_for("CallTransferAccepted", call_id)
        assert accepted[0]["data"]["transferTarget"]["phoneNumber"]["value"] == AGENT
        await receiver.wait_for("CallDisconnected", call_id)
        assert emulator.call(call_id).ended_by == "transferred"
    else:
        failed = await receiver.wait_for("CallTransferFailed", call_id)
        assert failed[0]["data"]["operationContext"] == "to-agent"
        assert (await conn.get_call_properties()).call_connection_state == "connected"


async def test_callee_does_not_answer(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.set_script(PERSON, {"answer": False, "steps": []})
    props = await client.create_call(
        PERSON_ID,
        receiver.url(),
        source_caller_id_number=PhoneNumberIdentifier(BOT),
        cognitive_services_endpoint=AI_SERVICES,
    )
    failed = await receiver.wait_for("CreateCallFailed", props.call_connection_id)
    assert failed[0]["data"]["resultInformation"]["code"] == 408


async def test_inbound_call_via_event_grid_answer_once(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call = emulator.start_incoming_call(PERSON, [{"say": "hello"}])
    await receiver.wait_until(lambda: bool(receiver.eventgrid()))
    delivery = receiver.eventgrid()[0]
    assert delivery.path == "/runtime/webhooks/EventGrid"
    event = delivery.body[0]
    assert event["eventType"] == "Microsoft.Communication.IncomingCall"
    assert event["data"]["from"]["phoneNumber"]["value"] == PERSON
    context = event["data"]["incomingCallContext"]
    props = await client.answer_call(
        context, receiver.url(), operation_context="answered", cognitive_services_endpoint=AI_SERVICES
    )
    assert props.call_connection_id == call.call_id
    await receiver.wait_for("CallConnected", call.call_id)
    with pytest.raises(HttpResponseError) as second:
        await client.answer_call(context, receiver.url())
    assert second.value.status_code == 400
    conn = client.get_call_connection(call.call_id)
    await conn.start_recognizing_media(RecognizeInputType.SPEECH, PERSON_ID)
    await receiver.wait_for("RecognizeCompleted", call.call_id)
    # the script ran out: the caller hangs up at the next recognize
    await conn.start_recognizing_media(RecognizeInputType.SPEECH, PERSON_ID)
    ended = await emulator.wait_for_call_end(call.call_id, timeout=5)
    assert ended.ended_by == "caller"
    await receiver.wait_for("CallDisconnected", call.call_id)


async def test_reject_and_redirect(client: CallAutomationClient, emulator: AcsEmulator) -> None:
    first = emulator.start_incoming_call(PERSON)
    await client.reject_call(first.incoming_call_context or "", call_reject_reason="busy")
    assert first.ended.is_set()
    second = emulator.start_incoming_call(PERSON)
    await client.redirect_call(second.incoming_call_context or "", PhoneNumberIdentifier(AGENT))
    assert second.transfer_target == f"4:{AGENT}"


async def test_recording_start_stop(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id, conn = await dial(client, emulator, receiver, [{"silence": 1}])
    props = await conn.get_call_properties()
    rec = await client.start_recording(server_call_id=props.server_call_id)
    assert rec.recording_state == "active"
    state = await client.get_recording_properties(rec.recording_id)
    assert state.recording_state == "active"
    await client.stop_recording(rec.recording_id)
    changes = await receiver.wait_for("RecordingStateChanged", call_id, count=2)
    assert [c["data"]["state"] for c in changes] == ["active", "inactive"]


async def test_bad_key_and_unknown_call(emulator: AcsEmulator, client: CallAutomationClient) -> None:
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5"
    async with CallAutomationClient(emulator.base_url, AzureKeyCredential(wrong)) as bad:
        with pytest.raises(HttpResponseError) as denied:
            await bad.get_call_connection("anything").get_call_properties()
    assert denied.value.status_code == 401
    assert denied.value.error is not None and denied.value.error.code == "Denied"
    with pytest.raises(ResourceNotFoundError) as missing:
        await client.get_call_connection("no-such-call").get_call_properties()
    assert missing.value.status_code == 404
