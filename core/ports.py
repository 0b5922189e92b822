"""Interfaces the product depends on. Adapters in core.adapters implement them against Azure services;
tests of the engine and call flow may implement them in memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.models import Call

# A mutation is applied to the freshest stored call; on an ETag conflict it runs again on the re-read
# call, so it must be a function of the state it is given. Returning False means "nothing to write".
Mutation = Callable[[Call], bool | None]


@dataclass(frozen=True)
class CallPage:
    calls: list[Call]
    # Opaque token for the next page, None on the last page.
    continuation: str | None = None


class CallStore(Protocol):
    async def create(self, call: Call) -> Call: ...

    async def get(self, call_id: str) -> Call | None: ...

    async def update(self, call_id: str, mutation: Mutation) -> Call:
        """Apply the mutation conditionally on the ETag, re-reading and re-applying on conflict.
        Raises core.errors.NotFoundError for an unknown call."""
        ...

    async def latest_for_phone_number(self, phone_number: str, since: datetime) -> Call | None: ...

    async def list(
        self, *, phone_number: str | None = None, limit: int = 20, continuation: str | None = None
    ) -> CallPage: ...

    async def ready(self) -> None:
        """Raise if the store cannot be used."""
        ...


class EventInbox(Protocol):
    async def claim(self, call_id: str, event_id: str) -> bool:
        """True for the one claimer that wins; False for a duplicate."""
        ...

    async def release(self, call_id: str, event_id: str) -> None: ...

    async def ready(self) -> None: ...


class QueueSender(Protocol):
    async def send(self, queue: str, payload: dict[str, Any]) -> None:
        """Send a small JSON message (ids, not documents)."""
        ...

    async def ready(self) -> None: ...


@dataclass
class ReadinessReport:
    ok: bool
    checks: dict[str, str] = field(default_factory=dict)  # name -> "ok" or the failure


class SmsSender(Protocol):
    async def send(self, to: str, message: str) -> bool:
        """Send one SMS from the product's number; True when the provider accepted it."""
        ...


@dataclass(frozen=True)
class SpokenText:
    """Text to say, with how to say it (the adapter turns it into SSML)."""

    text: str
    voice: str
    language: str
    style: str = "none"
    rate: float = 1.0


@dataclass(frozen=True)
class Choice:
    """One answer of a closed question: recognized by voice (any phrase) or by keypad (tone)."""

    label: str
    phrases: list[str]
    tone: str | None = None


class Telephony(Protocol):
    """Call control (ACS Call Automation). Connection ids are ACS call connection ids."""

    async def answer(self, incoming_call_context: str, callback_url: str) -> str:
        """Answer an incoming call; returns the call connection id."""
        ...

    async def call(self, phone_number: str, callback_url: str) -> str:
        """Place an outbound call from the product's number; returns the call connection id."""
        ...

    async def play(self, connection_id: str, speech: SpokenText, *, context: str) -> None: ...

    async def listen(
        self,
        connection_id: str,
        phone_number: str,
        *,
        language: str,
        context: str,
        prompt: Sequence[SpokenText] = (),
        choices: list[Choice] | None = None,
        initial_silence_s: float = 6.0,
        end_silence_s: float = 0.5,
    ) -> None:
        """Start recognizing the caller's speech (or a choice by voice/keypad) after queued plays; the
        prompts are played first and the caller may interrupt them (barge-in)."""
        ...

    async def cancel_media(self, connection_id: str) -> None: ...

    async def transfer(self, connection_id: str, phone_number: str, *, context: str) -> None: ...

    async def hang_up(self, connection_id: str) -> None: ...

    async def start_recording(self, connection_id: str) -> None: ...
