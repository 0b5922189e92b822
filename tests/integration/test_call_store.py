from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.bootstrap import Services
from core.errors import InvalidInputError, NotFoundError
from core.models import Call, ClaimField, ClaimFieldType, ClaimSchema, ClaimValueError, utcnow
from tests.conftest import make_call
from tests.waiting import at_most


async def test_twenty_concurrent_mutations_of_one_call_are_all_applied(container: Services) -> None:
    call = await container.calls.create(make_call())

    async def add_reminder_title(i: int) -> None:
        def mutation(fresh: Call) -> None:
            fresh.counters.turns += 1
            fresh.old_connections.append(f"writer_{i}")

        await container.calls.update(call.call_id, mutation)

    await asyncio.gather(*(add_reminder_title(i) for i in range(20)))
    stored = await container.calls.get(call.call_id)
    assert stored is not None
    assert stored.counters.turns == 20
    assert sorted(stored.old_connections) == sorted(f"writer_{i}" for i in range(20))


async def test_a_write_based_on_a_stale_read_is_reapplied_on_the_fresh_call(container: Services) -> None:
    """The unit of work: an update given the call it read writes without reading again, and when
    someone wrote in between, the ETag refuses it and the change is re-applied on the fresh call."""
    call = await container.calls.create(make_call())
    read = await container.calls.get(call.call_id)
    assert read is not None and read.etag
    await container.calls.update(call.call_id, lambda c: c.old_connections.append("first"))
    written = await container.calls.update(
        call.call_id, lambda c: c.old_connections.append("second"), current=read
    )
    assert written.old_connections == ["first", "second"]
    again = await container.calls.update(
        call.call_id, lambda c: c.old_connections.append("third"), current=written
    )
    assert again.old_connections == ["first", "second", "third"]
    stored = await container.calls.get(call.call_id)
    assert stored is not None and stored.old_connections == ["first", "second", "third"]


async def test_a_rejected_claim_value_leaves_the_stored_claim_unchanged(container: Services) -> None:
    schema = ClaimSchema(fields=[ClaimField(name="amount", type=ClaimFieldType.NUMBER)])
    call = await container.calls.create(make_call(claim_schema=schema))
    await container.calls.update(call.call_id, lambda c: bool(c.set_claim_values({"amount": 10})) or None)

    with pytest.raises(ClaimValueError, match="amount: 'ten' is not a number"):
        await container.calls.update(
            call.call_id, lambda c: bool(c.set_claim_values({"amount": "ten"})) or None
        )

    stored = await container.calls.get(call.call_id)
    assert stored is not None and stored.claim == {"amount": 10}


async def test_unknown_calls_are_none_and_updates_of_them_not_found(container: Services) -> None:
    assert await container.calls.get("00000000-0000-4000-8000-000000000000") is None
    with pytest.raises(NotFoundError):
        await container.calls.update("00000000-0000-4000-8000-000000000000", lambda c: None)


async def test_latest_call_of_a_number_within_the_window(container: Services) -> None:
    number = "+14155550142"
    old = make_call(number)
    old.created_at = utcnow() - timedelta(hours=30)
    await container.calls.create(old)
    assert await container.calls.latest_for_phone_number(number, utcnow() - timedelta(hours=24)) is None

    first = await container.calls.create(make_call(number))
    second = await container.calls.create(make_call(number))
    await container.calls.create(make_call("+14155550143"))
    latest = await container.calls.latest_for_phone_number(number, utcnow() - timedelta(hours=24))
    assert latest is not None and latest.call_id == second.call_id != first.call_id


async def test_list_pages_newest_first_and_filters_by_number(container: Services) -> None:
    number = "+14155550177"
    created = [await container.calls.create(make_call(number)) for _ in range(5)]
    await container.calls.create(make_call("+14155550178"))

    seen: list[str] = []
    continuation = None
    for _ in at_most(10, "the last page of calls (a page without a continuation token)"):
        page = await container.calls.list(phone_number=number, limit=2, continuation=continuation)
        assert len(page.calls) <= 2
        seen += [c.call_id for c in page.calls]
        continuation = page.continuation
        if continuation is None:
            break
    assert seen == [c.call_id for c in reversed(created)]

    with pytest.raises(InvalidInputError, match="continuation token is malformed"):
        await container.calls.list(continuation="garbage!")
