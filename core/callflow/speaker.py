"""How an answer reaches the caller: every sentence the moment it is complete, every one interruptible.

What ACS Call Automation offers (the 2025-06-15 contract):
- a plain play cannot be interrupted by the caller's voice; the prompts of a recognize can
  (``interruptPrompt``): the caller's first words stop the prompt and are recognized;
- the media operations of a call run one at a time, in the order they were requested; one with
  ``interruptCallMediaOperation`` cancels what runs and what is queued, and starts at once;
- a recognize's prompts are fixed when it is requested, and no event says when they finished playing;
- ``initialSilenceTimeoutInSeconds`` goes from 0 to 300.

The design: each sentence is its own recognize, with the sentence as its only prompt, barge-in on, and
an initial silence of 0 ("more is coming: do not wait after the prompt"), requested as soon as the
sentence is complete. ACS queues them, so each starts the instant the one before ends: no gap while the
model stays ahead of the voice (a voice says about 3 tokens a second; models stream 8 to 100), across
tool rounds too. Every sentence is interruptible: a caller who speaks during any of them stops it and is
heard; the new turn cancels the sentences still queued (core.callflow.turns). When the answer is
complete, one recognize with no prompt and the normal silence timeouts, queued after the last sentence,
listens for the reply (core.callflow.turn_follow_up).

While the model thinks (from the caller's last words to the first sentence) a recognize with no prompt
listens (part ``think``), so words said then start a newer turn instead of being lost. The first
sentence (or the filler, past the soft timeout) is requested with ``interruptCallMediaOperation``: it
replaces that listening at once instead of queuing behind it.

Trade-offs:
- Each sentence costs one ACS request and, when the caller lets it finish, one RecognizeFailed (8510)
  callback. That event is idempotent and handled without an inbox claim, but it is an invocation.
- When the model falls behind the voice (a long tool round mid-answer, or a very slow model) the gap is
  silent and nothing listens: words said entirely within it are not heard, though a caller still
  speaking when the next sentence starts interrupts it and is heard. Listening in the gap would need
  to know when the prompt before it ended, so as not to cut it, and ACS does not say.
- The filler is a sentence like the others (interruptible, no wait after it): between its end and the
  first sentence of the answer nothing listens. A listening after it could only be replaced by the
  answer at the risk of cutting the filler short, and a person waits for the answer after "one
  moment" anyway.
- Not chosen: plays with a recognize only at the end (the reference project's design), which leave every
  sentence but the last uninterruptible; holding sentences back to send fewer, longer recognizes, which
  delays the first sound by the time the model takes to write them.
- The goodbye before a hang-up stays a plain play: the call ends after it whatever the caller says.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.callflow.answer import SpokenTurn, said_key
from core.callflow.context import FlowContext
from core.errors import CallGone, StoreUnavailable, TelephonyError
from core.models import Call, OperationContext, SpokenText

# ACS's bound for a recognize's initial silence.
MAX_LISTEN_S = 300.0


def sentence_key(turn_id: str, text: str) -> str:
    """The inbox key of a sentence a failed attempt of a turn said (the same text is said once)."""
    from core.engine.sentences import normalize_sentence

    digest = hashlib.sha256(normalize_sentence(text).encode()).hexdigest()[:16]
    return f"{turn_id}#said#{digest}"


@dataclass
class Speaker:
    """Sends one turn's sentences, in order, as they come (see the module docstring)."""

    ctx: FlowContext
    call: Call
    connection_id: str
    result: SpokenTurn
    received_at: float
    cancel: asyncio.Task[None] | None = None
    # Looks at the store before a later sentence (core.callflow.turns.StoreWatch).
    before_sentence: Callable[[], Awaitable[None]] | None = None
    _think: asyncio.Task[None] | None = None
    # Sentences ACS refused (not a hang-up): said with the next one, or after the answer.
    _carry: list[SpokenText] = field(default_factory=list)

    def listen_while_thinking(self, seconds: float) -> None:
        """Start the recognition that hears the caller while the model thinks (best effort)."""
        self._think = asyncio.create_task(self._thinking(seconds))

    async def _thinking(self, seconds: float) -> None:
        if self.cancel is not None:
            await asyncio.wait({self.cancel})  # after the cancel of older media, never before it
        if not await self._first_time():
            return  # a redelivery: its earlier attempt spoke, there is nothing to listen in front of
        context = OperationContext.turn(self.result.handle.turn_id, OperationContext.THINK)
        try:
            await self.ctx.recognize(
                self.call, self.connection_id, context, initial_silence_s=min(MAX_LISTEN_S, seconds)
            )
        except CallGone:
            self.result.line_dead = True
        except TelephonyError as exc:
            self.ctx.log.info("listening while thinking on %s: %s", self.connection_id, exc)
        else:
            self.result.listening = True

    async def filler(self, text: SpokenText) -> None:
        """The soft timeout passed: say so (interruptible, in place of the listening)."""
        await self._ordered()
        context = OperationContext.turn(self.result.handle.turn_id, OperationContext.FILLER)
        with contextlib.suppress(TelephonyError):
            await self.ctx.recognize(
                self.call,
                self.connection_id,
                context,
                [text],
                initial_silence_s=0,
                interrupt_media=self.result.listening,
            )
            self.result.listening = False

    async def say(self, spoken: SpokenText) -> None:
        """The next complete sentence of the answer."""
        result = self.result
        if result.silent:
            return
        if result.first_pending:
            await self._first(spoken)
            return
        if self.before_sentence is not None:
            await self.before_sentence()
        if result.silent or not self.ctx.memory.is_current(result.handle):
            return
        if not result.replaying or await self._unsaid(spoken.text):
            await self._sentence(spoken, interrupt=result.listening)

    def leftover(self) -> None:
        """The answer is complete: what ACS refused is said with the listening that follows."""
        self.result.rest[:0] = self._carry
        self._carry = []

    async def close(self) -> None:
        if self._think is not None and not self._think.done():
            await asyncio.wait({self._think})

    async def _ordered(self) -> None:
        """Requests reach ACS in order: the cancel of older media, then the listening, then speech."""
        if self.cancel is not None:
            await asyncio.wait({self.cancel})
        if self._think is not None:
            await asyncio.wait({self._think})

    async def _first(self, spoken: SpokenText) -> None:
        result = self.result
        await self._ordered()
        if not await self._first_time():
            # Said by an earlier attempt of this event: so may be more (see remember_said).
            result.first_context = OperationContext.turn(result.handle.turn_id, 0)
            result.next_index = 1
            result.replaying = True
            return
        if await self._sentence(spoken, interrupt=result.listening):
            result.answer_latency_ms = (time.perf_counter() - self.received_at) * 1000
        elif not result.line_dead:
            result.first_failed = True
            with contextlib.suppress(StoreUnavailable):
                await self.ctx.services.inbox.release(result.handle.call_id, said_key(result.handle.turn_id))

    async def _sentence(self, spoken: SpokenText, *, interrupt: bool) -> bool:
        """Request one sentence; False when ACS refused it (kept for later) or the line is gone."""
        result = self.result
        index = result.next_index
        context = OperationContext.turn(result.handle.turn_id, index)
        prompts = [*self._carry, spoken]
        try:
            await self.ctx.recognize(
                self.call,
                self.connection_id,
                context,
                prompts,
                initial_silence_s=0,
                interrupt_media=interrupt,
                language=spoken.language,
            )
        except CallGone as exc:
            self.ctx.log.info("sentence on %s failed (%s); the line is gone", self.connection_id, exc)
            result.line_dead = True
            return False
        except TelephonyError as exc:
            self.ctx.log.warning("sentence on %s refused (%s); said with the next", self.connection_id, exc)
            self._carry = prompts
            return False
        self._carry = []
        result.listening = False
        result.said.extend(p.text for p in prompts)
        result.next_index = index + 1
        result.last_sentence = context
        if result.first_context is None:
            result.first_context = context
        return True

    async def remember_said(self) -> None:
        """The turn failed (its event comes again): record in the inbox what the caller heard after
        the first sentence (claimed already), so the next attempt skips it (best effort)."""
        inbox, handle = self.ctx.services.inbox, self.result.handle
        for text in self.result.said[1:]:
            with contextlib.suppress(Exception):
                await inbox.claim(handle.call_id, sentence_key(handle.turn_id, text))

    async def _unsaid(self, text: str) -> bool:
        """False when an earlier attempt of this event said this sentence (remember_said)."""
        handle = self.result.handle
        try:
            return await self.ctx.services.inbox.claim(handle.call_id, sentence_key(handle.turn_id, text))
        except StoreUnavailable:
            return True  # better said twice than not at all

    async def _first_time(self) -> bool:
        """False when an earlier attempt of this event said the first sentence already."""
        claim = self.result.said_before
        if claim is None:
            return True
        try:
            return await claim
        except StoreUnavailable as exc:  # better said twice than not at all
            self.ctx.log.warning("first-sentence claim failed: %s", exc)
            return True
