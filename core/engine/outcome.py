"""What a turn produces: speakable chunks, actions for the call flow, and the change to the call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.models import Call, Style


@dataclass(frozen=True)
class Speech:
    """One speakable chunk. `language` is set when the model switched language during the turn."""

    text: str
    style: Style = Style.NONE
    language: str = ""


@dataclass
class TransferToAgent:
    number: str


@dataclass
class EndCall:
    pass


@dataclass
class ChangeLanguage:
    code: str


TurnAction = TransferToAgent | EndCall | ChangeLanguage


def _no_change(call: Call) -> bool:
    return False


@dataclass
class TurnOutcome:
    # Apply to the freshest call (re-appliable on ETag retry; a no-op once the turn's messages are there).
    mutation: Callable[[Call], bool | None] = _no_change
    actions: list[TurnAction] = field(default_factory=list)
    spoken: list[Speech] = field(default_factory=list)
    llm_first_sentence_ms: float | None = None
    error: str | None = None
    # Extras (not needed by the call flow): the turn stopped because should_stop said so; the content
    # filter refused the input; estimated prompt tokens of every request the turn made.
    superseded: bool = False
    content_filtered: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
