"""What a turn said, as it happened: the sentences requested (core.callflow.speaker), the answer
latency (measured at the first one), and what is left to say after the turn is stored.

The first sentence is claimed in the inbox while the model thinks (an earlier attempt of a redelivered
event may have said it already), and only a hang-up (CallGone) means the line is gone: any other
refusal of ACS leaves the sentence to be said with the next one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.callflow.context import TurnHandle
from core.models import Message, OperationContext, SpokenText

if TYPE_CHECKING:
    from core.engine.outcome import TurnOutcome
    from core.engine.turn import Turn


@dataclass
class SpokenTurn:
    """What a turn said, as it happened."""

    handle: TurnHandle
    turn: Turn | None = None
    first_context: OperationContext | None = None
    last_sentence: OperationContext | None = None
    # The index of the next sentence (sentences and later plays are numbered in one sequence).
    next_index: int = 0
    answer_latency_ms: float | None = None
    line_dead: bool = False
    # The caller hung up (or the call ended elsewhere): say nothing more, but let the model finish.
    hung_up: bool = False
    # A first sentence ACS refused (not a hang-up): it is said with the next one.
    first_failed: bool = False
    # An earlier attempt of this event spoke: this one skips what it said.
    replaying: bool = False
    # A listening recognize (think, filler) runs that no sentence replaced: what follows replaces it.
    listening: bool = False
    said_before: asyncio.Task[bool] | None = None
    rest: list[SpokenText] = field(default_factory=list)
    # The texts of the sentences requested, in order.
    said: list[str] = field(default_factory=list)
    extra_messages: list[Message] = field(default_factory=list)

    @property
    def outcome(self) -> TurnOutcome | None:
        try:
            return self.turn.outcome if self.turn is not None else None
        except RuntimeError:  # given up (hard timeout) before the turn had started
            return None

    @property
    def silent(self) -> bool:
        return self.line_dead or self.hung_up

    @property
    def first_pending(self) -> bool:
        """The first sentence is still to be said (neither requested nor refused)."""
        return self.first_context is None and not self.first_failed

    def last_context(self) -> OperationContext:
        """The context of the turn's last sentence: a hang-up or transfer waits for it to end."""
        turn_id = self.handle.turn_id
        if self.rest:
            return OperationContext.turn(turn_id, self.next_index + len(self.rest) - 1)
        return (
            self.last_sentence
            or self.first_context
            or OperationContext.turn(turn_id, OperationContext.SILENT)
        )


def said_key(turn_id: str) -> str:
    """The inbox key claimed by the first attempt that says a turn's first sentence."""
    return f"{turn_id}#said"
