"""The far end of the line: a simulated person following a script, or a person typing in a terminal."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from local.acs_emulator.clock import Clock
from local.acs_emulator.script import Dtmf, Expect, Hangup, Say, Script, Silence, Step
from local.acs_emulator.transcript import Transcript

# Simulated seconds per character of speech, and per DTMF key.
SPEECH_S_PER_CHAR = 0.05
DTMF_S_PER_TONE = 0.2


@dataclass
class Listening:
    """An active recognize operation, as the caller perceives it."""

    input_type: str  # speech | dtmf | speechOrDtmf | choices
    initial_silence_s: float
    end_silence_s: float
    interrupt_prompt: bool
    prompt_s: float
    speech_language: str
    choices: list[dict[str, object]] = field(default_factory=list)

    @property
    def accepts_speech(self) -> bool:
        return self.input_type in ("speech", "speechOrDtmf", "choices")

    @property
    def accepts_dtmf(self) -> bool:
        return self.input_type in ("dtmf", "speechOrDtmf", "choices")


@dataclass
class SpeechReply:
    text: str
    language: str | None
    barged_in: bool = False


@dataclass
class DtmfReply:
    tones: str
    barged_in: bool = False


@dataclass
class SilenceReply:
    pass


@dataclass
class HangupReply:
    pass


Reply = SpeechReply | DtmfReply | SilenceReply | HangupReply


class Caller(Protocol):
    interactive: bool

    def heard(self, text: str) -> None: ...
    async def respond(self, listening: Listening) -> Reply: ...
    def after_media(self, media_idle: bool, completed: bool = True) -> None:
        """A media operation ended (``completed``: not canceled), or the call connected."""
        ...

    def on_media_started(self) -> None: ...
    def on_connected(self) -> None: ...
    def on_call_end(self) -> None: ...


class ScriptedCaller:
    """Follows a script. ``say``/``dtmf``/``silence`` steps are played out when the bot listens (a
    recognize runs); ``expect`` steps are matched against what the bot plays; ``hangup`` happens as
    soon as it is reached and no media operation is running. When the script runs out, the caller
    hangs up at the bot's next recognize, or after ``idle_hangup_s`` of bot silence.

    Like a person, the caller takes a turn only when the bot leaves one: a recognize whose initial
    silence is 0 (the bot goes on talking) gets no answer but a barge-in, and after speaking the
    caller waits for the bot to say something before speaking again (a ``while_thinking`` step does
    not wait: it is said into whatever recognition runs, a bot still thinking included)."""

    interactive = False

    def __init__(
        self,
        script: Script,
        transcript: Transcript,
        clock: Clock,
        hang_up: Callable[[], None],
        idle_hangup_s: float,
    ) -> None:
        self.script = script
        self._steps: list[Step] = list(script.steps)
        self._index = 0
        self._transcript = transcript
        self._clock = clock
        self._hang_up = hang_up
        self._idle_hangup_s = idle_hangup_s
        self._timers: set[asyncio.Task[None]] = set()
        self._idle_timer: asyncio.Task[None] | None = None
        self._heard_since_expect: list[str] = []
        self._ended = False
        self._media_idle = True
        # The caller spoke and the bot has said nothing since: waiting for the answer. Only speech
        # heard to its end counts (a sentence cut by the caller's interruption does not).
        self._awaiting_answer = False
        self._heard_in_op = False

    # -- steps -------------------------------------------------------------------------------
    def _current(self) -> Step | None:
        return self._steps[self._index] if self._index < len(self._steps) else None

    @property
    def exhausted(self) -> bool:
        return self._index >= len(self._steps)

    def _advance(self) -> None:
        self._index += 1
        self._heard_since_expect = []
        step = self._current()
        if isinstance(step, Expect) and step.within is not None:
            self._start_timer(self._expect_deadline(self._index, step.within))

    def _start_timer(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _expect_deadline(self, index: int, within: float) -> None:
        await asyncio.sleep(within)
        step = self._current()
        if self._index == index and isinstance(step, Expect) and not self._ended:
            self._fail_expect(step, f"not said within {within} s")
            self.after_media(self._media_idle)

    def _fail_expect(self, step: Expect, reason: str) -> None:
        self._transcript.add(
            "expectation_failed",
            who="caller",
            pattern=step.pattern.pattern,
            reason=reason,
            heard=list(self._heard_since_expect),
        )
        self._advance()

    # -- hooks called by the call -------------------------------------------------------------
    def on_connected(self) -> None:
        step = self._current()
        if isinstance(step, Expect) and step.within is not None:
            self._start_timer(self._expect_deadline(self._index, step.within))
        self.after_media(True)

    def heard(self, text: str) -> None:
        self._heard_in_op = True
        self._heard_since_expect.append(text)
        step = self._current()
        if not isinstance(step, Expect):
            return
        candidates = [text, " ".join(self._heard_since_expect)]
        if any(step.pattern.search(c) for c in candidates):
            self._transcript.add("expectation_met", who="caller", pattern=step.pattern.pattern, text=text)
            self._advance()

    def after_media(self, media_idle: bool, completed: bool = True) -> None:
        """Called when a media operation ends (and at connect): act on steps that need no listener."""
        if completed and self._heard_in_op:
            self._awaiting_answer = False
        self._heard_in_op = False
        self._media_idle = media_idle
        if self._ended:
            return
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        step = self._current()
        if isinstance(step, Hangup) and media_idle:
            self._advance()
            self._transcript.add("caller_hangup", who="caller", reason="script")
            self._hang_up()
            return
        if self.exhausted and media_idle:
            self._idle_timer = asyncio.get_running_loop().create_task(self._idle_hangup())

    async def _idle_hangup(self) -> None:
        await asyncio.sleep(self._idle_hangup_s)
        if not self._ended and self.exhausted:
            self._transcript.add("caller_hangup", who="caller", reason="script exhausted, bot silent")
            self._hang_up()

    def on_media_started(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self._media_idle = False

    def on_call_end(self) -> None:
        if self._ended:
            return
        self._ended = True
        for task in list(self._timers):
            task.cancel()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        for step in self._steps[self._index :]:
            if isinstance(step, Expect):
                self._transcript.add(
                    "expectation_failed",
                    who="caller",
                    pattern=step.pattern.pattern,
                    reason="call ended",
                    heard=list(self._heard_since_expect),
                )
                self._heard_since_expect = []

    # -- listening -------------------------------------------------------------------------
    def _no_turn(self, listening: Listening) -> bool:
        """The bot leaves the caller no turn in this recognition (see the class docstring)."""
        step = self._current()
        if isinstance(step, Say) and step.while_thinking:
            return False
        barge = isinstance(step, Say) and step.barge_in
        if listening.initial_silence_s <= 0:
            interrupts = isinstance(step, Dtmf) or barge
            return not (interrupts and listening.interrupt_prompt and listening.prompt_s > 0)
        waiting = self._awaiting_answer and listening.input_type == "speech" and listening.prompt_s <= 0
        return waiting and not isinstance(step, Hangup)

    async def respond(self, listening: Listening) -> Reply:
        reply = await self._respond(listening)
        if isinstance(reply, SpeechReply | DtmfReply):
            # Who spoke waits for an answer; keys pressed to a menu do not expect one.
            self._awaiting_answer = isinstance(reply, SpeechReply)
            self._heard_in_op = False  # the prompt it answered is not an answer to it
        return reply

    async def _respond(self, listening: Listening) -> Reply:
        if self._no_turn(listening):
            # Silent through this recognition: it ends by its timeout, or is canceled.
            await self._clock.sleep(listening.prompt_s + listening.initial_silence_s)
            return SilenceReply()
        silence_spent = 0.0  # simulated silence already spent in this recognition, after the prompt
        while True:
            step = self._current()
            if step is None:
                self._transcript.add("caller_hangup", who="caller", reason="script exhausted")
                return HangupReply()
            if isinstance(step, Expect):
                self._fail_expect(step, "the bot started listening before saying it")
                continue
            if isinstance(step, Hangup):
                self._advance()
                self._transcript.add("caller_hangup", who="caller", reason="script")
                return HangupReply()
            if isinstance(step, Say):
                if not listening.accepts_speech:
                    self._advance()
                    self._transcript.add(
                        "caller_said", who="caller", text=step.text, language=step.language, ignored=True
                    )
                    silence_spent += len(step.text) * SPEECH_S_PER_CHAR
                    continue
                barge = step.barge_in and listening.interrupt_prompt and listening.prompt_s > 0
                await self._clock.sleep(0 if barge else listening.prompt_s + silence_spent)
                self._transcript.add(
                    "caller_said", who="caller", text=step.text, language=step.language, barge_in=barge
                )
                await self._clock.sleep(len(step.text) * SPEECH_S_PER_CHAR + listening.end_silence_s)
                self._advance()
                return SpeechReply(step.text, step.language, barge)
            if isinstance(step, Dtmf):
                if not listening.accepts_dtmf:
                    self._advance()
                    self._transcript.add("caller_dtmf", who="caller", tones=step.tones, ignored=True)
                    continue
                barge = listening.interrupt_prompt and listening.prompt_s > 0
                await self._clock.sleep(0 if barge else listening.prompt_s + silence_spent)
                self._transcript.add("caller_dtmf", who="caller", tones=step.tones, barge_in=barge)
                await self._clock.sleep(len(step.tones) * DTMF_S_PER_TONE)
                self._advance()
                return DtmfReply(step.tones, barge)
            if isinstance(step, Silence):
                window = max(0.0, listening.initial_silence_s - silence_spent)
                if step.remaining >= window:
                    step.remaining -= window
                    await self._clock.sleep(listening.prompt_s + listening.initial_silence_s)
                    self._transcript.add("caller_silence", who="caller", seconds=window)
                    if step.remaining <= 1e-9:
                        self._advance()
                    return SilenceReply()
                silence_spent += step.remaining
                self._transcript.add("caller_silence", who="caller", seconds=step.remaining)
                self._advance()
                continue


@dataclass
class _Input:
    kind: str  # say | dtmf
    value: str
    language: str | None = None


class InteractiveCaller:
    """A person typing: lines and keys are queued and answer the next recognize. Timeouts run in real
    time (at least speed 1), so a person has time to type."""

    interactive = True

    def __init__(self, transcript: Transcript, clock: Clock, hang_up: Callable[[], None]) -> None:
        self._transcript = transcript
        self._clock = clock
        self._hang_up = hang_up
        self._inputs: asyncio.Queue[_Input] = asyncio.Queue()
        self._arrived = asyncio.Event()

    def say(self, text: str, language: str | None = None) -> None:
        self._inputs.put_nowait(_Input("say", text, language))
        self._arrived.set()

    def dtmf(self, tones: str) -> None:
        self._inputs.put_nowait(_Input("dtmf", tones))
        self._arrived.set()

    def hangup(self) -> None:
        self._transcript.add("caller_hangup", who="caller", reason="person")
        self._hang_up()

    def heard(self, text: str) -> None:
        pass

    def after_media(self, media_idle: bool, completed: bool = True) -> None:
        pass

    def on_media_started(self) -> None:
        pass

    def on_connected(self) -> None:
        pass

    def on_call_end(self) -> None:
        pass

    async def respond(self, listening: Listening) -> Reply:
        scale = max(1.0, self._clock.speed)
        loop = asyncio.get_running_loop()
        prompt_end = loop.time() + listening.prompt_s * scale
        deadline = prompt_end + listening.initial_silence_s * scale
        while True:
            if self._inputs.empty():
                self._arrived.clear()
                remaining = deadline - loop.time()
                if remaining <= 0:
                    self._transcript.add("caller_silence", who="caller", seconds=listening.initial_silence_s)
                    return SilenceReply()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                continue
            item = self._inputs.get_nowait()
            barge = listening.interrupt_prompt and loop.time() < prompt_end
            if not barge and loop.time() < prompt_end:
                await asyncio.sleep(prompt_end - loop.time())
            if item.kind == "say":
                if not listening.accepts_speech:
                    self._transcript.add("caller_said", who="caller", text=item.value, ignored=True)
                    continue
                self._transcript.add(
                    "caller_said", who="caller", text=item.value, language=item.language, barge_in=barge
                )
                await self._clock.sleep(listening.end_silence_s)
                return SpeechReply(item.value, item.language, barge)
            if not listening.accepts_dtmf:
                self._transcript.add("caller_dtmf", who="caller", tones=item.value, ignored=True)
                continue
            self._transcript.add("caller_dtmf", who="caller", tones=item.value, barge_in=barge)
            return DtmfReply(item.value, barge)
