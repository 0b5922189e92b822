"""IncomingCall against in-memory fakes: what a failed or racing answer leaves behind."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import TelephonyError, TelephonyRefused
from core.models import CallStatus, PostCallStatus
from core.settings import ConversationSettings, Settings
from tests.callflow.fakes import Rig, event, make_rig

ONE_LANGUAGE = "en-US:English:en-US-AvaMultilingualNeural"
NUMBER = "+14155550100"


@pytest.fixture
def rig() -> Rig:
    return make_rig(Settings(conversation=ConversationSettings(languages=ONE_LANGUAGE)))


def ring(rig: Rig, number: str = NUMBER) -> dict[str, Any]:
    return {
        "to": {"kind": "phoneNumber", "phoneNumber": {"value": rig.settings.acs.phone_number}},
        "from": {"kind": "phoneNumber", "phoneNumber": {"value": number}},
        "incomingCallContext": "ctx",
        "serverCallId": "server-1",
    }


async def test_transient_failure_raises_releases_and_the_retry_finds_the_same_ring(rig: Rig) -> None:
    answer = rig.tel.answer

    async def unavailable(context: str, url: str) -> str:
        raise TelephonyError("answer: HTTP 503", acs_status=503)

    rig.tel.answer = unavailable  # type: ignore[method-assign]
    with pytest.raises(TelephonyError):
        await rig.flow.handle_incoming_call("eg-1", ring(rig))
    assert ("incoming-call", "eg-1") not in rig.inbox.claimed
    [ringing] = [c for c in (rig.store.peek(i) for i in rig.store.docs) if c]
    assert ringing.status is CallStatus.RINGING

    rig.tel.answer = answer  # type: ignore[method-assign]
    call_id = await rig.flow.handle_incoming_call("eg-1", ring(rig))
    assert call_id == ringing.call_id and len(rig.store.docs) == 1
    call = await rig.call(call_id)
    assert call.status is CallStatus.CREATED and call.callback_secret == ringing.callback_secret


async def test_connected_before_the_resume_was_written_still_resumes(rig: Rig) -> None:
    first = await rig.flow.handle_incoming_call("eg-1", ring(rig))
    assert first is not None
    call = await rig.call(first)
    assert call.connection_id
    await rig.send(call, event("CallConnected", call.connection_id, serverCallId="server-1"))
    await rig.send(call, event("CallDisconnected", call.connection_id))
    answer = rig.tel.answer

    async def connects_first(context: str, url: str) -> str:
        # ACS's CallConnected for the new connection beats the write that follows the answer.
        connection = await answer(context, url)
        await rig.send(await rig.call(first), event("CallConnected", connection, serverCallId="server-2"))
        return connection

    rig.tel.answer = connects_first  # type: ignore[method-assign]
    again = await rig.flow.handle_incoming_call("eg-2", ring(rig))
    assert again == first
    resumed = await rig.call(first)
    assert resumed.status is CallStatus.CONNECTED and resumed.resumed_count == 1
    assert resumed.server_call_ids == ["server-1", "server-2"]
    greeting = rig.tel.of("listen")[-1].prompt[0].lower()
    assert "again" in greeting or "back" in greeting  # a welcome-back variant


async def test_refused_resume_answer_does_not_touch_the_case(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    first = await rig.flow.handle_incoming_call("eg-1", ring(rig))
    assert first is not None
    call = await rig.call(first)
    assert call.connection_id
    await rig.send(call, event("CallDisconnected", call.connection_id))
    before = rig.store.docs[first]

    async def refused(context: str, url: str) -> str:
        raise TelephonyRefused("answer: HTTP 400 8523", acs_status=400, acs_code="8523")

    rig.tel.answer = refused  # type: ignore[method-assign]
    with caplog.at_level("WARNING"):
        assert await rig.flow.handle_incoming_call("eg-2", ring(rig)) is None
    # Logged once, naming the event, the call, the server call and ACS's status and code.
    [logged] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert all(part in logged for part in ("eg-2", first, "server-1", "HTTP 400 8523")), logged
    assert rig.store.docs[first] == before
    assert (await rig.call(first)).post_call.status is PostCallStatus.ENQUEUED
    missed = [c for c in (rig.store.peek(i) for i in rig.store.docs) if c and c.call_id != first]
    assert [(c.status, c.end_reason) for c in missed] == [
        (CallStatus.MISSED, "not answered: ACS refused (HTTP 400 8523)")
    ]
    # Acknowledged: the claim stays, so a redelivery is a duplicate.
    assert ("incoming-call", "eg-2") in rig.inbox.claimed
    assert await rig.flow.handle_incoming_call("eg-2", ring(rig)) is None
    assert len(rig.store.docs) == 2
