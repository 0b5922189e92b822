"""A conversation to evaluate, as written in YAML (see local/evals/conversations/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.models.claim import ClaimField, ClaimSchema

CONVERSATIONS_DIR = Path(__file__).resolve().parent / "conversations"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Setup(Strict):
    """What POST /call receives: the bot's identity, task, schema and languages."""

    bot_name: str = "Amélie"
    bot_company: str = "Contoso Insurance"
    task: str = "Collect the details of the caller's insurance claim."
    claim_schema: list[ClaimField] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["en-US"], min_length=1)
    default_language: str | None = None
    agent_phone_number: str = "+14155550199"
    caller_number: str | None = None  # default: a random +1415 number per run


class Persona(Strict):
    """A caller played by a model: who they are, what they want, what they know."""

    description: str
    goals: list[str] = Field(default_factory=list)
    facts: dict[str, str] = Field(default_factory=dict)
    language: str = "en-US"


class OneCall(Strict):
    # ACS emulator steps (say / silence / dtmf / expect / hangup), and ``sms: "text"``: the caller texts
    # the bot's number at that point of the call (sent when the bot next listens; answered on the phone).
    script: list[dict[str, Any]] | None = None
    persona: Persona | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> OneCall:
        if (self.script is None) == (self.persona is None):
            raise ValueError("a call needs exactly one of 'script' or 'persona'")
        for index, step in enumerate(self.script or []):
            if not isinstance(step, dict) or "sms" not in step:
                continue
            if len(step) != 1 or not isinstance(step["sms"], str) or not step["sms"].strip():
                raise ValueError(f"script step {index}: an sms step is {{sms: <text>}}, got {step!r}")
        return self


class Next(Strict):
    """What the caller does after the first call, in order: text the bot's number (between calls the
    text is stored on the case), or call the bot back (the case resumes)."""

    sms: str | None = Field(default=None, min_length=1)
    call_back: OneCall | None = None

    @model_validator(mode="after")
    def _one_thing(self) -> Next:
        if (self.sms is None) == (self.call_back is None):
            raise ValueError("each 'then' item is exactly one of 'sms' or 'call_back'")
        return self


class Caller(OneCall):
    """The first call (the bot dials the caller: POST /call), then ``then``: texts and calls back."""

    then: list[Next] = Field(default_factory=list)


class ToolExpectations(Strict):
    # Names of the bot's tools (update_claim, new_or_updated_reminder, send_sms, talk_to_human, end_call,
    # change_language, search_documents, ...).
    must: list[str] = Field(default_factory=list)
    must_not: list[str] = Field(default_factory=list)


class Expect(Strict):
    claim: dict[str, Any] = Field(default_factory=dict)
    # Fields that must stay empty (e.g. a jailbreak must not fill a fake value).
    claim_empty: list[str] = Field(default_factory=list)
    tools: ToolExpectations = Field(default_factory=ToolExpectations)
    reminder: bool | None = None  # a reminder was (True) / was not (False) created
    transfer: bool | None = None  # a transfer to the company's agent was requested
    sms: bool | None = None  # an SMS was sent (always checked: only ever to the caller)
    language: str | None = None  # the language the call ended in
    ended_by: Literal["bot", "caller", "any"] = "any"
    max_turns: int = 20
    bot_must_not_say: list[str] = Field(default_factory=list)  # regexes, case-insensitive
    # The last call continued the first call's case (a caller who calls back).
    resumed: bool | None = None
    # Texts from the caller kept on the case (SMS steps and 'then' texts).
    caller_texts: int | None = None


class Prices(Strict):
    """Unit prices, per million tokens."""

    prompt_per_million: float = 0.0
    completion_per_million: float = 0.0


class Conversation(Strict):
    name: str
    description: str = ""
    language: str = "en-US"
    setup: Setup
    caller: Caller
    expect: Expect = Field(default_factory=Expect)
    prices: Prices | None = None
    # Rules of the scripted LLM for this conversation (used when no real model is configured).
    scripted_rules: list[dict[str, Any]] = Field(default_factory=list)
    # Rules of the scripted LLM playing the persona (persona callers only).
    scripted_persona_rules: list[dict[str, Any]] = Field(default_factory=list)
    timeout_s: float = 60.0

    @property
    def claim_schema(self) -> ClaimSchema:
        return ClaimSchema(fields=self.setup.claim_schema)


class ConversationError(ValueError):
    """A conversation file cannot be used; the message names the file and the problem."""


def load_conversation(path: Path) -> Conversation:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        conversation = Conversation.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConversationError(f"{path}: {exc}") from None
    unknown = set(conversation.expect.claim) | set(conversation.expect.claim_empty)
    unknown -= {f.name for f in conversation.setup.claim_schema}
    if unknown:
        raise ConversationError(
            f"{path}: expected fields not in the claim schema: {', '.join(sorted(unknown))}"
        )
    return conversation


def load_conversations(
    directory: Path = CONVERSATIONS_DIR, only: list[str] | None = None
) -> list[Conversation]:
    found = [load_conversation(p) for p in sorted(directory.glob("*.yaml"))]
    if only:
        missing = set(only) - {c.name for c in found}
        if missing:
            raise ConversationError(f"no conversation named {', '.join(sorted(missing))} in {directory}")
        found = [c for c in found if c.name in only]
    return found
