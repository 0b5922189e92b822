"""Signed webhooks end to end: the canned call over the local stack (ACS emulator, scripted LLM,
Azurite queues, Cosmos DB) posts call.ended and insights.ready to a receiver that verifies every
signature and fails the first attempt of each event; each event is accepted exactly once."""

from __future__ import annotations

import aiohttp
import pytest

from core.models import Call
from core.models.webhook import DeliveryStatus
from core.webhooks.outbox import endpoint_id
from local.demo import canned_caller_script
from local.scripted_llm import load_rules_file
from tests.e2e.harness import DEMO_RULES, random_number
from tests.waiting import wait_until
from tests.webhooks.harness import FUNCTION_KEY, SECRET, WebhookStack, dumps, webhook_stack

pytestmark = pytest.mark.usefixtures("local_stack")
KEY = {"x-functions-key": FUNCTION_KEY}


async def run_canned_call(stack: WebhookStack) -> Call:
    """The canned demo call (python -m local.demo --canned), to its end and its insights' events."""
    stack.llm.set_rules(load_rules_file(str(DEMO_RULES)))
    number = random_number()
    emulated = stack.acs.start_incoming_call(number, canned_caller_script())
    await stack.acs.wait_for_call_end(emulated.call_id, timeout=60)
    await stack.acs.drain_callbacks(timeout=60)
    found: list[Call] = []

    async def delivered() -> bool:
        page = await stack.container.calls.list(phone_number=number)
        found[:] = page.calls
        done = [c for c in found if c.insights is not None and c.webhooks]
        return bool(done) and all(d.status is not DeliveryStatus.PENDING for d in done[0].webhooks)

    await wait_until(
        delivered,
        timeout=90,
        what="the call's webhook deliveries to finish",
        interval=0.2,
        seen=lambda: dumps([(d.type, d.status, len(d.attempts)) for c in found for d in c.webhooks]),
    )
    return found[0]


async def test_each_event_is_signed_and_accepted_once_despite_a_failing_first_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with webhook_stack(monkeypatch, {}) as stack:
        call = await run_canned_call(stack)
        receiver = stack.receiver
        assert not receiver.bad_signatures
        types = sorted(r.body["type"] for r in receiver.accepted())
        assert types == ["call.ended", "insights.ready"], dumps(
            [(r.body["type"], r.status) for r in receiver.requests]
        )
        for event_id in {r.event_id for r in receiver.requests}:
            attempts = [r for r in receiver.requests if r.event_id == event_id]
            # Retried after the 500, through a delayed queue message; the same event, signed anew.
            assert [r.status for r in attempts] == [500, 200]
            assert attempts[0].body == attempts[1].body
            assert attempts[0].signature != attempts[1].signature
        ended = next(r.body for r in receiver.accepted() if r.body["type"] == "call.ended")
        assert ended["call_id"] == call.call_id and ended["data"]["status"] == "ended"
        assert ended["data"]["cost"]["total"] > 0
        insights = next(r.body for r in receiver.accepted() if r.body["type"] == "insights.ready")
        assert insights["data"]["insights"]["next_action"]["action"] == "call_back"
        # No secret in any event: not the call's callback secret, not the signing secret.
        raw = dumps([r.body for r in receiver.requests])
        assert call.callback_secret not in raw and SECRET not in raw

        # The delivery log, through the API and the report.
        async with (
            aiohttp.ClientSession(stack.host.base_url, headers=KEY) as session,
            session.get(f"/call/{call.call_id}") as response,
        ):
            assert response.status == 200
            public = await response.json()
        log = {d["type"]: d for d in public["webhooks"]}
        assert set(log) == {"call.ended", "insights.ready"}
        for delivery in log.values():
            assert delivery["status"] == "delivered" and delivery["url"] == receiver.url
            assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
            assert "body" not in delivery
        async with (
            aiohttp.ClientSession(stack.host.base_url, headers=KEY) as session,
            session.get(f"/report/{call.call_id}") as response,
        ):
            page = await response.text()
        assert "insights.ready" in page and "delivered" in page

        # A duplicate queue message of a delivered event (a redelivery) posts nothing more.
        seen = len(stack.outcomes)
        message = {"call_id": call.call_id, "event_id": ended["id"], "endpoint": endpoint_id(receiver.url)}
        await stack.container.queues.send(stack.container.settings.webhooks.queue, message)
        stack.host.nudge(stack.container.settings.webhooks.queue)
        await wait_until(
            lambda: any(o.function_name == "webhook_delivery" for o in stack.outcomes[seen:]),
            timeout=30,
            what="the duplicate message to be handled",
            interval=0.05,
        )
        assert len(receiver.requests) == 4
