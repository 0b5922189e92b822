"""What the bot says and asks, and the operation context that ties an ACS event back to it. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class SpokenText:
    """Text to say, with how to say it (the telephony adapter turns it into SSML)."""

    text: str
    voice: str
    language: str
    style: str = "none"
    rate: float = 1.0
    # The language's voice settings (core.models.language.LanguageOption): all optional.
    custom_voice_endpoint_id: str = ""
    lexicon_url: str = ""
    style_degree: float | None = None
    audio_effect: str = ""
    # Set: an audio file (a WAV URL ACS downloads) is played instead of the text (the hold sound).
    audio_url: str = ""


@dataclass(frozen=True)
class Choice:
    """One answer of a closed question: recognized by voice (any phrase) or by keypad (tone)."""

    label: str
    phrases: list[str] = field(default_factory=list)
    tone: str | None = None


class Purpose(StrEnum):
    """Why a media operation was started; ACS echoes it back in the operation's events."""

    GREETING = "greeting"  # the greeting played before the language menu
    CHOICE = "choice"  # the language menu (recognize choices)
    LISTEN = "listen"  # recognize speech, with the prompt the caller may interrupt
    TURN = "turn"  # a sentence of a turn's answer (part: its index, "filler" or "none")
    GOODBYE = "goodbye"  # the goodbye before a hang-up
    TRANSFER = "transfer"  # the transfer, ref: the context of its announcement


@dataclass(frozen=True)
class OperationContext:
    """The ``operationContext`` of a play, recognize or transfer: ``purpose:ref[:part]``.

    ``ref`` is the id of the event or turn that started the operation; a transfer's ref is the whole
    context of its announcement (so it may hold colons); only turn plays have a ``part``."""

    purpose: Purpose
    ref: str
    part: str | None = None

    # A turn that decided to end the call without saying anything: its "last play" never happens.
    SILENT = "none"
    FILLER = "filler"
    # The recognition that listens while the model thinks (core.callflow.speaker).
    THINK = "think"

    @classmethod
    def turn(cls, turn_id: str, part: int | str) -> OperationContext:
        return cls(Purpose.TURN, turn_id, str(part))

    def format(self) -> str:
        text = f"{self.purpose.value}:{self.ref}"
        return f"{text}:{self.part}" if self.part is not None else text

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, raw: str | None) -> OperationContext | None:
        """The context of an event, or None for one the product did not start (or garbled)."""
        if not raw or ":" not in raw:
            return None
        head, rest = raw.split(":", 1)
        try:
            purpose = Purpose(head)
        except ValueError:
            return None
        if purpose is Purpose.TURN:
            turn_id, sep, part = rest.rpartition(":")
            if not sep or not turn_id:
                return None
            return cls(purpose, turn_id, part)
        return cls(purpose, rest) if rest else None

    @property
    def is_turn_play(self) -> bool:
        """A sentence of a turn's answer (a play, or a recognize with it as its prompt)."""
        return self.purpose is Purpose.TURN and self.part not in (None, self.FILLER, self.THINK)

    @property
    def is_turn_listening(self) -> bool:
        """The recognition of a turn that only listens while the model thinks (think, filler)."""
        return self.purpose is Purpose.TURN and self.part in (self.FILLER, self.THINK)
