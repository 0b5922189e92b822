"""The call: one document per call, everything the bot knows and did. Pure: no I/O."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from core.models.claim import DEFAULT_CLAIM_SCHEMA, ClaimSchema, ClaimValueError, normalize_e164
from core.models.connection import Connection
from core.models.cost import CallCost
from core.models.insights import Insights, NextAction, Satisfaction
from core.models.language import LanguageOption
from core.models.recording import RecordingFile
from core.models.reminder import CallbackOrigin, Reminder, callback_due
from core.models.webhook import WebhookDelivery


def utcnow() -> datetime:
    return datetime.now(UTC)


class InitiateRequest(BaseModel):
    """What the call is for. Set when the call is created; nothing the caller says can change it."""

    phone_number: str
    bot_name: str = Field(max_length=60)
    bot_company: str = Field(max_length=100)
    task: str = Field(max_length=4000)
    claim_schema: ClaimSchema = DEFAULT_CLAIM_SCHEMA
    agent_phone_number: str
    languages: list[LanguageOption] = Field(min_length=1, max_length=10)
    default_language: str
    campaign_id: str | None = None  # the campaign that placed the call (core.campaigns)

    @field_validator("phone_number", "agent_phone_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return normalize_e164(value)

    def language(self, code: str) -> LanguageOption:
        for option in self.languages:
            if option.code == code:
                return option
        return self.languages[0]


class Persona(StrEnum):
    HUMAN = "human"
    ASSISTANT = "assistant"
    TOOL = "tool"


class Action(StrEnum):
    CALL = "call"  # the call connected
    TALK = "talk"
    SMS = "sms"  # an SMS received from the caller or sent to them
    TRANSFER = "transfer"
    HANGUP = "hangup"


class Style(StrEnum):
    NONE = "none"
    CHEERFUL = "cheerful"
    SAD = "sad"
    EMPATHETIC = "empathetic"
    CALM = "calm"


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: str = "{}"
    result: str | None = None


class Message(BaseModel):
    persona: Persona
    action: Action = Action.TALK
    content: str = ""
    style: Style = Style.NONE
    tool_calls: list[ToolCall] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    # Idempotency key: the event or turn that produced this message.
    source_id: str | None = None
    # Rejected by the model provider's content filter: kept for the record, never sent to the LLM again.
    content_filtered: bool = False


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallStatus(StrEnum):
    RINGING = "ringing"  # inbound call being answered; not a case yet (never resumed)
    CREATED = "created"  # placed or answered, not yet connected
    CONNECTED = "connected"
    ENDED = "ended"
    MISSED = "missed"  # the answer failed (the caller hung up while ringing, ACS refused): no case


class PostCallStatus(StrEnum):
    NOT_STARTED = "not_started"
    ENQUEUED = "enqueued"
    DONE = "done"
    FAILED = "failed"


class Counters(BaseModel):
    silence_retries: int = 0
    turns: int = 0
    llm_prompt_tokens: int = 0
    llm_completion_tokens: int = 0
    # Post-call insights (the slow model), estimated: its structured answer reports no usage.
    insights_prompt_tokens: int = 0
    insights_completion_tokens: int = 0


class TimingFigures(BaseModel):  # per-call latency figures for reports
    answer_latency_ms: list[float] = Field(default_factory=list)
    llm_first_sentence_ms: list[float] = Field(default_factory=list)


class PostCall(BaseModel):
    status: PostCallStatus = PostCallStatus.NOT_STARTED
    enqueued_at: datetime | None = None
    attempts: int = 0
    sms_summary_sent_at: datetime | None = None
    error: str | None = None
    # The connection whose end enqueued the job (a resumed call gets one job per connection).
    for_connection: str | None = None
    # The delivery of the queue message working on the job, until when (two deliveries at once).
    lease_owner: str | None = None
    lease_until: datetime | None = None


class Call(BaseModel):
    call_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    direction: CallDirection
    status: CallStatus = CallStatus.CREATED
    initiate: InitiateRequest
    # ACS call connection id, once known.
    connection_id: str | None = None
    # Secret carried in this call's callback URL; compared in constant time.
    callback_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(24))
    claim: dict[str, Any] = Field(default_factory=dict)
    messages: list[Message] = Field(default_factory=list)
    reminders: list[Reminder] = Field(default_factory=list)
    insights: Insights | None = None
    language: str = ""
    speech_speed: float = 1.0
    counters: Counters = Field(default_factory=Counters)
    timing: TimingFigures = Field(default_factory=TimingFigures)
    # The LLM turn allowed to speak; an older turn stops before its next play.
    current_turn_id: str | None = None
    post_call: PostCall = Field(default_factory=PostCall)
    ended_at: datetime | None = None
    # Why the call ended without a conversation (placing failed, connect failed).
    end_reason: str | None = None
    language_chosen: bool = False
    resumed_count: int = 0
    # Connections of earlier calls of this case: their late events are ignored.
    old_connections: list[str] = Field(default_factory=list)
    # ACS server call ids of this case's connections, as CallConnected gave them: how a recording
    # (announced by server call id) finds its call, even after the case was resumed.
    server_call_ids: list[str] = Field(default_factory=list)
    recordings: list[RecordingFile] = Field(default_factory=list)
    # What the call cost (core/models/cost.py), priced when it ends and again after its insights.
    cost: CallCost | None = None
    # The signed webhook events of this call and their delivery log (core/webhooks).
    webhooks: list[WebhookDelivery] = Field(default_factory=list)
    # Internal state of the live phone connection; never published.
    connection: Connection = Field(default_factory=Connection)
    # Set on a call the assistant placed for a reminder: the original call (core.models.reminder).
    callback_of: CallbackOrigin | None = None
    # ETag of the stored document this object was read from (a conditional write's precondition).
    _etag: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _from_flags(cls, data: Any) -> Any:
        """Documents written before the typed connection state kept it in a ``flags`` dict."""
        if not isinstance(data, dict) or "flags" not in data:
            return data
        data = dict(data)
        flags = data.pop("flags") or {}
        names = ("greeted", "server_call_id", "open_turn", "ending", "played")
        connection = {name: flags[name] for name in names if name in flags}
        connection.update(
            {name: flags[name] for name in ("choice_attempts", "transferred", "recording") if name in flags}
        )
        if isinstance(flags.get("pending_action"), dict):
            connection["pending"] = flags["pending_action"]
        data.setdefault("connection", connection)
        data.setdefault("end_reason", flags.get("error"))
        data.setdefault("language_chosen", bool(flags.get("language_chosen")))
        data.setdefault("resumed_count", int(flags.get("resumed_count", 1 if flags.get("resumed") else 0)))
        data.setdefault("old_connections", list(flags.get("old_connections", [])))
        if flags.get("post_call_for") and isinstance(data.get("post_call"), dict):
            data["post_call"] = {**data["post_call"], "for_connection": flags["post_call_for"]}
        return data

    def model_post_init(self, __context: Any) -> None:
        if not self.language:
            self.language = self.initiate.default_language

    @property
    def callback_due(self) -> str | None:
        """When the call-back timer must look at this call's reminders (stored with the document)."""
        return (
            callback_due(self.reminders, self.initiate.bot_name) if self.status is CallStatus.ENDED else None
        )

    @property
    def etag(self) -> str | None:
        return self._etag

    def with_etag(self, etag: str | None) -> Call:
        self._etag = etag
        return self

    @property
    def resumed(self) -> bool:
        return self.resumed_count > 0

    @property
    def live(self) -> bool:
        """Connected (or connecting) and not on its way out."""
        return self.status not in (CallStatus.ENDED, CallStatus.MISSED) and not self.connection.ending

    def is_old_connection(self, connection_id: str) -> bool:
        return bool(connection_id) and connection_id in self.old_connections

    def attach(self, connection_id: str) -> bool:
        """The connection ACS gave when answering or placing the call."""
        if self.connection_id == connection_id:
            return False
        if self.connection_id and self.connection_id not in self.old_connections:
            self.old_connections.append(self.connection_id)
        self.connection_id = connection_id
        return True

    def answered(self, connection_id: str) -> bool:
        """ACS accepted the answer of this ringing call: it is a call now (connecting). A call taken as
        missed that connects after all (its answer was lost, not refused) is revived."""
        changed = self.attach(connection_id)
        if self.status in (CallStatus.RINGING, CallStatus.MISSED):
            self.status = CallStatus.CREATED
            self.ended_at = None
            self.end_reason = None
            changed = True
        return changed

    def miss(self, reason: str) -> bool:
        """The answer of this ringing call failed for good: recorded as missed, never resumed."""
        if self.status is not CallStatus.RINGING:
            return False  # answered after all (a retried delivery): leave the live call alone
        self.status = CallStatus.MISSED
        self.ended_at = utcnow()
        self.end_reason = reason
        return True

    def resume_on(self, connection_id: str) -> bool:
        """The case goes on over ``connection_id`` (answered for a caller who called back). Idempotent:
        the answer and the new connection's CallConnected both apply it, whichever comes first."""
        if not connection_id or connection_id == self.connection_id or self.is_old_connection(connection_id):
            return False
        self.resume()
        self.connection_id = connection_id
        return True

    def add_server_call_id(self, server_call_id: str) -> None:
        if server_call_id and server_call_id not in self.server_call_ids:
            self.server_call_ids.append(server_call_id)

    def add_recording(self, recording: RecordingFile) -> bool:
        if any(
            r.source_id == recording.source_id or r.blob_name == recording.blob_name for r in self.recordings
        ):
            return False
        self.recordings.append(recording)
        return True

    def resume(self) -> None:
        """The caller called back within the window: the case goes on over a new connection."""
        if self.connection_id and self.connection_id not in self.old_connections:
            self.old_connections.append(self.connection_id)
        self.connection_id = None
        self.status = CallStatus.CREATED  # until the new connection's CallConnected
        self.ended_at = None
        self.connection = Connection()
        self.resumed_count += 1
        self.current_turn_id = None
        self.counters.silence_retries = 0
        self.post_call.status = PostCallStatus.NOT_STARTED

    def end(self, reason: str | None = None) -> bool:
        if self.status is CallStatus.ENDED:
            return False
        self.status = CallStatus.ENDED
        self.ended_at = utcnow()
        if reason:
            self.end_reason = reason
        return True

    def begin_turn(self, turn_id: str, caller: Message) -> None:
        """The caller spoke: this turn is the one allowed to speak; their words are kept once."""
        self.current_turn_id = turn_id
        self.connection.open(turn_id)
        self.counters.silence_retries = 0
        if not self.has_message(caller.source_id or ""):
            self.messages.append(caller.model_copy(deep=True))
            self.counters.turns += 1

    def finalize(self, connection_id: str, event_id: str) -> bool:
        """The connection ended. True when the post-call job must be enqueued (once per connection)."""
        if self.end():
            self.connection.open_turn = None
            self.messages.append(
                Message(persona=Persona.HUMAN, action=Action.HANGUP, content="", source_id=event_id)
            )
        if self.post_call.for_connection == connection_id:
            return False
        self.post_call.for_connection = connection_id
        self.post_call.status = PostCallStatus.ENQUEUED
        self.post_call.enqueued_at = utcnow()
        self.post_call.attempts = 0
        return True

    def unqueue_post_call(self, connection_id: str) -> None:
        """Enqueueing failed: let the redelivered CallDisconnected try again."""
        if self.post_call.for_connection == connection_id:
            self.post_call.for_connection = None
            self.post_call.status = PostCallStatus.NOT_STARTED

    @property
    def phone_number(self) -> str:
        return self.initiate.phone_number

    def set_claim_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Validate and store several claim values; all or nothing. Raises ClaimValueError."""
        coerced = self.initiate.claim_schema.validate_values(values)
        self.claim.update(coerced)
        return coerced

    def reset_claim(self) -> None:
        self.claim = {}

    def has_message(self, source_id: str) -> bool:
        return any(m.source_id == source_id for m in self.messages)


__all__ = [
    "Action",
    "Call",
    "CallDirection",
    "CallStatus",
    "ClaimValueError",
    "Counters",
    "InitiateRequest",
    "Insights",
    "LanguageOption",
    "Message",
    "NextAction",
    "Persona",
    "PostCall",
    "PostCallStatus",
    "RecordingFile",
    "Reminder",
    "Satisfaction",
    "Style",
    "TimingFigures",
    "ToolCall",
    "utcnow",
]
