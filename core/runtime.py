"""Run-time options: what a company changes while the product runs (Azure App Configuration), and
their validation.

A :class:`RuntimeSnapshot` is one consistent set of options, read once per event from a cache (see
``core.ports.RuntimeConfig``). Every option has an app setting as its fallback: a key absent from the
store takes the app setting's value; a key whose value is invalid is rejected and logged, and the last
good value is kept. No I/O here: the store adapter is ``core.adapters.app_configuration``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.models.claim import ClaimSchema

if TYPE_CHECKING:
    from core.phrasebook import PhraseTable
    from core.settings import Settings

log = logging.getLogger("callcenter.runtime")


class RuntimeSnapshot(BaseModel):
    """One consistent set of run-time options (immutable: a refresh builds a new one)."""

    model_config = ConfigDict(frozen=True)

    # Said once when the first sentence is late ("let me check"), then the bot keeps waiting.
    answer_soft_timeout_s: float = Field(gt=0, le=600)
    # The caller never waits longer for an answer: the bot apologizes and listens again.
    answer_hard_timeout_s: float = Field(gt=0, le=600)
    callback_window_hours: float = Field(ge=0, le=24 * 365)
    phone_silence_timeout_s: float = Field(gt=0, le=300)
    recognition_retries: int = Field(ge=0, le=10)
    recognition_completion_timeout_s: float = Field(gt=0, le=10)
    recording_enabled: bool
    slow_llm_for_chat: bool
    default_task: str = Field(min_length=1, max_length=4000)
    # None: the built-in insurance claim.
    default_claim_schema: ClaimSchema | None = None
    # Parsed overrides (name -> language -> variants), see core.phrasebook.
    prompt_overrides: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    # Where the values came from, for logs.
    source: str = "app settings"

    @property
    def overrides(self) -> PhraseTable:
        return self.prompt_overrides


def _json_schema(raw: str) -> ClaimSchema | None:
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if isinstance(data, list):  # the list form of a schema is its fields, as in POST /call
        data = {"fields": data}
    try:
        return ClaimSchema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(schema)"
        raise ValueError(f"not a claim schema: {where}: {first['msg']}") from None


def _overrides(raw: str) -> dict[str, dict[str, list[str]]]:
    from core.phrasebook import parse_overrides

    return parse_overrides(raw)


@dataclass(frozen=True)
class Option:
    """One run-time option: its key in the store (after the key prefix), how its text is read, and
    its app-setting fallback."""

    name: str
    setting: str  # the app setting it falls back to (for the docs and the logs)
    fallback: Callable[[Settings], Any]
    parse: Callable[[str], Any] | None = None  # None: validated by the snapshot field's type


OPTIONS: tuple[Option, ...] = (
    Option("answer_soft_timeout_s", "LLM__FILLER_AFTER_S", lambda s: s.llm.filler_after_s),
    Option("answer_hard_timeout_s", "LLM__ANSWER_HARD_TIMEOUT_S", lambda s: s.llm.answer_hard_timeout_s),
    Option(
        "callback_window_hours",
        "CONVERSATION__CALLBACK_WINDOW_HOURS",
        lambda s: s.conversation.callback_window_hours,
    ),
    Option(
        "phone_silence_timeout_s", "ACS__INITIAL_SILENCE_TIMEOUT_S", lambda s: s.acs.initial_silence_timeout_s
    ),
    Option("recognition_retries", "CONVERSATION__SILENCE_RETRIES", lambda s: s.conversation.silence_retries),
    Option(
        "recognition_completion_timeout_s",
        "ACS__END_SILENCE_TIMEOUT_S",
        lambda s: s.acs.end_silence_timeout_s,
    ),
    Option("recording_enabled", "ACS__RECORDING_ENABLED", lambda s: s.acs.recording_enabled),
    Option("slow_llm_for_chat", "LLM__SLOW_LLM_FOR_CHAT", lambda s: s.llm.slow_llm_for_chat),
    Option("default_task", "CONVERSATION__DEFAULT_TASK", lambda s: s.conversation.default_task),
    Option("default_claim_schema", "(built-in insurance claim)", lambda s: None, _json_schema),
    Option(
        "prompt_overrides",
        "CONVERSATION__PROMPTS_OVERRIDE_JSON",
        lambda s: s.conversation.prompt_overrides,
        _overrides,
    ),
)
OPTION_NAMES = tuple(option.name for option in OPTIONS)


def from_settings(settings: Settings, source: str = "app settings") -> RuntimeSnapshot:
    """Every option from its app setting (no store, or a store not read yet)."""
    return RuntimeSnapshot.model_validate(
        {option.name: option.fallback(settings) for option in OPTIONS} | {"source": source}
    )


def _adapter(name: str) -> TypeAdapter[Any]:
    """A validator of one snapshot field, with its constraints (gt, le...)."""
    from typing import Annotated, cast

    field = RuntimeSnapshot.model_fields[name]
    form: Any = field.annotation
    if field.metadata:
        form = cast(Any, Annotated)[(field.annotation, *field.metadata)]
    return TypeAdapter(form)


def parse_value(option: Option, raw: str) -> Any:
    """The value of one option from the store's text, or ValueError saying why not."""
    if option.parse is not None:
        return option.parse(raw)
    text = raw.strip()
    try:
        return _adapter(option.name).validate_python(text if option.name == "default_task" else text or None)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


def build_snapshot(
    settings: Settings,
    raw: Mapping[str, str],
    previous: RuntimeSnapshot,
    *,
    source: str,
) -> RuntimeSnapshot:
    """The snapshot of the store's values (`raw`: option name -> text). A key absent from the store
    takes its app setting; an invalid value is logged and the previous value kept."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        if option.name not in raw:
            values[option.name] = option.fallback(settings)
            continue
        try:
            values[option.name] = parse_value(option, raw[option.name])
        except ValueError as exc:
            kept = getattr(previous, option.name)
            log.warning(
                "run-time option %s: %.80r rejected (%s); keeping %.80r",
                option.name,
                raw[option.name],
                exc,
                kept,
            )
            values[option.name] = kept
    if values["answer_soft_timeout_s"] >= values["answer_hard_timeout_s"]:
        log.warning(
            "run-time options: answer_soft_timeout_s %s is not below answer_hard_timeout_s %s; keeping %s and %s",
            values["answer_soft_timeout_s"],
            values["answer_hard_timeout_s"],
            previous.answer_soft_timeout_s,
            previous.answer_hard_timeout_s,
        )
        values["answer_soft_timeout_s"] = previous.answer_soft_timeout_s
        values["answer_hard_timeout_s"] = previous.answer_hard_timeout_s
    return RuntimeSnapshot.model_validate(values | {"source": source})


class StaticRuntimeConfig:
    """core.ports.RuntimeConfig without a store: the app settings, read once."""

    def __init__(self, settings: Settings) -> None:
        self._snapshot = from_settings(settings)

    def current(self) -> RuntimeSnapshot:
        return self._snapshot

    async def snapshot(self) -> RuntimeSnapshot:
        return self._snapshot

    async def close(self) -> None:
        return None
