"""Request/response bodies and callback events validate against the official swagger definitions, and
the examples shipped with the contract are accepted and answered."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
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
from azure.communication.callautomation.aio import CallAutomationClient
from azure.communication.sms.aio import SmsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from local.acs_emulator import AcsEmulator
from local.acs_emulator.auth import signed_headers
from local.acs_emulator.script import parse_script
from tests.emulator import contracts
from tests.emulator.conftest import AGENT, AI_SERVICES, BOT, PERSON
from tests.emulator.receiver import CallbackReceiver

pytestmark = pytest.mark.usefixtures("_contracts_present")
CA = contracts.CALL_AUTOMATION


@pytest.fixture
def _contracts_present() -> None:
    contracts.require_contracts()


def _template_for(document: str, method: str, path: str) -> str:
    for template, ops in contracts.load(document)["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/:]+", re.escape(template)) + "$"
        if method.lower() in ops and re.match(pattern, path):
            return template
    raise AssertionError(f"{method} {path} is not an operation of {document}")


def check_exchange(document: str, method: str, path: str, request: Any, status: int, response: Any) -> None:
    template = _template_for(document, method, path)
    body_def = contracts.body_definition(document, method, template)
    if body_def and status < 400:
        contracts.validate(document, body_def, request)
    if status < 400:
        assert status in contracts.declared_statuses(document, method, template), (method, template, status)
    response_def = contracts.response_definition(document, method, template, status)
    if response_def:
        contracts.validate(document, response_def, response)


SSML = (
    '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">'
    '<voice name="en-US-AvaNeural">Hi</voice></speak>'
)


async def _scenario(client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver) -> str:
    emulator.set_agent(AGENT, False)
    emulator.set_script(
        PERSON, [{"say": "hello"}, {"dtmf": "1"}, {"say": "yes"}, {"silence": 5}, {"silence": 50}]
    )
    props = await client.create_call(
        PhoneNumberIdentifier(PERSON),
        receiver.url(),
        source_caller_id_number=PhoneNumberIdentifier(BOT),
        cognitive_services_endpoint=AI_SERVICES,
    )
    call_id = str(props.call_connection_id)
    await receiver.wait_for("CallConnected", call_id)
    conn = client.get_call_connection(call_id)
    await conn.get_call_properties()
    await conn.play_media(TextSource(text="Hi", voice_name="en-US-AvaNeural"), operation_context="ctx")
    await conn.play_media(SsmlSource(ssml_text=SSML), play_to=[PhoneNumberIdentifier(PERSON)])
    await conn.play_media(FileSource(url="bad://x.wav"))
    await conn.start_recognizing_media(
        RecognizeInputType.SPEECH, PhoneNumberIdentifier(PERSON), play_prompt=TextSource(text="Say it"),
        interrupt_prompt=True, initial_silence_timeout=5, end_silence_timeout=1, speech_language="en-US",
    )  # fmt: skip
    await conn.start_recognizing_media(
        RecognizeInputType.DTMF, PhoneNumberIdentifier(PERSON), dtmf_max_tones_to_collect=1,
        dtmf_stop_tones=[DtmfTone.POUND], dtmf_inter_tone_timeout=3,
    )  # fmt: skip
    await conn.start_recognizing_media(
        RecognizeInputType.CHOICES, PhoneNumberIdentifier(PERSON),
        choices=[RecognitionChoice(label="ok", phrases=["yes"], tone=DtmfTone.ONE)],
    )  # fmt: skip
    await conn.start_recognizing_media(RecognizeInputType.SPEECH_OR_DTMF, PhoneNumberIdentifier(PERSON))
    await receiver.wait_for("RecognizeFailed", call_id)
    await conn.play_media(TextSource(text="looping"), loop=True)
    await receiver.wait_for("PlayStarted", call_id, count=3)
    await conn.cancel_all_media_operations()
    await receiver.wait_for("PlayCanceled", call_id)
    recording = await client.start_recording(server_call_id=props.server_call_id)
    await client.get_recording_properties(recording.recording_id)
    await client.stop_recording(recording.recording_id)
    await conn.transfer_call_to_participant(PhoneNumberIdentifier(AGENT))
    await receiver.wait_for("CallTransferFailed", call_id)
    with pytest.raises(HttpResponseError):
        await client.get_call_connection("unknown").get_call_properties()
    await conn.hang_up(is_for_everyone=True)
    await receiver.wait_for("CallDisconnected", call_id)
    inbound = emulator.start_incoming_call(PERSON)
    await client.answer_call(
        inbound.incoming_call_context or "", receiver.url(), cognitive_services_endpoint=AI_SERVICES
    )
    with pytest.raises(HttpResponseError):
        await client.answer_call(inbound.incoming_call_context or "", receiver.url())
    await client.get_call_connection(inbound.call_id).hang_up(is_for_everyone=False)
    await client.reject_call(emulator.start_incoming_call(PERSON).incoming_call_context or "")
    await client.redirect_call(
        emulator.start_incoming_call(PERSON).incoming_call_context or "", PhoneNumberIdentifier(AGENT)
    )
    await emulator.drain_callbacks()
    return call_id


async def test_sdk_requests_responses_and_events_match_the_contract(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    await _scenario(client, emulator, receiver)
    checked = set()
    for ex in emulator.exchanges:
        check_exchange(CA, ex.method, ex.path, ex.request_body, ex.status, ex.response_body)
        checked.add((ex.method, _template_for(CA, ex.method, ex.path), ex.status))
    templates = {t for _, t, _ in checked}
    assert len(templates) >= 12, templates
    seen_types = set()
    for event in receiver.events():
        name = event["type"].removeprefix("Microsoft.Communication.")
        contracts.validate(CA, name, event["data"])
        assert set(event) >= {"id", "source", "type", "data", "time", "specversion"}
        seen_types.add(name)
    assert seen_types >= {
        "CallConnected", "CallDisconnected", "PlayStarted", "PlayCompleted", "PlayFailed", "PlayCanceled",
        "RecognizeCompleted", "RecognizeFailed", "CallTransferFailed", "RecordingStateChanged",
    }  # fmt: skip
    for delivery in receiver.eventgrid():
        contracts.validate(contracts.EVENT_GRID, "AcsIncomingCallEventData", delivery.body[0]["data"])


async def test_transfer_accepted_and_recognize_canceled_events_match_the_contract(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.set_script(PERSON, [{"silence": 100}])
    props = await client.create_call(
        PhoneNumberIdentifier(PERSON),
        receiver.url(),
        source_caller_id_number=PhoneNumberIdentifier(BOT),
        cognitive_services_endpoint=AI_SERVICES,
    )
    call_id = str(props.call_connection_id)
    await receiver.wait_for("CallConnected", call_id)
    conn = client.get_call_connection(call_id)
    emulator.config.speed_factor = 1.0  # the 5 s initial silence runs in real time, so cancel comes first
    await conn.start_recognizing_media(RecognizeInputType.SPEECH, PhoneNumberIdentifier(PERSON))
    await conn.cancel_all_media_operations()
    await receiver.wait_for("RecognizeCanceled", call_id)
    emulator.config.speed_factor = 0.0
    await conn.transfer_call_to_participant(PhoneNumberIdentifier(AGENT))
    await receiver.wait_for("CallDisconnected", call_id)
    for event in receiver.events(call_id):
        contracts.validate(CA, event["type"].removeprefix("Microsoft.Communication."), event["data"])
    assert "CallTransferAccepted" in receiver.types(call_id)


async def test_sms_sdk_exchange_matches_the_contract(emulator: AcsEmulator) -> None:
    async with SmsClient(emulator.base_url, AzureKeyCredential(emulator.config.access_key)) as sms:
        await sms.send(from_=BOT, to=[PERSON, "+1555"], message="Your claim is open.", tag="t")
    assert emulator.exchanges
    for ex in emulator.exchanges:
        check_exchange(contracts.SMS, ex.method, ex.path, ex.request_body, ex.status, ex.response_body)


async def _signed(
    emulator: AcsEmulator, method: str, path: str, query: dict[str, str], body: Any
) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    path_query = f"{path}?{urlencode(query)}"
    headers = signed_headers(
        emulator.config.access_key, method, path_query, f"127.0.0.1:{emulator.port}", raw
    )
    headers["Content-Type"] = "application/json"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{emulator.base_url}{path_query}", data=raw, headers=headers) as resp,
    ):
        text = await resp.text()
        return resp.status, json.loads(text) if text else None


def _examples() -> list[tuple[str, str, str, str]]:
    """(document, method, path template, example file) for every stored example."""
    root = contracts.require_contracts()
    found = []
    for document in (CA, contracts.SMS):
        folder = (root / document).parent
        for template, ops in contracts.load(document)["paths"].items():
            for method, op in ops.items():
                for ref in (op.get("x-ms-examples") or {}).values():
                    name = ref["$ref"].rsplit("/", 1)[-1]
                    candidates = [
                        folder / "examples" / name,
                        root / "callautomation/2024-09-15/examples" / name,
                    ]
                    path = next((c for c in candidates if c.is_file()), None)
                    if path is not None:
                        found.append((document, method, template, str(path)))
    return found


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


# A caller who stays on the line in silence: an example's recognize must not end the call before the
# next example uses it.
QUIET = parse_script([{"silence": 300}])


async def test_shipped_examples_are_accepted_and_answered(
    emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.config.extra_owned_numbers.append("+18001110000")  # the SMS example's sender
    examples = _examples()
    assert len(examples) >= 12
    for document, method, template, file in examples:
        example = json.loads(Path(file).read_text(encoding="utf-8"))
        params = example["parameters"]
        expected = {int(s) for s in example["responses"]}
        body_def = contracts.body_definition(document, method, template)
        body = None
        if body_def:
            body_name = next(
                p["name"]
                for p in contracts.operation(document, method, template)["parameters"]
                if p.get("in") == "body"
            )
            body = params[body_name]
            checked = _strip_nulls(body)
            if document == contracts.SMS:
                # Known upstream mismatch (see contracts/README.md): the stored SmsSend example still uses
                # the older messagingConnect shape {apiKey, partner}.
                checked["smsSendOptions"].pop("messagingConnect", None)
            contracts.validate(document, body_def, checked)
        path = template
        if "{callConnectionId}" in template:
            if (
                params["callConnectionId"] not in emulator.engine.calls
                or emulator.call(params["callConnectionId"]).ended.is_set()
            ):
                emulator.engine.calls.pop(params["callConnectionId"], None)
                call = emulator.engine.incoming_call(
                    PERSON, None, QUIET, False, call_connection_id=params["callConnectionId"]
                )
                emulator.engine.answer(call, receiver.url(), None)
                await emulator.wait_for_state(call.call_id, "connected")
            path = template.replace("{callConnectionId}", params["callConnectionId"])
        for name in re.findall(r"\{(\w+)\}", path):
            path = path.replace(f"{{{name}}}", str(params[name]))
        if body and "incomingCallContext" in body:
            emulator.engine.incoming_call(
                PERSON, None, QUIET, False, incoming_call_context=body["incomingCallContext"]
            )
        if body and (body.get("callLocator") or {}).get("serverCallId"):
            call = emulator.engine.incoming_call(
                PERSON, None, QUIET, False, server_call_id=body["callLocator"]["serverCallId"]
            )
            emulator.engine.answer(call, receiver.url(), None)
        status, response = await _signed(
            emulator, method.upper(), path, {"api-version": params["api-version"]}, body
        )
        assert status in expected, (file, status, response)
        response_def = contracts.response_definition(document, method, template, status)
        if response_def:
            contracts.validate(document, response_def, response)
            example_body = example["responses"][str(status)].get("body")
            if example_body is not None:
                contracts.validate(document, response_def, example_body)
        if file.endswith("SmsSend.json"):
            outcome = {item["to"]: item["successful"] for item in response["value"]}
            assert outcome["+112345678901"] is False and outcome["+11234567894"] is False
            assert outcome["+11234567890"] is True


async def test_incoming_call_event_matches_the_contract_and_example(emulator: AcsEmulator) -> None:
    call = emulator.start_incoming_call(PERSON)
    assert call.incoming_event is not None
    contracts.validate(contracts.EVENT_GRID, "AcsIncomingCallEventData", call.incoming_event["data"])
    example = contracts.load(
        "eventgrid/Microsoft.Communication/stable/2018-01-01/examples/event-grid-schema/incoming_call.json"
    )
    contracts.validate(contracts.EVENT_GRID, "AcsIncomingCallEventData", example["data"])
    assert set(example) == set(call.incoming_event)
    assert set(call.incoming_event["data"]) <= set(example["data"])
