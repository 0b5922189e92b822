"""SMS through the official SDK; the control API, its client and the CLI."""

from __future__ import annotations

import asyncio

import pytest
from azure.communication.callautomation import PhoneNumberIdentifier, RecognizeInputType, TextSource
from azure.communication.callautomation.aio import CallAutomationClient
from azure.communication.sms.aio import SmsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from local.acs_emulator import AcsEmulator
from local.acs_emulator.cli import run as cli_run
from local.acs_emulator.control import ControlError, EmulatorControl
from tests.emulator.conftest import AI_SERVICES, BOT, PERSON
from tests.emulator.receiver import CallbackReceiver


async def test_sms_send_is_kept_for_inspection(emulator: AcsEmulator) -> None:
    async with SmsClient(emulator.base_url, AzureKeyCredential(emulator.config.access_key)) as sms:
        results = await sms.send(from_=BOT, to=[PERSON, "+1555"], message="Your claim number is 42.")
    assert [r.successful for r in results] == [True, False]
    assert results[1].http_status_code == 400
    async with EmulatorControl(emulator.base_url) as ctl:
        sent = await ctl.sent_sms()
    assert [(m["to"], m["message"]) for m in sent] == [(PERSON, "Your claim number is 42.")]


async def test_sms_bad_key_and_foreign_sender(emulator: AcsEmulator) -> None:
    async with SmsClient(emulator.base_url, AzureKeyCredential("YmFkLWtleQ==")) as sms:
        with pytest.raises(HttpResponseError) as denied:
            await sms.send(from_=BOT, to=PERSON, message="x")
    assert denied.value.status_code == 401
    async with SmsClient(emulator.base_url, AzureKeyCredential(emulator.config.access_key)) as sms:
        with pytest.raises(HttpResponseError) as foreign:
            await sms.send(from_="+15557770000", to=PERSON, message="x")
    assert foreign.value.status_code == 401


async def test_control_api_interactive_call(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    async with EmulatorControl(emulator.base_url) as ctl:
        started = await ctl.start_call(PERSON, interactive=True)
        call_id = started["call_id"]
        context = started["incoming_call_context"]
        await client.answer_call(context, receiver.url(), cognitive_services_endpoint=AI_SERVICES)
        await ctl.wait(call_id, "connected", timeout=5)
        conn = client.get_call_connection(call_id)
        await ctl.say(call_id, "I need help", language="en-US")
        await conn.start_recognizing_media(
            RecognizeInputType.SPEECH,
            PhoneNumberIdentifier(PERSON),
            play_prompt=TextSource(text="How can I help?"),
        )
        done = await receiver.wait_for("RecognizeCompleted", call_id)
        assert done[0]["data"]["speechResult"]["speech"] == "I need help"
        await ctl.dtmf(call_id, "5")
        await conn.start_recognizing_media(RecognizeInputType.DTMF, PhoneNumberIdentifier(PERSON))
        dtmf = await receiver.wait_for("RecognizeCompleted", call_id, count=2)
        assert dtmf[1]["data"]["dtmfResult"]["tones"] == ["five"]
        await ctl.hangup(call_id)
        ended = await ctl.wait(call_id, "disconnected", timeout=5)
        assert ended["ended_by"] == "caller"
        calls = await ctl.list_calls()
        assert [c["call_id"] for c in calls] == [call_id]
        entries = await ctl.transcript(call_id)
        said = [e["text"] for e in entries if e["kind"] == "bot_said"]
        assert said == ["How can I help?"]
        with pytest.raises(ControlError) as timed_out:
            await ctl.wait(started["call_id"], "transferring", timeout=0.1)
        assert timed_out.value.status in (408, 409)


async def test_control_settings_scripts_and_expectations(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    async with EmulatorControl(emulator.base_url) as ctl:
        settings = await ctl.settings(duplicate_callbacks=False, speed_factor=0)
        assert settings["speed_factor"] == 0
        await ctl.set_script(PERSON, "- expect: '(?i)goodbye'\n  within: 5\n- hangup: true\n")
        props = await client.create_call(
            PhoneNumberIdentifier(PERSON),
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier(BOT),
            cognitive_services_endpoint=AI_SERVICES,
        )
        call_id = str(props.call_connection_id)
        await receiver.wait_for("CallConnected", call_id)
        conn = client.get_call_connection(call_id)
        await conn.play_media(TextSource(text="Hello there"))
        await conn.start_recognizing_media(RecognizeInputType.SPEECH, PhoneNumberIdentifier(PERSON))
        await ctl.wait(call_id, "disconnected", timeout=5)
        entries = await ctl.transcript(call_id)
        failed = [e for e in entries if e["kind"] == "expectation_failed"]
        assert failed and failed[0]["pattern"] == "(?i)goodbye"


async def test_cli_call_and_transcript(
    emulator: AcsEmulator, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import pathlib

    script = pathlib.Path(str(tmp_path)) / "caller.yaml"
    script.write_text("- say: hello\n", encoding="utf-8")
    assert await cli_run(["--url", emulator.base_url, "call", "--from", PERSON, "--script", str(script)]) == 0
    out = capsys.readouterr().out
    call_id = out.split()[1]
    assert await cli_run(["--url", emulator.base_url, "list"]) == 0
    assert call_id in capsys.readouterr().out
    assert await cli_run(["--url", emulator.base_url, "transcript", call_id, "--json"]) == 0
    assert '"call_started"' in capsys.readouterr().out
    await asyncio.sleep(0)


async def test_a_text_to_the_bot_is_delivered_as_the_sms_received_event(
    emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    from tests.emulator import contracts

    emulator.config.sms_eventgrid_endpoint = receiver.url("/runtime/webhooks/EventGrid?functionName=sms")
    live = emulator.start_incoming_call(PERSON, [{"silence": 100}])
    await emulator.drain_callbacks(timeout=5)
    receiver.fail_next = 1  # the first delivery fails: Event Grid tries again
    async with EmulatorControl(emulator.base_url) as ctl:
        event = await ctl.receive_sms(PERSON, "My new address is 1 Main St")
    outcome = await emulator.wait_for_sms_delivery(event["id"], timeout=5)
    assert outcome.delivered and outcome.attempts == 2

    delivered = [r for r in receiver.eventgrid() if r.body[0]["eventType"].endswith("SMSReceived")]
    assert [r.status for r in delivered] == [500, 200]
    sent = delivered[-1].body[0]
    assert sent == event and sent["eventType"] == "Microsoft.Communication.SMSReceived"
    assert sent["data"]["from"] == PERSON and sent["data"]["to"] == BOT
    assert sent["data"]["message"] == "My new address is 1 Main St" and sent["data"]["segmentCount"] == 1
    contracts.validate(contracts.EVENT_GRID, "AcsSmsReceivedEventData", sent["data"])
    example = contracts.load(
        "eventgrid/Microsoft.Communication/stable/2018-01-01/examples/event-grid-schema/sms_received.json"
    )
    assert set(example) == set(sent)
    # The person's live call shows the text they sent.
    texted = [e for e in emulator.transcript(live.call_id) if e["kind"] == "caller_sms"]
    assert [e["text"] for e in texted] == ["My new address is 1 Main St"]


async def test_a_text_the_resource_cannot_receive_is_refused(emulator: AcsEmulator) -> None:
    async with EmulatorControl(emulator.base_url) as ctl:
        for body, problem in (
            ({"from": "12345", "message": "hi"}, "not an E.164"),
            ({"from": PERSON, "message": "hi", "to": "+15557770000"}, "not a number of this resource"),
            ({"from": PERSON, "message": ""}, "needs a text"),
        ):
            with pytest.raises(ControlError) as refused:
                await ctl.receive_sms(body["from"], body["message"], body.get("to"))
            assert refused.value.status == 400 and problem in str(refused.value)
    # Without a subscription the text is kept and nothing is delivered.
    event = emulator.receive_sms(PERSON, "Anyone there?")
    assert emulator.inbound_sms.received[-1] == event and emulator.inbound_sms.outcome(event["id"]) is None
