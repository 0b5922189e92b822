"""The call flow emits its webhook events (against in-memory fakes): transfer, failure, end, each
once however often ACS delivers the event that caused it."""

from __future__ import annotations

import pytest

from core.models.webhook import WebhookEventType
from core.settings import ConversationSettings, Settings
from tests.callflow.fakes import Rig, ScriptedAnswer, TransferToAgent, event, make_rig, sentence_ended, speech
from tests.callflow.test_flow import ONE_LANGUAGE, connected, incoming

URL = "https://hooks.example.com/calls"


@pytest.fixture
def rig() -> Rig:
    return make_rig(
        Settings(
            conversation=ConversationSettings(languages=ONE_LANGUAGE),
            webhooks={"urls": URL, "secret": "s" * 20},
        )
    )


def events(rig: Rig) -> list[str]:
    return [p["event_id"] for q, p in rig.queues.sent if q == rig.settings.webhooks.queue]


async def test_a_transfer_then_the_end_are_announced_once_each(rig: Rig) -> None:
    call, conn = await connected(rig)
    rig.engine.answers.append(
        ScriptedAnswer(["Transferring you."], actions=[TransferToAgent("+15550109999")])
    )
    await rig.send(call, speech(conn, "agent please"))
    await rig.send(call, sentence_ended(conn, rig.tel.sentences()[-1].context))
    accepted = event("CallTransferAccepted", conn, "ev-accepted")
    await rig.send(call, accepted)
    await rig.send(call, accepted)  # a duplicate: the inbox skips it
    await rig.send(
        call, event("CallTransferAccepted", conn, "ev-accepted-again")
    )  # another id, same transfer
    await rig.send(call, event("CallDisconnected", conn))
    stored = await rig.call(call.call_id)
    assert [d.type for d in stored.webhooks] == [
        WebhookEventType.CALL_TRANSFERRED,
        WebhookEventType.CALL_ENDED,
    ]
    assert len(set(events(rig))) == 2
    assert stored.cost is not None and stored.cost.usage.call_seconds > 0


async def test_a_failed_connection_is_announced(rig: Rig) -> None:
    call, conn = await incoming(rig)
    failed = event("ConnectFailed", conn, resultInformation={"code": 500, "subCode": 8510})
    await rig.send(call, failed)
    await rig.send(call, event("ConnectFailed", conn, resultInformation={"code": 500, "subCode": 8510}))
    stored = await rig.call(call.call_id)
    assert [d.type for d in stored.webhooks] == [WebhookEventType.CALL_FAILED]
    assert "ConnectFailed (8510)" in stored.webhooks[0].body
    assert len(set(events(rig))) == 1
