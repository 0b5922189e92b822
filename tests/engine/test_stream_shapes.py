"""Streams as OpenAI-compatible servers other than OpenAI send them: llama.cpp's Python server repeats
the whole function name in every tool-call delta and sends no usage (it ignores stream_options). The
chunks below are that server's shape (llama_cpp/llama_chat_format.py); tests/e2e/test_llama_server.py
runs the real server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from core.adapters.openai_chat import OpenAIChatModel, _merged_name
from core.engine.tokens import estimate_prompt_tokens
from core.ports import Completed, TextDelta
from core.settings import LlmEndpointSettings, LlmSettings


def llama_tool_chunks(name: str, pieces: list[str]) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "smollm2",
            "choices": [{"index": 0, "finish_reason": finish, "logprobs": None, "delta": delta}],
        }

    call_id = f"call__0_{name}_cmpl-1"
    chunks = [chunk({"role": "assistant", "content": None, "function_call": None, "tool_calls": None})]
    for piece in pieces:
        function = {"name": name, "arguments": piece}
        chunks.append(
            chunk(
                {
                    "role": None,
                    "content": None,
                    "function_call": function,
                    "tool_calls": [{"index": 0, "id": call_id, "type": "function", "function": function}],
                }
            )
        )
    chunks.append(
        chunk({"role": None, "content": None, "function_call": None, "tool_calls": None}, "tool_calls")
    )
    return chunks


@pytest.fixture
async def llama_like() -> AsyncIterator[tuple[str, list[list[dict[str, Any]]]]]:
    """A server answering every chat request with the chunks in ``replies`` (first in, first out)."""
    replies: list[list[dict[str, Any]]] = []

    async def completions(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in replies.pop(0):
            await response.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
        await response.write(b"data: [DONE]\r\n\r\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1", replies
    await runner.cleanup()


def test_a_name_repeated_in_every_delta_is_the_name_once() -> None:
    name = ""
    for piece in ["update_claim", "update_claim", "update_claim"]:
        name = _merged_name(name, piece)
    assert name == "update_claim"
    # A name sent in pieces (as some servers do) is still put together.
    assert _merged_name(_merged_name("", "update_"), "claim") == "update_claim"


async def test_a_llama_cpp_tool_call_stream_gives_one_call_and_estimated_usage(
    llama_like: tuple[str, list[Any]],
) -> None:
    base_url, replies = llama_like
    replies.append(
        llama_tool_chunks("update_claim", ['{"updates": [', '{"field": "caller_name", ', '"value": "Jo"}]}'])
    )
    model = OpenAIChatModel(
        LlmSettings(
            primary=LlmEndpointSettings(endpoint=base_url, model="smollm2", api_key="none", timeout_s=5),
            max_retries=0,
            retry_backoff_s=0,
        )
    )
    messages = [{"role": "system", "content": "You file claims."}, {"role": "user", "content": "I'm Jo."}]
    tools = [{"type": "function", "function": {"name": "update_claim", "parameters": {"type": "object"}}}]
    try:
        events = [e async for e in model.stream(messages, tools)]
    finally:
        await model.close()
    assert not [e for e in events if isinstance(e, TextDelta)]
    done = events[-1]
    assert isinstance(done, Completed) and done.finish_reason == "tool_calls"
    assert [(c.name, json.loads(c.arguments)) for c in done.tool_calls] == [
        ("update_claim", {"updates": [{"field": "caller_name", "value": "Jo"}]})
    ]
    assert done.tool_calls[0].id == "call__0_update_claim_cmpl-1"
    # No usage in the stream: the counters get the estimate.
    assert done.usage is not None
    assert (
        done.usage.prompt_tokens == estimate_prompt_tokens(messages, tools)
        and done.usage.completion_tokens > 0
    )
