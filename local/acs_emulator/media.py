"""Media operations of a call (play, recognize), queued and run in order as ACS runs them."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from local.acs_emulator import audio
from local.acs_emulator.caller import (
    Caller,
    DtmfReply,
    HangupReply,
    Listening,
    SilenceReply,
    SpeechReply,
)
from local.acs_emulator.clock import Clock
from local.acs_emulator.identifiers import raw_id
from local.acs_emulator.results import (
    CANCELED,
    COGNITIVE_SERVICES_UNAUTHORIZED,
    DOWNLOAD_FAILED,
    DTMF_MATCHED,
    INCORRECT_TONE,
    INITIAL_SILENCE,
    INTER_DIGIT,
    MAX_DIGITS,
    OK,
    PROMPT_FAILED,
    SOURCE_EMPTY,
    SPEECH_MATCHED,
    SPEECH_NOT_MATCHED,
    STOP_TONE,
)
from local.acs_emulator.transcript import Transcript

# Simulated seconds of playback per character of text, and for an audio file.
PLAY_S_PER_CHAR = 0.06
FILE_PLAY_S = 1.0
DEFAULT_INITIAL_SILENCE_S = 5.0
DEFAULT_END_SILENCE_S = 0.5
DEFAULT_INTER_TONE_S = 5.0

# Key characters as ACS names them in DTMF results.
TONE_NAMES = dict(zip("0123456789abcd#*", [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "a", "b", "c", "d",
    "pound", "asterisk",
], strict=True))  # fmt: skip
_TAG = re.compile(r"<[^>]+>")
_LANG = re.compile(r"xml:lang\s*=\s*[\"']([^\"']+)[\"']")
_VOICE = re.compile(r"<voice[^>]*name\s*=\s*[\"']([^\"']+)[\"']")


def ssml_to_text(ssml: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", ssml)).split())


def describe_source(source: dict[str, Any]) -> dict[str, Any]:
    """What the caller hears from one play source: text, voice, language, kind."""
    kind = source.get("kind")
    if kind == "text" and isinstance(source.get("text"), dict):
        text = source["text"]
        return {
            "source": "text",
            "text": str(text.get("text", "")),
            "voice": text.get("voiceName"),
            "language": text.get("sourceLocale"),
        }
    if kind == "ssml" and isinstance(source.get("ssml"), dict):
        ssml = str(source["ssml"].get("ssmlText", ""))
        lang = _LANG.search(ssml)
        voice = _VOICE.search(ssml)
        return {
            "source": "ssml",
            "text": ssml_to_text(ssml),
            "voice": voice.group(1) if voice else None,
            "language": lang.group(1) if lang else None,
        }
    uri = str((source.get("file") or {}).get("uri", ""))
    return {"source": "file", "text": f"[audio file {uri}]", "uri": uri, "voice": None, "language": None}


def source_problem(source: dict[str, Any]) -> dict[str, Any] | None:
    described = describe_source(source)
    if described["source"] == "file":
        if not re.match(r"^https?://", described["uri"]):
            return DOWNLOAD_FAILED
        return None
    return SOURCE_EMPTY if not described["text"].strip() else None


def source_duration(source: dict[str, Any]) -> float:
    described = describe_source(source)
    if described["source"] == "file":
        return FILE_PLAY_S
    return len(described["text"]) * PLAY_S_PER_CHAR


@dataclass
class MediaOp:
    kind: str  # play | recognize
    body: dict[str, Any]
    operation_context: str | None
    callback_uri: str | None
    finished: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def event_prefix(self) -> str:
        return "Play" if self.kind == "play" else "Recognize"


class MediaCall(Protocol):
    """What media operations need of the call they run on. Declared here, not imported from
    ``calls``, so that media stays below calls (``calls.Call`` satisfies it) and the two never form
    an import cycle."""

    @property
    def transcript(self) -> Transcript: ...
    @property
    def caller(self) -> Caller: ...
    @property
    def caller_raw_id(self) -> str: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def speech_unauthorized(self) -> bool:
        """Set up with an AI Services endpoint that ACS's identity may not use."""
        ...

    def emit(
        self,
        event_name: str,
        data: dict[str, Any],
        operation_context: str | None,
        result: dict[str, Any],
        uri: str | None,
    ) -> object:
        """Send one callback event of this call (to ``uri``, else the call's callback URI)."""
        ...

    def hang_up(self) -> None:
        """The person hung up."""
        ...


class MediaQueue:
    def __init__(self, call: MediaCall) -> None:
        self._call = call
        self._queue: deque[MediaOp] = deque()
        self._current: MediaOp | None = None
        self._wakeup = asyncio.Event()
        self._closed = False
        self._worker = asyncio.get_running_loop().create_task(self._run())

    @property
    def idle(self) -> bool:
        return self._current is None and not self._queue

    def enqueue(self, op: MediaOp, interrupt: bool = False) -> None:
        if interrupt:
            self.cancel_all()
        self._call.transcript.add("media_queued", op=op.kind, operation_context=op.operation_context)
        self._call.caller.on_media_started()
        self._queue.append(op)
        self._wakeup.set()

    def cancel_all(self) -> None:
        """Stop the running operation and drop the queued ones, each with its *Canceled event."""
        ops = ([self._current] if self._current is not None else []) + list(self._queue)
        self._queue.clear()
        for op in ops:
            if op.finished:
                continue
            op.finished = True
            if op.task is not None:
                op.task.cancel()
            self._call.transcript.add("media_canceled", op=op.kind, operation_context=op.operation_context)
            self._call.emit(f"{op.event_prefix}Canceled", {}, op.operation_context, CANCELED, op.callback_uri)

    async def close(self) -> None:
        """The call ended: stop everything silently."""
        self._closed = True
        self._queue.clear()
        current = self._current
        if current is not None and current.task is not None and current.task is not asyncio.current_task():
            current.finished = True
            current.task.cancel()
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker

    async def _run(self) -> None:
        while not self._closed:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            op = self._queue.popleft()
            self._current = op
            op.task = asyncio.get_running_loop().create_task(
                self._play(op) if op.kind == "play" else self._recognize(op)
            )
            await asyncio.wait([op.task])
            self._current = None
            if not self._closed:
                self._call.caller.after_media(self.idle, completed=not op.task.cancelled())

    # -- play ------------------------------------------------------------------------------
    def _caller_hears(self, play_to: list[dict[str, Any]] | None) -> bool:
        if not play_to:
            return True
        return self._call.caller_raw_id in {raw_id(p) for p in play_to}

    def _finish(self, op: MediaOp, event: str, result: dict[str, Any], **data: Any) -> None:
        if op.finished:
            return
        op.finished = True
        kind = "media_completed" if event.endswith("Completed") else "media_failed"
        self._call.transcript.add(kind, op=op.kind, operation_context=op.operation_context, event=event)
        self._call.emit(event, data, op.operation_context, result, op.callback_uri)

    async def _speak(self, sources: list[dict[str, Any]], heard: bool, **extra: Any) -> float:
        """Record what the bot says; returns the simulated duration."""
        total = 0.0
        for source in sources:
            described = describe_source(source)
            self._call.transcript.add("bot_said", who="bot", heard_by_caller=heard, **described, **extra)
            if heard:
                self._call.caller.heard(described["text"])
            total += source_duration(source)
        return total

    async def _play(self, op: MediaOp) -> None:
        sources: list[dict[str, Any]] = op.body.get("playSources") or []
        self._call.transcript.add("media_started", op="play", operation_context=op.operation_context)
        for index, source in enumerate(sources):
            if self._call.speech_unauthorized and source.get("kind") in ("text", "ssml"):
                self._finish(op, "PlayFailed", COGNITIVE_SERVICES_UNAUTHORIZED, failedPlaySourceIndex=index)
                return
        for index, source in enumerate(sources):
            problem = source_problem(source) or await audio.play_problem(source)
            if problem is not None:
                self._finish(op, "PlayFailed", problem, failedPlaySourceIndex=index)
                return
        self._call.emit("PlayStarted", {}, op.operation_context, OK, op.callback_uri)
        heard = self._caller_hears(op.body.get("playTo"))
        loop = bool((op.body.get("playOptions") or {}).get("loop"))
        for source in sources:
            duration = await self._speak([source], heard, loop=loop)
            await self._call.clock.sleep(duration)
        if loop:  # plays until canceled
            await asyncio.Event().wait()
        self._finish(op, "PlayCompleted", OK)

    # -- recognize -----------------------------------------------------------------------------
    def _listening(self, op: MediaOp, prompt_s: float) -> Listening:
        options = op.body.get("recognizeOptions") or {}
        end_ms = (options.get("speechOptions") or {}).get("endSilenceTimeoutInMs")
        initial = options.get("initialSilenceTimeoutInSeconds")
        return Listening(
            input_type=str(op.body.get("recognizeInputType", "speech")),
            initial_silence_s=float(initial) if initial is not None else DEFAULT_INITIAL_SILENCE_S,
            end_silence_s=float(end_ms) / 1000 if end_ms is not None else DEFAULT_END_SILENCE_S,
            interrupt_prompt=bool(options.get("interruptPrompt", False)),
            prompt_s=prompt_s,
            speech_language=str(options.get("speechLanguage") or "en-US"),
            choices=list(options.get("choices") or []),
        )

    async def _recognize(self, op: MediaOp) -> None:
        self._call.transcript.add("media_started", op="recognize", operation_context=op.operation_context)
        prompts: list[dict[str, Any]] = list(op.body.get("playPrompts") or [])
        if not prompts and op.body.get("playPrompt"):
            prompts = [op.body["playPrompt"]]
        speech = op.body.get("recognizeInputType") != "dtmf" or any(
            p.get("kind") in ("text", "ssml") for p in prompts
        )
        if speech and self._call.speech_unauthorized:
            self._finish(op, "RecognizeFailed", COGNITIVE_SERVICES_UNAUTHORIZED)
            return
        for index, prompt in enumerate(prompts):
            if (source_problem(prompt) or await audio.play_problem(prompt)) is not None:
                self._finish(op, "RecognizeFailed", PROMPT_FAILED, failedPlaySourceIndex=index)
                return
        prompt_s = await self._speak(prompts, True, prompt=True)
        listening = self._listening(op, prompt_s)
        self._call.transcript.add(
            "listening",
            who="bot",
            input_type=listening.input_type,
            speech_language=listening.speech_language,
            initial_silence_s=listening.initial_silence_s,
            end_silence_s=listening.end_silence_s,
            interrupt_prompt=listening.interrupt_prompt,
        )
        reply = await self._call.caller.respond(listening)
        if isinstance(reply, (SpeechReply, DtmfReply)) and reply.barged_in:
            self._call.transcript.add("note", text="caller barged in; prompt interrupted")
        if isinstance(reply, HangupReply):
            op.finished = True
            asyncio.get_running_loop().call_soon(self._call.hang_up)
            return
        if isinstance(reply, SilenceReply):
            self._finish(op, "RecognizeFailed", INITIAL_SILENCE)
            return
        if isinstance(reply, SpeechReply):
            self._speech_result(op, listening, reply)
            return
        await self._dtmf_result(op, listening, reply)

    def _speech_result(self, op: MediaOp, listening: Listening, reply: SpeechReply) -> None:
        if listening.input_type == "choices":
            said = " ".join(reply.text.lower().split())
            for choice in listening.choices:
                for phrase in choice.get("phrases") or []:  # type: ignore[attr-defined]
                    if " ".join(str(phrase).lower().split()) in said:
                        self._finish(
                            op,
                            "RecognizeCompleted",
                            SPEECH_MATCHED,
                            recognitionType="choices",
                            choiceResult={"label": choice.get("label"), "recognizedPhrase": phrase},
                        )
                        return
            self._finish(op, "RecognizeFailed", SPEECH_NOT_MATCHED)
            return
        same_language = (reply.language or listening.speech_language).split("-")[0].lower() == (
            listening.speech_language.split("-")[0].lower()
        )
        self._finish(
            op,
            "RecognizeCompleted",
            SPEECH_MATCHED,
            recognitionType="speech",
            speechResult={"speech": reply.text, "confidence": 0.95 if same_language else 0.4},
        )

    async def _dtmf_result(self, op: MediaOp, listening: Listening, reply: DtmfReply) -> None:
        pressed = [TONE_NAMES[c] for c in reply.tones.lower()]
        if listening.input_type == "choices":
            for choice in listening.choices:
                if choice.get("tone") and choice.get("tone") == pressed[0]:
                    self._finish(
                        op,
                        "RecognizeCompleted",
                        DTMF_MATCHED,
                        recognitionType="choices",
                        choiceResult={"label": choice.get("label")},
                    )
                    return
            self._finish(op, "RecognizeFailed", INCORRECT_TONE)
            return
        options = op.body.get("recognizeOptions") or {}
        dtmf = options.get("dtmfOptions") or {}
        max_tones = int(dtmf.get("maxTonesToCollect") or 1)
        stop_tones = set(dtmf.get("stopTones") or [])
        collected: list[str] = []
        for tone in pressed:
            if tone in stop_tones:
                self._finish(
                    op,
                    "RecognizeCompleted",
                    STOP_TONE,
                    recognitionType="dtmf",
                    dtmfResult={"tones": collected},
                )
                return
            collected.append(tone)
            if len(collected) >= max_tones:
                self._finish(
                    op,
                    "RecognizeCompleted",
                    MAX_DIGITS,
                    recognitionType="dtmf",
                    dtmfResult={"tones": collected},
                )
                return
        inter_tone = float(dtmf.get("interToneTimeoutInSeconds") or DEFAULT_INTER_TONE_S)
        await self._call.clock.sleep(inter_tone)
        self._finish(op, "RecognizeFailed", INTER_DIGIT)
