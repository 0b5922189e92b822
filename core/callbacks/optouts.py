"""Opt-outs: numbers the assistant must never call back (``POST /optout``, ``GET /optout``).

A person who asks not to be called again is added by the company (or its CRM) through the API; the
call-back scheduler checks the store before every attempt and marks the reminder ``opted_out``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError, field_validator

from core.errors import InvalidInputError
from core.json_input import loads
from core.models import normalize_e164

if TYPE_CHECKING:
    from core.ports import OptOutStore


class OptOutRequest(BaseModel):
    phone_number: str = Field(description="The number, E.164 (e.g. +14155550100).")
    opted_out: bool = Field(default=True, description="true: never call it; false: it may be called again.")
    source: str = Field(default="api", max_length=200, description="Who or what asked (free text, kept).")

    @field_validator("phone_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return normalize_e164(value)


class OptOutStatus(BaseModel):
    phone_number: str
    opted_out: bool


def parse_request(body: bytes) -> OptOutRequest:
    data = loads(body)
    if not isinstance(data, dict):
        raise InvalidInputError('the body must be a JSON object: {"phone_number": "+14155550100"}')
    try:
        return OptOutRequest.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()]
        raise InvalidInputError("invalid opt-out request", problems) from None


def parse_number(raw: str | None) -> str:
    if not raw:
        raise InvalidInputError("phone_number is required (E.164, e.g. +14155550100)")
    try:
        return normalize_e164(raw.replace(" ", "+", 1) if raw.startswith(" ") else raw)
    except ValueError as exc:
        raise InvalidInputError(f"phone_number: {exc}") from None


async def apply(store: OptOutStore, request: OptOutRequest) -> OptOutStatus:
    if request.opted_out:
        await store.add(request.phone_number, request.source)
    else:
        await store.remove(request.phone_number)
    return OptOutStatus(phone_number=request.phone_number, opted_out=request.opted_out)


async def status(store: OptOutStore, phone_number: str) -> OptOutStatus:
    return OptOutStatus(phone_number=phone_number, opted_out=await store.contains(phone_number))
