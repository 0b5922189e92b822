"""What the model endpoint receives: the messages and tool definitions exactly as the engine built them."""

from __future__ import annotations

from typing import Any

from core.adapters.openai_chat import OpenAIChatModel
from core.ports import Completed
from local.scripted_llm import ScriptedLlm

from .conftest import make_settings

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "update_claim",
            "description": "Record one field of the claim.",
            "parameters": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "value": {"type": "string"}},
                "required": ["field", "value"],
            },
        },
    }
]
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are Amélie, from Contoso Insurance."},
    {"role": "user", "content": "My car was hit on 2026-11-24."},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "update_claim", "arguments": '{"field": "date", "value": "2026-11-24"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_0", "content": "date recorded"},
    {"role": "user", "content": "Can I get a rental car?"},
]


async def test_the_request_carries_the_messages_and_tools_unchanged(llm_server: ScriptedLlm) -> None:
    llm_server.set_rules([{"user": "rental", "say": "Yes, a rental car is covered."}])
    model = OpenAIChatModel(make_settings(llm_server).llm)
    try:
        events = [event async for event in model.stream(MESSAGES, TOOLS, temperature=0.3)]
    finally:
        await model.close()
    assert isinstance(events[-1], Completed) and events[-1].text == "Yes, a rental car is covered."
    (request,) = llm_server.requests
    assert request.body == {
        "model": "primary-model",
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.3,
        "messages": MESSAGES,
        "tools": TOOLS,
    }


async def test_a_request_without_tools_sends_none(llm_server: ScriptedLlm) -> None:
    llm_server.set_rules([{"say": "Hello."}])
    model = OpenAIChatModel(make_settings(llm_server).llm)
    try:
        [event async for event in model.stream(MESSAGES[:2])]
    finally:
        await model.close()
    (request,) = llm_server.requests
    assert "tools" not in request.body
    assert request.body["messages"] == MESSAGES[:2]
