"""Every interface the product depends on, and the errors each may raise.

Adapters in ``core.adapters`` implement them against Azure services and translate SDK errors into the
ones named here (from ``core.errors``); pure tests of the engine and the call flow implement them in
memory. Nothing outside ``core.adapters`` sees an SDK type.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from core.models import Call, Choice, SpokenText

# Re-exported: the webhook port lives in its own module (this one is at its size limit).
from core.ports_outbound import CampaignStore as CampaignStore
from core.ports_outbound import OptOutStore as OptOutStore
from core.ports_webhooks import WebhookPoster as WebhookPoster
from core.ports_webhooks import WebhookResponse as WebhookResponse
from core.runtime import RuntimeSnapshot

__all__ = [
    "CallPage",
    "CallStore",
    "CallbackVerifier",
    "CampaignStore",
    "ChatEvent",
    "ChatMessage",
    "ChatModel",
    "Choice",
    "Completed",
    "DocumentHit",
    "DocumentIndex",
    "DocumentSearch",
    "Embeddings",
    "EventInbox",
    "IndexedChunk",
    "Mutation",
    "OptOutStore",
    "PhraseCache",
    "PhraseTranslator",
    "QueueSender",
    "ReadinessReport",
    "Restarted",
    "RuntimeConfig",
    "RuntimeSnapshot",
    "SmsSender",
    "SpokenText",
    "Telephony",
    "TextDelta",
    "ToolCallRequest",
    "Usage",
    "WebhookPoster",
    "WebhookResponse",
]

# A mutation is applied to the freshest stored call; on an ETag conflict it runs again on the re-read
# call, so it must be a function of the state it is given. Returning False means "nothing to write".
Mutation = Callable[[Call], bool | None]


@dataclass(frozen=True)
class CallPage:
    calls: list[Call]
    # Opaque token for the next page, None on the last page.
    continuation: str | None = None


class CallStore(Protocol):
    """One document per call. Raises NotFoundError, ConcurrencyError, StoreUnavailable."""

    async def create(self, call: Call) -> Call:
        """ConcurrencyError when a call with this id exists already."""
        ...

    async def get(self, call_id: str) -> Call | None:
        """The stored call, carrying the ETag it was read with (``call.etag``)."""
        ...

    async def update(self, call_id: str, mutation: Mutation, *, current: Call | None = None) -> Call:
        """Apply the mutation and write conditionally on the ETag. With ``current`` (a call this store
        returned, with its ETag) the first attempt applies to it without a read; on conflict the store
        re-reads and re-applies. Raises NotFoundError for an unknown call."""
        ...

    async def latest_for_phone_number(self, phone_number: str, since: datetime) -> Call | None:
        """The caller's latest case since ``since``; a ring never answered (ringing, missed) is none."""
        ...

    async def find_by_server_call_id(self, server_call_id: str) -> Call | None:
        """The call one of whose connections had this ACS server call id."""
        ...

    async def due_callbacks(self, now: datetime, limit: int) -> list[Call]:
        """Calls with a reminder call-back due at ``now`` (``Call.callback_due``), earliest first."""
        ...

    async def list(
        self, *, phone_number: str | None = None, limit: int = 20, continuation: str | None = None
    ) -> CallPage: ...

    async def ready(self) -> None:
        """Raise if the store cannot be used."""
        ...


class EventInbox(Protocol):
    """At-least-once delivery made once: the first claimer of an event id wins."""

    async def claim(self, call_id: str, event_id: str) -> bool:
        """True for the one claimer that wins; False for a duplicate."""
        ...

    async def release(self, call_id: str, event_id: str) -> None: ...

    async def ready(self) -> None: ...


class QueueSender(Protocol):
    async def send(self, queue: str, payload: dict[str, Any], *, delay_s: float = 0) -> None:
        """Send a small JSON message (ids, not documents), invisible for ``delay_s`` seconds (at most
        7 days)."""
        ...

    async def ready(self) -> None: ...


@dataclass
class ReadinessReport:
    ok: bool
    checks: dict[str, str] = field(default_factory=dict)  # name -> "ok" or the failure


class SmsSender(Protocol):
    async def send(self, to: str, message: str) -> bool:
        """Send one SMS from the product's number; True when the provider accepted it. Never raises
        for a provider failure: the caller decides (a tool tells the model, a job retries)."""
        ...


class PhraseTranslator(Protocol):
    """Translates English phrases (Azure AI Translator, or the chat model), each in ``language`` (BCP 47)
    in order, ``{placeholders}`` kept. Raises DependencyError (ModelUnavailable for the model)."""

    async def translate(self, texts: list[str], language: str) -> list[str]: ...


class PhraseCache(Protocol):
    """Translated phrase sets, shared by every worker (a blob container). Raises StoreUnavailable."""

    async def get(self, key: str) -> dict[str, list[str]] | None: ...
    async def put(self, key: str, phrases: dict[str, list[str]]) -> None: ...


class Telephony(Protocol):
    """Call control (ACS Call Automation). Connection ids are ACS call connection ids.

    Raises CallGone when the call no longer exists (the caller hung up), TelephonyRefused when ACS
    refuses the action, TelephonyError when ACS cannot be reached."""

    async def answer(self, incoming_call_context: str, callback_url: str) -> str:
        """Answer an incoming call; returns the call connection id."""
        ...

    async def reject(self, incoming_call_context: str, reason: str) -> None:
        """Reject an incoming call (reason: none, busy or forbidden), so it does not ring on."""
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
        interrupt_media: bool = False,
    ) -> None:
        """Start recognizing the caller's speech (or a choice by voice/keypad) after queued plays; the
        prompts are played first and the caller may interrupt them (barge-in). An initial silence of
        0 gives up as soon as the prompts end (more is coming); ``interrupt_media`` cancels what is
        playing or queued and starts at once."""
        ...

    async def cancel_media(self, connection_id: str) -> None: ...

    async def transfer(self, connection_id: str, phone_number: str, *, context: str) -> None: ...

    async def hang_up(self, connection_id: str) -> None: ...

    async def start_recording(self, connection_id: str, *, container_url: str = "") -> None:
        """Start recording the call; into ``container_url`` (an Azure blob container) when given."""
        ...


class RecordingStore(Protocol):
    """The blob container recordings are kept in. Raises NotFoundError, StoreUnavailable."""

    async def read(self, blob_name: str, *, max_bytes: int) -> bytes:
        """The whole file; InvalidInputError when it is larger than ``max_bytes``."""
        ...

    async def close(self) -> None: ...


class CallbackVerifier(Protocol):
    async def verify(self, authorization: str | None) -> dict[str, Any]:
        """The claims of the callback's bearer token, or UnauthorizedError."""
        ...


class RuntimeConfig(Protocol):
    """The run-time options a company changes while the product runs (core.runtime), from a cache.

    Never raises for the store: a store that cannot be read leaves the last good snapshot (the app
    settings until a first read succeeds), and says so in the log."""

    async def snapshot(self) -> RuntimeSnapshot:
        """The options for one event: the first call of a worker loads them (bounded by the load
        timeout); later calls return the cached snapshot at once. A background task refreshes it every
        refresh interval (the sentinel key is checked; everything is reloaded when it changed)."""
        ...

    def current(self) -> RuntimeSnapshot:
        """The cached snapshot, without I/O."""
        ...

    async def close(self) -> None: ...


# -- chat model ------------------------------------------------------------------------------------

ChatMessage = dict[str, Any]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class ToolCallRequest:
    id: str
    name: str
    arguments: str


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class TextDelta:
    text: str


@dataclass
class Restarted:
    """The previous attempt broke; text not yet released by the consumer must be dropped."""

    reason: str


@dataclass
class Completed:
    finish_reason: str
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    usage: Usage | None = None
    model: str = ""
    text: str = ""


ChatEvent = TextDelta | Restarted | Completed


class ChatModel(Protocol):
    """A chat model with a fallback. Raises ModelUnavailable when every model failed, and
    ContentFilteredError when the provider's content filter refused the input (never re-sent)."""

    def stream(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        already_said: Callable[[], str] | None = None,
    ) -> AsyncGenerator[ChatEvent, None]: ...

    async def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> tuple[str, Usage | None]: ...

    async def complete_json(
        self, messages: Sequence[ChatMessage], schema: type[ModelT], *, attempts: int = 3
    ) -> ModelT:
        """A JSON answer validated against ``schema``; asked again when invalid."""
        ...

    async def close(self) -> None: ...


# -- document search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentHit:
    title: str
    content: str
    source: str = ""
    score: float = 0.0


class DocumentSearch(Protocol):
    """Raises DocumentSearchNotConfiguredError when the deployment has no document index."""

    async def search(self, query: str, top: int) -> list[DocumentHit]:
        """The best passages for ``query``, at most ``top``. Raises DocumentSearchUnavailable when the
        index cannot answer within the deployment's time limit."""
        ...


class Embeddings(Protocol):
    """Text to vectors (an embeddings deployment). Raises DocumentSearchUnavailable when unreachable."""

    dimensions: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class IndexedChunk:
    """One passage of a document as the index stores it (the id changes when the text changes)."""

    id: str
    title: str
    content: str
    source: str
    vector: list[float]


class DocumentIndex(Protocol):
    """The write side of the document index, for ingestion. Raises DocumentSearchUnavailable."""

    async def ensure_index(self) -> bool:
        """Create the index (fields, vector profile, vectorizer, semantic configuration) when missing;
        True when it was created."""
        ...

    async def existing_chunks(self) -> dict[str, str]:
        """Every chunk id in the index with its source (file path)."""
        ...

    async def upsert(self, chunks: list[IndexedChunk]) -> None: ...

    async def delete(self, ids: list[str]) -> None: ...
