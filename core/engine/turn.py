"""One conversational turn: the caller's words and the call state in, speakable sentences out as the
model streams them, tools run, and the change to the call back as a re-appliable mutation."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from datetime import datetime
from typing import Any

from core.engine import limits, resume
from core.engine.history import Compaction, compact, digest_text
from core.engine.outcome import Speech, TransferToAgent, TurnOutcome
from core.engine.phrases import render_phrase
from core.engine.prompts import (
    history_messages,
    now_prompt,
    state_prompt,
    system_prompt,
    warm_templates,
)
from core.engine.safety import clean_caller_text
from core.engine.search import DocumentSearch, NoDocumentSearch
from core.engine.sentences import SentenceSplitter, normalize_sentence
from core.engine.tokens import estimate_prompt_tokens, estimate_tokens, trim_history
from core.engine.toolbox import ToolArgumentError, parse_arguments
from core.engine.tools import Operation, Toolbox
from core.errors import ContentFilteredError, ModelUnavailable
from core.models import Action, Call, Message, Persona, Style, ToolCall, utcnow
from core.ports import (
    ChatModel,
    Completed,
    EventInbox,
    Restarted,
    RuntimeConfig,
    RuntimeSnapshot,
    SmsSender,
    TextDelta,
)
from core.settings import Settings

log = logging.getLogger(__name__)


class TurnEngine:
    """Builds turns. One engine per worker; it holds no per-call state."""

    def __init__(
        self,
        settings: Settings,
        llm: ChatModel,
        *,
        sms: SmsSender | None = None,
        search: DocumentSearch | None = None,
        clock: Callable[[], datetime] | None = None,
        slow_llm: ChatModel | None = None,
        runtime: RuntimeConfig | None = None,
        inbox: EventInbox | None = None,
    ) -> None:
        self.settings = settings
        self.llm = llm
        # The slow model answers the conversation when the run-time option says so.
        self.slow_llm = slow_llm or llm
        self.runtime = runtime
        self.sms = sms
        self.inbox = inbox
        self.search: DocumentSearch = search or NoDocumentSearch()
        self.clock = clock or utcnow
        self.overrides = settings.conversation.prompt_overrides
        self.compaction = Compaction()

    def run(
        self,
        call: Call,
        caller_text: str | None,
        *,
        turn_id: str,
        stop: asyncio.Event | None = None,
        extra_messages: list[Message] | None = None,
    ) -> Turn:
        """Start a turn. `caller_text=None` continues after an event; messages the event produced can
        be passed as `extra_messages` (appended before the model runs, and by the mutation) or be
        already in `call.messages`. Once `stop` is set (the caller spoke again) the turn releases no
        further sentence."""
        # The run-time options are read once per turn, from the cache (no I/O).
        config = self.runtime.current() if self.runtime is not None else None
        return Turn(self, call, caller_text, turn_id, stop, list(extra_messages or []), config)

    def model_for(self, config: RuntimeSnapshot | None) -> ChatModel:
        return self.slow_llm if config is not None and config.slow_llm_for_chat else self.llm

    def prompt(self, call: Call, config: RuntimeSnapshot | None = None) -> list[dict[str, Any]]:
        """The chat messages sent for this call state, most stable first (see core.engine.prompts): the
        system prompt, the digest of older exchanges, the state, the recent exchanges (trimmed to the
        token budget if they ever exceed it), the time."""
        overrides = config.overrides if config is not None else self.overrides
        now, timezone = self.clock(), self.settings.conversation.timezone
        system = system_prompt(call, now=now, timezone=timezone, overrides=overrides)
        history = compact(call.messages, self.compaction)
        digest = digest_text(history)
        recent = trim_history(history_messages(history.recent), self.settings.llm.history_token_budget)
        return [
            {"role": "system", "content": system},
            *([{"role": "system", "content": digest}] if digest else []),
            {"role": "system", "content": state_prompt(call, timezone=timezone)},
            *recent,
            {"role": "system", "content": now_prompt(now, timezone)},
        ]

    def warm_up(self) -> None:
        """Build now what a fresh worker's first turn would: the chat models' clients (their SDK import)
        and the compiled prompt templates. Synchronous CPU work: core.bootstrap runs it in a thread."""
        for model in [self.llm] if self.slow_llm is self.llm else [self.llm, self.slow_llm]:
            warm = getattr(model, "warm_up", None)
            if callable(warm):
                warm()
        warm_templates(self.overrides)

    def phrase(
        self, name: str, call: Call, language: str, seed: str, config: RuntimeSnapshot | None = None
    ) -> str:
        overrides = config.overrides if config is not None else self.overrides
        return render_phrase(name, language, call=call, overrides=overrides, seed=seed)


class Turn:
    def __init__(
        self,
        engine: TurnEngine,
        call: Call,
        caller_text: str | None,
        turn_id: str,
        stop: asyncio.Event | None,
        extra_messages: list[Message],
        config: RuntimeSnapshot | None = None,
    ) -> None:
        self._engine = engine
        self._config = config
        self._call = call
        self._caller_text = clean_caller_text(caller_text) if caller_text else None
        self._turn_id = turn_id
        self._stop = stop
        self._extra = extra_messages
        self._outcome: TurnOutcome | None = None
        self._started = False

    @property
    def outcome(self) -> TurnOutcome:
        if self._outcome is None:
            raise RuntimeError("the turn's outcome is available once iteration has ended")
        return self._outcome

    def __aiter__(self) -> AsyncGenerator[Speech, None]:
        if self._started:
            raise RuntimeError("a turn can be iterated once")
        self._started = True
        return self._generate()

    async def _generate(self) -> AsyncGenerator[Speech, None]:
        engine, turn_id, config = self._engine, self._turn_id, self._config
        llm = engine.model_for(config)
        answer = resume.caller_answer(self._caller_text, self._extra)
        if self._call.connection.held_case is not None and answer:
            # The caller's proof for an earlier case: checked in code, the model is not involved.
            self._outcome = resume.verification_outcome(self._call, answer, turn_id, self._extra)
            for reply in self._outcome.spoken:
                yield reply
            return
        started = time.perf_counter()
        working = self._call.model_copy(deep=True)
        new_messages: list[Message] = []
        for extra in self._extra:
            message = extra.model_copy(update={"source_id": extra.source_id or turn_id})
            working.messages.append(message)
            new_messages.append(message)
        if self._caller_text:
            human = Message(
                persona=Persona.HUMAN,
                action=Action.TALK,
                content=limits.clip(self._caller_text, limits.MAX_MESSAGE_CHARS),
                source_id=turn_id,
            )
            working.messages.append(human)
            new_messages.append(human)
        toolbox = Toolbox(
            call=working,
            timezone=engine.settings.conversation.timezone,
            sms=engine.sms,
            inbox=engine.inbox,
            turn_id=turn_id,
            search=engine.search,
            clock=engine.clock,
            phone_policy=engine.settings.conversation.phone_policy,
            max_sms_per_call=engine.settings.conversation.max_sms_per_call,
        )
        outcome = TurnOutcome()
        spoken_keys: set[str] = set()
        changed_language = ""
        filtered = False

        def speech(text: str, style: Style) -> Speech:
            item = Speech(text=text, style=style, language=changed_language)
            outcome.spoken.append(item)
            spoken_keys.add(normalize_sentence(text))
            return item

        try:
            max_rounds = engine.settings.llm.max_tool_rounds
            for round_index in range(max_rounds + 1):
                tools = Toolbox.definitions() if round_index < max_rounds else None
                messages = engine.prompt(working, config)
                outcome.requests += 1
                splitter = SentenceSplitter()
                round_spoken: list[str] = []
                completed: Completed | None = None
                capped = False
                stream = llm.stream(messages, tools, already_said=functools.partial(" ".join, round_spoken))
                async with aclosing(stream) as events:
                    async for event in events:
                        if isinstance(event, Restarted):
                            splitter.reset()
                            continue
                        if isinstance(event, TextDelta):
                            chunks = splitter.feed(event.text)
                        else:
                            completed = event
                            chunks = splitter.flush()
                        for chunk in chunks:
                            if normalize_sentence(chunk.text) in spoken_keys:
                                continue  # already heard before the stream broke
                            if outcome.spoken and self._stop is not None and self._stop.is_set():
                                outcome.superseded = True
                                break
                            if len(outcome.spoken) >= limits.MAX_SENTENCES_PER_TURN:
                                capped = True  # an answer that never ends: what was said stands
                                break
                            if outcome.llm_first_sentence_ms is None:
                                outcome.llm_first_sentence_ms = (time.perf_counter() - started) * 1000
                            round_spoken.append(chunk.text)
                            yield speech(chunk.text, chunk.style)
                        if outcome.superseded or capped:
                            break
                assert completed is not None or outcome.superseded or capped
                if completed is not None and completed.usage is not None:
                    outcome.prompt_tokens += completed.usage.prompt_tokens
                    outcome.completion_tokens += completed.usage.completion_tokens
                else:
                    outcome.prompt_tokens += estimate_prompt_tokens(messages, tools)
                    outcome.completion_tokens += estimate_tokens(" ".join(round_spoken))
                assistant = Message(
                    persona=Persona.ASSISTANT,
                    action=Action.TALK,
                    content=limits.clip(" ".join(round_spoken), limits.MAX_MESSAGE_CHARS),
                    style=next((s.style for s in outcome.spoken[-len(round_spoken) :]), Style.NONE)
                    if round_spoken
                    else Style.NONE,
                    source_id=turn_id,
                )
                requested = completed.tool_calls if completed is not None and tools and not capped else []
                # Beyond the bound, tool calls are dropped whole (no id without its result in history).
                requested = requested[: limits.MAX_TOOL_CALLS_PER_ROUND]
                if outcome.superseded or not requested:
                    if assistant.content:
                        working.messages.append(assistant)
                        new_messages.append(assistant)
                    break
                for request in requested:
                    if len(request.arguments or "") > limits.MAX_ARGUMENT_CHARS:
                        arguments = "{}"
                        content = (
                            f"Error: the arguments of {request.name} are longer than "
                            f"{limits.MAX_ARGUMENT_CHARS} characters; not run. Send shorter values."
                        )
                    else:
                        arguments = _safe_arguments(request.arguments)
                        content = (await toolbox.execute(request.name, request.arguments)).content
                    assistant.tool_calls.append(
                        ToolCall(
                            id=request.id,
                            name=request.name,
                            arguments=arguments,
                            result=limits.clip(content, limits.MAX_RESULT_CHARS),
                        )
                    )
                working.messages.append(assistant)
                new_messages.append(assistant)
                for note in toolbox.notes:
                    # Kept for the record (reports); the model already sees the send_sms tool call.
                    note.source_id = turn_id
                    new_messages.append(note)
                toolbox.notes.clear()
                if toolbox.language_changed_to:
                    changed_language = toolbox.language_changed_to
                if toolbox.terminal:
                    if not round_spoken:
                        transfer = any(isinstance(a, TransferToAgent) for a in toolbox.actions)
                        name = "transfer" if transfer else "goodbye"
                        text = engine.phrase(
                            name, working, working.language, f"{working.call_id}:{turn_id}", config
                        )
                        yield speech(text, Style.NONE)
                        new_messages.append(
                            Message(persona=Persona.ASSISTANT, content=text, source_id=turn_id)
                        )
                    break
        except ContentFilteredError as exc:
            log.warning("content filter refused turn %s: %s", turn_id, exc)
            filtered = True
            outcome.content_filtered = True
            for message in new_messages:
                if message.persona is Persona.HUMAN:
                    message.content_filtered = True
            text = engine.phrase("refusal", working, working.language, f"{working.call_id}:{turn_id}", config)
            new_messages.append(Message(persona=Persona.ASSISTANT, content=text, source_id=turn_id))
            yield speech(text, Style.NONE)
        except ModelUnavailable as exc:
            log.error("every model failed for turn %s: %s", turn_id, exc)
            outcome.error = str(exc)
            text = engine.phrase("error", working, working.language, f"{working.call_id}:{turn_id}", config)
            new_messages.append(Message(persona=Persona.ASSISTANT, content=text, source_id=turn_id))
            yield speech(text, Style.NONE)
        finally:
            outcome.actions = list(toolbox.actions)
            outcome.mutation = _mutation(
                turn_id,
                new_messages,
                list(toolbox.operations),
                outcome.prompt_tokens,
                outcome.completion_tokens,
                mark_trailing_human=filtered and not any(m.persona is Persona.HUMAN for m in new_messages),
            )
            self._outcome = outcome


def _safe_arguments(raw: str) -> str:
    """Arguments as stored in history: repaired JSON, or {} when unusable (never re-send garbage)."""
    try:
        arguments, _ = parse_arguments(raw)
    except ToolArgumentError:
        return "{}"
    return json.dumps(arguments, ensure_ascii=False)


def _mutation(
    turn_id: str,
    messages: list[Message],
    operations: list[Operation],
    prompt_tokens: int,
    completion_tokens: int,
    *,
    mark_trailing_human: bool,
) -> Callable[[Call], bool]:
    frozen = [m.model_copy(deep=True) for m in messages]

    def apply(call: Call) -> bool:
        if not frozen or call.has_message(turn_id):
            return False
        if mark_trailing_human:
            for message in reversed(call.messages):
                if message.persona is not Persona.HUMAN:
                    break
                message.content_filtered = True
        for operation in operations:
            operation(call)
        for message in frozen:
            if message.source_id != turn_id and message.source_id and call.has_message(message.source_id):
                continue
            call.messages.append(message.model_copy(deep=True))
        call.counters.llm_prompt_tokens += prompt_tokens
        call.counters.llm_completion_tokens += completion_tokens
        limits.compact(call)
        return True

    return apply
