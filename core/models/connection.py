"""The live phone connection of a call: typed state with pure transitions that say what they decided.

A call document outlives its connections (a caller who calls back resumes the case on a new one), so
everything here is reset on resume. Transitions never do I/O: the call flow applies them to the fresh
stored call (re-applied on an ETag conflict) and acts on what they return.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from core.models.speech import SpokenText
from core.models.verification import PendingResume

# Plays whose end was seen, kept for a pending action's check; older ones cannot matter any more.
PLAYED_MEMORY = 8


class EndingKind(StrEnum):
    HANGUP = "hangup"
    TRANSFER = "transfer"


class PendingAction(BaseModel):
    """A hang-up or transfer that waits for its announcement (the play of ``context``) to end."""

    kind: EndingKind
    context: str
    started: bool = False


class TurnFollowUp(BaseModel):
    """What a persisted turn still had to do when it was written: say ``prompts`` (numbered from
    ``first_index``), then listen, or let its pending ending run. A redelivery of the turn's event
    (the follow-up failed) resumes from here instead of running the turn again."""

    turn_id: str
    prompts: list[SpokenText] = Field(default_factory=list)
    first_index: int = 1
    ending: bool = False
    # The listening of the turn (while the model thought) still runs: the follow-up replaces it.
    replace_listening: bool = False


class Connection(BaseModel):
    # Connection id whose CallConnected was handled (the greeting is said once per connection).
    greeted: str | None = None
    server_call_id: str | None = None
    # The turn whose end is not yet persisted; a play of it may announce its ending.
    open_turn: str | None = None
    ending: bool = False
    pending: PendingAction | None = None
    played: list[str] = Field(default_factory=list)
    choice_attempts: int = 0
    transferred: bool = False
    recording: str | None = None
    # An earlier case this call takes up once the caller proves it is theirs (core.models.verification).
    held_case: PendingResume | None = None
    follow_up: TurnFollowUp | None = None

    @property
    def accepts_speech(self) -> bool:
        return not self.ending

    def greet(self, connection_id: str, server_call_id: str) -> bool:
        """False when this connection was greeted already (a redelivered CallConnected)."""
        if self.greeted == connection_id:
            return False
        self.greeted = connection_id
        if server_call_id:
            self.server_call_id = server_call_id
        return True

    def ungreet(self, connection_id: str) -> bool:
        """The greeting could not be said: let a redelivered CallConnected say it."""
        if self.greeted != connection_id:
            return False
        self.greeted = None
        return True

    def open(self, turn_id: str) -> None:
        self.open_turn = turn_id

    def close(self, turn_id: str) -> bool:
        if self.open_turn != turn_id:
            return False
        self.open_turn = None
        return True

    def is_open(self, turn_id: str) -> bool:
        return self.open_turn == turn_id

    def settled(self, turn_id: str) -> bool:
        """The turn was persisted without a hang-up or transfer: the end of its plays needs no action."""
        follow_up = self.follow_up
        return follow_up is not None and follow_up.turn_id == turn_id and not follow_up.ending

    def resumable(self, turn_id: str) -> TurnFollowUp | None:
        """The follow-up of ``turn_id`` when that turn was persisted (its event is being redelivered)."""
        follow_up = self.follow_up
        return (
            follow_up.model_copy(deep=True)
            if follow_up is not None and follow_up.turn_id == turn_id
            else None
        )

    def request_ending(self, kind: EndingKind, context: str, *, silent: bool = False) -> bool:
        """Announce-then-act: remember the action until ``context`` has been played. A silent ending
        (nothing to announce) counts as played at once. False when an ending is already under way."""
        if self.ending:
            return False
        self.ending = True
        self.pending = PendingAction(kind=kind, context=context)
        if silent:
            self.mark_played(context)
        return True

    def mark_played(self, context: str) -> None:
        kept = [p for p in self.played if p != context][-(PLAYED_MEMORY - 1) :]
        self.played = [*kept, context]

    def waits_for(self, context: str) -> bool:
        return self.pending is not None and self.pending.context == context and not self.pending.started

    def start_pending(self) -> PendingAction | None:
        """The pending action, marked started, once its announcement was played; else None. Whoever
        learns second (the play's end or the turn's end) gets it, exactly once."""
        pending = self.pending
        if pending is None or pending.started or pending.context not in self.played:
            return None
        pending.started = True
        return pending.model_copy()

    def retry_pending(self, context: str) -> None:
        """The action failed to start: let a redelivery run it again."""
        if self.pending is not None and self.pending.context == context:
            self.pending.started = False

    def cancel_ending(self) -> None:
        self.ending = False
        self.pending = None

    def accept_transfer(self) -> bool:
        if self.transferred:
            return False
        self.transferred = True
        self.pending = None
        return True

    def set_recording(self, state: str) -> bool:
        if self.recording == state:
            return False
        self.recording = state
        return True

    def fail_choice(self, max_attempts: int) -> bool:
        """One more failed language choice; True when the menu gives up (keep the default)."""
        self.choice_attempts += 1
        return self.choice_attempts > max_attempts
