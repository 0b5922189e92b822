from __future__ import annotations

import asyncio
import uuid

from core.bootstrap import Services


async def test_one_of_ten_concurrent_claimers_wins_and_a_release_reopens(container: Services) -> None:
    call_id = str(uuid.uuid4())
    event_id = f"callbacks/{uuid.uuid4()}#PlayCompleted"

    results = await asyncio.gather(*(container.inbox.claim(call_id, event_id) for _ in range(10)))
    assert results.count(True) == 1

    await container.inbox.release(call_id, event_id)
    assert await container.inbox.claim(call_id, event_id) is True
    assert await container.inbox.claim(call_id, event_id) is False


async def test_the_same_event_id_on_two_calls_is_two_claims(container: Services) -> None:
    event_id = str(uuid.uuid4())
    assert await container.inbox.claim(str(uuid.uuid4()), event_id) is True
    assert await container.inbox.claim(str(uuid.uuid4()), event_id) is True
