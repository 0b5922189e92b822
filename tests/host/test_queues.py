"""Queue triggers against Azurite: success deletes once, failures end in the poison queue."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable

import pytest
from azure.storage.queue.aio import QueueClient

from local.functions_host import FunctionsHost, QueueOutcome
from tests.waiting import wait_until

from . import sample_app
from .conftest import MAX_DEQUEUE_COUNT


class Outcomes:
    """Collects queue outcomes reported by the host and lets a test await a condition on them."""

    def __init__(self) -> None:
        self.items: list[QueueOutcome] = []
        self._changed = asyncio.Event()

    def __call__(self, outcome: QueueOutcome) -> None:
        self.items.append(outcome)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[list[QueueOutcome]], bool], timeout: float = 15) -> None:
        await wait_until(
            lambda: predicate(self.items),
            timeout=timeout,
            what="queue outcomes that satisfy the test's condition",
            wake=self._next,
            seen=lambda: [(o.message_id, o.outcome, o.dequeue_count) for o in self.items],
        )

    async def _next(self) -> None:
        self._changed.clear()
        await self._changed.wait()


@pytest.fixture
async def outcomes(functions_host: FunctionsHost) -> AsyncIterator[Outcomes]:
    collected = Outcomes()
    functions_host.add_queue_observer(collected)
    yield collected
    functions_host.remove_queue_observer(collected)


async def _send(connection_string: str, queue: str, body: bytes) -> str:
    async with QueueClient.from_connection_string(connection_string, queue) as client:
        sent = await client.send_message(base64.b64encode(body).decode())
        return str(sent.id)


async def _peek(connection_string: str, queue: str) -> list[str]:
    async with QueueClient.from_connection_string(connection_string, queue) as client:
        return [str(m.content) for m in await client.peek_messages(max_messages=32)]


async def test_good_message_is_handled_exactly_once(
    functions_host: FunctionsHost,
    outcomes: Outcomes,
    azurite_connection_string: str,
    queue_names: dict[str, str],
) -> None:
    queue = queue_names["HOST_TEST_QUEUE_OK"]
    message_id = await _send(azurite_connection_string, queue, b'{"call_id": "c-1"}')
    functions_host.nudge(queue)
    await outcomes.wait_for(lambda items: any(o.message_id == message_id for o in items))
    mine = [o for o in outcomes.items if o.message_id == message_id]
    assert [(o.outcome, o.dequeue_count) for o in mine] == [("succeeded", 1)]
    assert sample_app.recorder.queue_bodies["ok"].count(b'{"call_id": "c-1"}') == 1
    assert await _peek(azurite_connection_string, queue) == []  # deleted: it cannot run again


async def test_failing_message_lands_in_poison_queue_after_max_dequeue_count(
    functions_host: FunctionsHost,
    outcomes: Outcomes,
    azurite_connection_string: str,
    queue_names: dict[str, str],
) -> None:
    queue = queue_names["HOST_TEST_QUEUE_FAILING"]
    body = b'{"call_id": "c-poison"}'
    message_id = await _send(azurite_connection_string, queue, body)
    functions_host.nudge(queue)
    await outcomes.wait_for(
        lambda items: any(o.message_id == message_id and o.outcome == "poisoned" for o in items)
    )
    mine = [(o.outcome, o.dequeue_count) for o in outcomes.items if o.message_id == message_id]
    expected = [("released", n) for n in range(1, MAX_DEQUEUE_COUNT)] + [("poisoned", MAX_DEQUEUE_COUNT)]
    assert mine == expected
    assert sample_app.recorder.queue_dequeue_counts["failing"] == list(range(1, MAX_DEQUEUE_COUNT + 1))
    assert await _peek(azurite_connection_string, queue) == []
    poison = await _peek(azurite_connection_string, f"{queue}-poison")
    assert [base64.b64decode(content) for content in poison] == [body]


async def test_invalid_base64_counts_as_a_failure(
    functions_host: FunctionsHost,
    outcomes: Outcomes,
    azurite_connection_string: str,
    queue_names: dict[str, str],
) -> None:
    queue = queue_names["HOST_TEST_QUEUE_OK"]
    async with QueueClient.from_connection_string(azurite_connection_string, queue) as client:
        message_id = str((await client.send_message("not base64 at all!")).id)
    functions_host.nudge(queue)
    await outcomes.wait_for(
        lambda items: any(o.message_id == message_id and o.outcome == "poisoned" for o in items)
    )
    poison = await _peek(azurite_connection_string, f"{queue}-poison")
    assert poison == ["not base64 at all!"]


async def test_more_messages_than_a_batch_are_each_handled_once(
    functions_host: FunctionsHost,
    outcomes: Outcomes,
    azurite_connection_string: str,
    queue_names: dict[str, str],
) -> None:
    queue = queue_names["HOST_TEST_QUEUE_OK"]
    bodies = [f'{{"call_id": "batch-{i}"}}'.encode() for i in range(20)]  # batchSize is 8 here
    ids = set(await asyncio.gather(*(_send(azurite_connection_string, queue, body) for body in bodies)))
    functions_host.nudge(queue)
    await outcomes.wait_for(lambda items: {o.message_id for o in items if o.outcome == "succeeded"} >= ids)
    assert sorted(o.message_id for o in outcomes.items if o.message_id in ids) == sorted(ids)
    handled = sample_app.recorder.queue_bodies["ok"]
    assert all(handled.count(body) == 1 for body in bodies)
