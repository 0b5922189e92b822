"""The webhook outbox without services: records once per event and URL, retries with a growing delay
through the queue, gives up after the attempts allowed; and the settings that configure it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.models import CallStatus
from core.models.webhook import DeliveryStatus, WebhookEventType
from core.ports import WebhookResponse
from core.settings import ConfigurationError, Settings, load_settings
from core.webhooks.outbox import deliver, emit, parse_job
from tests.callflow.fakes import MemoryStore
from tests.conftest import make_call

URLS = "https://hooks.example.com/a,http://127.0.0.1:9/b"


class DelayedQueues:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], float]] = []

    async def send(self, queue: str, payload: dict[str, Any], *, delay_s: float = 0) -> None:
        self.sent.append((queue, payload, delay_s))

    async def ready(self) -> None:
        return None


class Poster:
    def __init__(self, *statuses: int | None) -> None:
        self.statuses = list(statuses)
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout_s: float
    ) -> WebhookResponse:
        self.posts.append((url, body, headers))
        status = self.statuses.pop(0) if self.statuses else 200
        return WebhookResponse(status, None if status else "ClientConnectorError: refused")

    async def close(self) -> None:
        return None


def settings(**webhooks: Any) -> Settings:
    config = {"urls": URLS, "secret": "s" * 20, "retry_backoff_s": 10, "max_attempts": 3, **webhooks}
    return Settings(webhooks=config)


async def test_an_event_is_recorded_once_per_url_however_often_it_is_emitted() -> None:
    store, queues, config = MemoryStore(), DelayedQueues(), settings()
    call = make_call()
    call.status = CallStatus.ENDED
    await store.create(call)
    for _ in range(3):  # a redelivered ACS event emits it again
        await emit(config, store, queues, call.call_id, WebhookEventType.CALL_ENDED, "conn-1", reprice=True)
    stored = await store.get(call.call_id)
    assert stored is not None and stored.cost is not None
    assert [d.url for d in stored.webhooks] == config.webhooks.url_list
    assert len({d.event_id for d in stored.webhooks}) == 1
    # Queued again while never attempted (the redelivery may be that the first send was lost).
    assert {json.dumps(p, sort_keys=True) for _, p, _ in queues.sent} == {
        json.dumps({"call_id": call.call_id, "event_id": d.event_id, "endpoint": d.endpoint}, sort_keys=True)
        for d in stored.webhooks
    }
    await emit(config, store, queues, call.call_id, WebhookEventType.CALL_ENDED, "conn-2")
    stored = await store.get(call.call_id)
    assert stored is not None and len({d.event_id for d in stored.webhooks}) == 2  # another connection


async def test_failed_attempts_are_retried_later_and_given_up_after_the_last() -> None:
    store, queues, config = MemoryStore(), DelayedQueues(), settings(urls="https://hooks.example.com/a")
    call = make_call()
    await store.create(call)
    await emit(config, store, queues, call.call_id, WebhookEventType.CALL_FAILED, "place")
    poster = Poster(500, None, 503)
    outcomes = []
    while queues.sent:
        _, payload, _ = queues.sent.pop(0)
        job = parse_job(json.dumps(payload), message_id=f"m{len(outcomes)}")
        outcomes.append(await deliver(config, store, queues, poster, job))
        if queues.sent:
            assert queues.sent[-1][2] == 10 * 2 ** (len(outcomes) - 1)  # 10 s, then 20 s
    assert outcomes == ["retry", "retry", "failed"]
    stored = await store.get(call.call_id)
    assert stored is not None
    delivery = stored.webhooks[0]
    assert delivery.status is DeliveryStatus.FAILED
    assert [a.status_code for a in delivery.attempts] == [500, None, 503]
    assert delivery.attempts[1].error and "refused" in delivery.attempts[1].error
    # Every attempt posted the same body, signed at its own time.
    assert len({body for _, body, _ in poster.posts}) == 1
    assert all(headers["Webhook-Id"] == delivery.event_id for _, _, headers in poster.posts)


async def test_a_delivered_event_is_not_posted_again() -> None:
    store, queues, config = MemoryStore(), DelayedQueues(), settings(urls="https://hooks.example.com/a")
    call = make_call()
    await store.create(call)
    await emit(config, store, queues, call.call_id, WebhookEventType.CALL_TRANSFERRED, "conn")
    payload = queues.sent.pop()[1]
    poster = Poster(200)
    assert (
        await deliver(config, store, queues, poster, parse_job(json.dumps(payload), message_id="a"))
        == "delivered"
    )
    assert (
        await deliver(config, store, queues, poster, parse_job(json.dumps(payload), message_id="b"))
        == "already_done"
    )
    assert len(poster.posts) == 1 and not queues.sent


@pytest.mark.parametrize("body", [b"nope", b"[]", b'{"call_id": "x", "event_id": "e", "endpoint": "p"}'])
def test_a_malformed_message_is_refused(body: bytes) -> None:
    from core.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        parse_job(body, message_id="m")


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"WEBHOOKS__URLS": "http://hooks.example.com/a", "WEBHOOKS__SECRET": "s" * 20}, "not an https URL"),
        ({"WEBHOOKS__URLS": "https://hooks.example.com/a"}, "WEBHOOKS__SECRET must be at least 16"),
        ({"PRICES__MODELS": "gpt-4.1:two:8"}, "PRICES__MODELS"),
        ({"PRICES__SMS_EACH": "-1"}, "PRICES__SMS_EACH"),
    ],
)
def test_bad_webhook_and_price_settings_are_named_at_start_up(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], problem: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=problem):
        load_settings()
