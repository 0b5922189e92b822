"""A scripted caller who also texts the bot during the call (the ``sms`` steps of a conversation's
script). The script is cut at each ``sms`` step: the parts between are played by the emulator's own
scripted caller, and a text is sent when the caller reaches it and the bot listens (its answer so far
is over), through the emulator's inbound SMS, so the product gets the real SMSReceived event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from local.acs_emulator.caller import HangupReply, Listening, Reply, ScriptedCaller, SilenceReply, SpeechReply
from local.acs_emulator.clock import Clock

# Plays one part of the script (emulator steps): the emulator's scripted caller for that part.
PartFactory = Callable[[list[dict[str, Any]]], ScriptedCaller]


def split_script(steps: list[dict[str, Any]]) -> list[str | list[dict[str, Any]]]:
    """The script as parts: emulator steps (a list) and texts (a string), in order."""
    parts: list[str | list[dict[str, Any]]] = []
    for step in steps:
        if "sms" in step:
            parts.append(str(step["sms"]))
        elif parts and isinstance(parts[-1], list):
            parts[-1].append(step)
        else:
            parts.append([step])
    return parts


def has_texts(steps: list[dict[str, Any]] | None) -> bool:
    return any("sms" in step for step in steps or [])


class TextingCaller:
    """The emulator's Caller protocol over the parts of a script; ``send_sms`` texts the bot and returns
    once the product has handled the text (its SMSReceived delivery ended). Like the scripted caller, it
    texts only when the bot leaves a turn: not while the bot goes on talking, and not before the bot
    has answered what the caller just said."""

    interactive = False

    def __init__(
        self,
        steps: list[dict[str, Any]],
        part: PartFactory,
        send_sms: Callable[[str], Awaitable[None]],
        clock: Clock,
    ) -> None:
        self._parts = split_script(steps)
        self._make_part = part
        self._send_sms = send_sms
        self._clock = clock
        self._awaiting_answer = False  # the caller spoke; the bot has not answered yet
        self._heard_in_op = False
        self._texted = False  # the last thing the caller did was a text
        self._index = 0
        self._playing: ScriptedCaller | None = None
        self._played: list[ScriptedCaller] = []
        self._start_part()

    def _start_part(self) -> None:
        """Make the current part's caller; a text part has none (the caller waits to send it)."""
        self._playing = None
        if self._index < len(self._parts):
            current = self._parts[self._index]
            if isinstance(current, list):
                self._playing = self._make_part(current)
                self._played.append(self._playing)

    def _next_part(self) -> None:
        self._index += 1
        self._start_part()

    @property
    def _more_after(self) -> bool:
        return self._index + 1 < len(self._parts)

    # -- the Caller protocol ----------------------------------------------------------------------
    def heard(self, text: str) -> None:
        self._heard_in_op = True
        if self._playing is not None:
            self._playing.heard(text)

    def after_media(self, media_idle: bool, completed: bool = True) -> None:
        if completed and self._heard_in_op:
            self._awaiting_answer = False
        self._heard_in_op = False
        # A finished part that is not the last must not hang up when the bot goes quiet.
        if self._playing is not None and not (self._playing.exhausted and self._more_after):
            self._playing.after_media(media_idle, completed)

    def on_media_started(self) -> None:
        if self._playing is not None:
            self._playing.on_media_started()

    def on_connected(self) -> None:
        if self._playing is not None:
            self._playing.on_connected()

    def on_call_end(self) -> None:
        for played in self._played:
            played.on_call_end()

    def _no_turn(self, listening: Listening) -> bool:
        if listening.initial_silence_s <= 0:
            return True  # the bot goes on talking
        return self._awaiting_answer and listening.input_type == "speech" and listening.prompt_s <= 0

    async def respond(self, listening: Listening) -> Reply:
        reply = await self._respond(listening)
        if isinstance(reply, SpeechReply):
            self._awaiting_answer = True
            self._heard_in_op = False
        return reply

    async def _respond(self, listening: Listening) -> Reply:
        while self._index < len(self._parts):
            current = self._parts[self._index]
            if self._no_turn(listening) and (isinstance(current, str) or self._texted):
                # Silent through this recognition: it ends by its timeout, or is canceled.
                await self._clock.sleep(listening.prompt_s + listening.initial_silence_s)
                return SilenceReply()
            if isinstance(current, str):
                # Moved past first: when the product's answer to the text cancels this recognition,
                # the next one goes on with the rest of the script.
                self._next_part()
                # Who texted waits for the answer, as who spoke does (set first: the answer may cancel
                # this recognition while the text is being delivered).
                self._awaiting_answer, self._heard_in_op, self._texted = True, False, True
                await self._send_sms(current)
                await self._clock.sleep(listening.prompt_s + listening.initial_silence_s)
                return SilenceReply()
            assert self._playing is not None
            if self._playing.exhausted and self._more_after:
                self._next_part()
                continue
            self._texted = False
            reply = await self._playing.respond(listening)
            if self._playing.exhausted and self._more_after:
                self._next_part()
            return reply
        return HangupReply()
