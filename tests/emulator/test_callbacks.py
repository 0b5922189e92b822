"""Callback delivery: JWT signed with the published JWKS, retries, duplicates, reordering."""

from __future__ import annotations

import aiohttp
import jwt
import pytest
from azure.communication.callautomation import PhoneNumberIdentifier, RecognizeInputType, TextSource
from azure.communication.callautomation.aio import CallAutomationClient

from local.acs_emulator import AcsEmulator
from tests.emulator.conftest import AI_SERVICES, BOT, PERSON
from tests.emulator.receiver import CallbackReceiver


async def _call(client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver) -> str:
    emulator.set_script(PERSON, [{"say": "hi"}, {"silence": 1}])
    props = await client.create_call(
        PhoneNumberIdentifier(PERSON),
        receiver.url(),
        source_caller_id_number=PhoneNumberIdentifier(BOT),
        cognitive_services_endpoint=AI_SERVICES,
    )
    return str(props.call_connection_id)


async def test_callbacks_carry_a_jwt_verifiable_with_the_jwks(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id = await _call(client, emulator, receiver)
    await receiver.wait_for("CallConnected", call_id)
    async with aiohttp.ClientSession() as session, session.get(emulator.jwks_url) as resp:
        assert resp.status == 200
        jwks = await resp.json()
    request = receiver.received[-1]
    scheme, _, token = request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == header["kid"])
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=emulator.config.jwt_audience,
        issuer=emulator.config.jwt_issuer,
    )
    assert claims["iss"] == "https://acscallautomation.communication.azure.com"
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key.key, algorithms=["RS256"], audience="someone-else")
    event = request.body[0]
    assert event["specversion"] == "1.0"
    assert event["source"] == f"calling/callConnections/{call_id}"
    assert request.headers["Content-Type"].startswith("application/json")


async def test_failing_callback_is_retried(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    receiver.fail_next = 2
    call_id = await _call(client, emulator, receiver)
    await receiver.wait_for("CallConnected", call_id)
    attempts = [r for r in receiver.received if r.body[0]["type"].endswith("CallConnected")]
    assert [a.status for a in attempts] == [500, 500, 200]
    assert len({a.body[0]["id"] for a in attempts}) == 1
    await emulator.drain_callbacks()
    deliveries = [e for e in emulator.transcript(call_id) if e["kind"] == "callback"]
    assert [d["attempt"] for d in deliveries[:3]] == [1, 2, 3]


async def test_unreachable_callback_is_retried_then_given_up(emulator: AcsEmulator) -> None:
    emulator.config.retry_delays_s = (0.01,)
    emulator.set_script(PERSON, [{"silence": 1}])
    call = emulator.engine.create_call(
        {"phoneNumber": {"value": PERSON}}, "http://127.0.0.1:9/nowhere", None, BOT
    )
    await emulator.wait_for_state(call.call_id, "connected")
    await emulator.drain_callbacks()
    records = [r for r in emulator.dispatcher.records if r.label.endswith("CallConnected")]
    assert [r.attempt for r in records] == [1, 2]
    assert all(r.status is None and r.error for r in records)


async def test_duplicate_delivery(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.config.duplicate_callbacks = True
    call_id = await _call(client, emulator, receiver)
    conn = client.get_call_connection(call_id)
    await receiver.wait_for("CallConnected", call_id, count=2)
    await conn.play_media(TextSource(text="hello"))
    completed = await receiver.wait_for("PlayCompleted", call_id, count=2)
    assert completed[0]["id"] == completed[1]["id"]
    assert receiver.types(call_id) == [
        "CallConnected", "CallConnected", "PlayStarted", "PlayStarted", "PlayCompleted", "PlayCompleted",
    ]  # fmt: skip


async def test_out_of_order_delivery_swaps_adjacent_events(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    emulator.config.out_of_order_callbacks = True
    call_id = await _call(client, emulator, receiver)
    await receiver.wait_for("CallConnected", call_id)
    conn = client.get_call_connection(call_id)
    await conn.play_media(TextSource(text="hello"))
    await receiver.wait_for("PlayCompleted", call_id)
    await conn.start_recognizing_media(RecognizeInputType.SPEECH, PhoneNumberIdentifier(PERSON))
    await receiver.wait_for("RecognizeCompleted", call_id)
    types = receiver.types(call_id)
    assert types.index("PlayCompleted") < types.index("PlayStarted")
    assert sorted(types) == sorted(["CallConnected", "PlayStarted", "PlayCompleted", "RecognizeCompleted"])


async def test_operation_callback_uri_overrides_the_call_callback(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id = await _call(client, emulator, receiver)
    await receiver.wait_for("CallConnected", call_id)
    conn = client.get_call_connection(call_id)
    await conn.play_media(TextSource(text="hello"), operation_callback_url=receiver.url("/other"))
    await receiver.wait_for("PlayCompleted", call_id)
    paths = {r.path for r in receiver.received if r.body[0]["type"].endswith("PlayCompleted")}
    assert paths == {"/other"}
