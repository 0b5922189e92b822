"""The call: one document per call, everything the bot knows and did. Pure: no I/O."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from core.models.claim import DEFAULT_CLAIM_SCHEMA, ClaimSchema, ClaimValueError, normalize_e164


def utcnow() -> datetime:
    return datetime.now(UTC)


class LanguageOption(BaseModel):
    code: str = Field(description="BCP 47 locale, e.g. en-US", pattern=r"^[a-z]{2,3}-[A-Z]{2}$")
    name: str = Field(max_length=60)
    voice: str = Field(description="Azure neural voice name", max_length=100)


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


class Reminder(BaseModel):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    due_at: datetime
    owner: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Satisfaction(StrEnum):
    VERY_LOW = "very_low"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"
    UNKNOWN = "unknown"


class NextAction(BaseModel):
    action: str
    justification: str


class Insights(BaseModel):
    synthesis_short: str
    synthesis_long: str
    satisfaction: Satisfaction
    improvement_suggestions: list[str] = Field(default_factory=list)
    next_action: NextAction
    created_at: datetime = Field(default_factory=utcnow)


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallStatus(StrEnum):
    CREATED = "created"  # outbound call requested, not yet connected
    CONNECTED = "connected"
    ENDED = "ended"


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


class TimingFigures(BaseModel):
    """Per-call latency figures for reports (milliseconds)."""

    answer_latency_ms: list[float] = Field(default_factory=list)
    llm_first_sentence_ms: list[float] = Field(default_factory=list)


class PostCall(BaseModel):
    status: PostCallStatus = PostCallStatus.NOT_STARTED
    enqueued_at: datetime | None = None
    attempts: int = 0
    sms_summary_sent_at: datetime | None = None
    error: str | None = None


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
    # Free-form per-call flags of the call flow (e.g. greeted, language_chosen).
    flags: dict[str, Any] = Field(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        if not self.language:
            self.language = self.initiate.default_language

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
    "Reminder",
    "Satisfaction",
    "Style",
    "TimingFigures",
    "ToolCall",
    "utcnow",
]
