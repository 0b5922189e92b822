"""Read side of calls for the HTTP API: validation of ids, numbers and paging; pages of public views."""

from __future__ import annotations

import uuid

from core.api.public import CallPage, PublicCall
from core.errors import InvalidInputError, NotFoundError
from core.models import Call, normalize_e164
from core.ports import CallStore

MAX_PAGE_SIZE = 100


def parse_call_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except (ValueError, TypeError):
        raise InvalidInputError(f"call_id '{raw[:80]}' is not a UUID") from None


def parse_phone_number(raw: str) -> str:
    try:
        return normalize_e164(raw)
    except ValueError as exc:
        raise InvalidInputError(f"phone_number: {exc}") from None


def parse_limit(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInputError(f"limit '{raw[:20]}' is not a whole number") from None
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    return value


async def get_call(store: CallStore, raw_call_id: str) -> Call:
    call_id = parse_call_id(raw_call_id)
    call = await store.get(call_id)
    if call is None:
        raise NotFoundError(f"call {call_id} not found")
    return call


async def list_calls(
    store: CallStore,
    *,
    phone_number: str | None,
    limit: int,
    continuation: str | None,
) -> CallPage:
    """A page of calls (public views), newest first. A phone number with no call at all is NotFound."""
    number = parse_phone_number(phone_number) if phone_number else None
    page = await store.list(phone_number=number, limit=limit, continuation=continuation or None)
    if number and not page.calls and not continuation:
        raise NotFoundError(f"no call for phone number {number}")
    from core.costs import total_of

    return CallPage(
        calls=[PublicCall.of(c) for c in page.calls],
        continuation=page.continuation,
        cost_total=total_of(page.calls),
    )
