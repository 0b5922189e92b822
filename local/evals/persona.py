"""A caller played by a model: the persona hears the bot's lines and answers through an
OpenAI-compatible chat completions endpoint (the scripted LLM offline, a real model for real runs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from local.acs_emulator.caller import HangupReply, Listening, Reply, SilenceReply, SpeechReply
from local.acs_emulator.clock import Clock
from local.acs_emulator.transcript import Transcript
from local.evals.spec import Persona

HANGUP = "[hangup]"
MAX_CALLER_LINES = 30  # a persona that never says goodbye still ends the call


@dataclass
class ModelEndpoint:
    """Where the persona's model is: the OpenAI form (base URL ending in /v1, model, key), or the Azure
    OpenAI form when ``azure_api_version`` is set (resource endpoint, deployment name, key)."""

    base_url: str
    model: str
    api_key: str = ""
    timeout_s: float = 60.0
    azure_api_version: str | None = None

    @property
    def url(self) -> str:
        base = self.base_url.rstrip("/")
        if self.azure_api_version:
            return f"{base}/openai/deployments/{self.model}/chat/completions?api-version={self.azure_api_version}"
        return f"{base}/chat/completions"


def persona_prompt(persona: Persona) -> str:
    goals = "\n".join(f"- {goal}" for goal in persona.goals) or "- get help with your request"
    facts = "\n".join(f"- {key}: {value}" for key, value in persona.facts.items()) or "- (none)"
    return (
        "You are playing a person on a phone call with a company's voice assistant. Stay in character.\n"
        f"Who you are: {persona.description}\n"
        f"Your goals:\n{goals}\n"
        f"What you know (give it when asked, do not invent other facts):\n{facts}\n"
        f"Speak {persona.language} only. Answer with the exact words you say next, one or two short "
        f"sentences, nothing else. When your goals are reached and the assistant said goodbye, answer "
        f"{HANGUP}."
    )


class PersonaCaller:
    """The emulator's Caller protocol, answered by a model playing the persona."""

    interactive = False

    def __init__(
        self,
        persona: Persona,
        endpoint: ModelEndpoint,
        transcript: Transcript,
        clock: Clock,
        session: aiohttp.ClientSession,
    ) -> None:
        self.persona = persona
        self.endpoint = endpoint
        self._transcript = transcript
        self._clock = clock
        self._session = session
        self._system = persona_prompt(persona)
        # The conversation from the persona's side: the bot is "user", the persona "assistant".
        self.history: list[dict[str, str]] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def heard(self, text: str) -> None:
        if self.history and self.history[-1]["role"] == "user":
            self.history[-1]["content"] += " " + text
        else:
            self.history.append({"role": "user", "content": text})

    def after_media(self, media_idle: bool, completed: bool = True) -> None:
        pass

    def on_media_started(self) -> None:
        pass

    def on_connected(self) -> None:
        pass

    def on_call_end(self) -> None:
        pass

    async def next_line(self) -> str:
        body: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": [{"role": "system", "content": self._system}, *self.history],
            "temperature": 0.3,
        }
        headers = {"Authorization": f"Bearer {self.endpoint.api_key}", "api-key": self.endpoint.api_key}
        async with self._session.post(
            self.endpoint.url,
            json=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self.endpoint.timeout_s),
        ) as response:
            if response.status != 200:
                raise RuntimeError(
                    f"the persona model answered {response.status}: {(await response.text())[:200]}"
                )
            data = await response.json()
        usage = data.get("usage") or {}
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        return str(data["choices"][0]["message"].get("content") or "").strip()

    async def respond(self, listening: Listening) -> Reply:
        # A person speaks when the bot leaves a turn: not between the sentences of an answer (no
        # silence after them), nor while the bot is still thinking about the last line.
        waiting = not self.history or self.history[-1]["role"] == "assistant"
        if listening.initial_silence_s <= 0 or (waiting and listening.prompt_s <= 0 and self.history):
            await self._clock.sleep(listening.prompt_s + listening.initial_silence_s)
            return SilenceReply()
        spoken = sum(1 for m in self.history if m["role"] == "assistant")
        if spoken >= MAX_CALLER_LINES:
            self._transcript.add("caller_hangup", who="caller", reason="persona line limit")
            return HangupReply()
        try:
            line = await self.next_line()
        except (aiohttp.ClientError, TimeoutError, RuntimeError, KeyError, IndexError) as exc:
            self._transcript.add("caller_hangup", who="caller", reason=f"persona model failed: {exc}")
            return HangupReply()
        if not line or HANGUP in line.lower():
            self._transcript.add("caller_hangup", who="caller", reason="persona")
            return HangupReply()
        if not listening.accepts_speech:
            self._transcript.add("caller_silence", who="caller", seconds=listening.initial_silence_s)
            return SilenceReply()
        await self._clock.sleep(listening.prompt_s)
        self.history.append({"role": "assistant", "content": line})
        self._transcript.add("caller_said", who="caller", text=line, language=self.persona.language)
        await self._clock.sleep(listening.end_silence_s)
        return SpeechReply(line, self.persona.language, False)
