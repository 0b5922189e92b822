"""Export for fine-tuning: the anonymized chat JSONL of a date range, through GET /export and
``python -m core.export``, from calls stored in the local Cosmos DB."""

from __future__ import annotations

import asyncio
import json
import random
import re
import string
import sys
from datetime import UTC, datetime
from typing import Any

import aiohttp
import azure.functions as func
import pytest

from core.bootstrap import Services, get_services, reset_services
from core.export import chat_example
from core.models import Action, Message, Persona, ToolCall
from local.functions_host import FunctionsHost, HostConfig
from tests.conftest import make_call
from tests.e2e.harness import REPO_ROOT
from tests.waiting import within

KEY = "export-test-key"
CALLER = "+14155550142"
SAID = [
    "Hi, I'm Jane Doe, my policy is B-12345.",
    "Call me back on (415) 555-0142 or at my office, +33 6 12 34 56 78.",
    "My email is jane.doe@example.com, and my husband's is bob_doe+claims@mail.example.org.",
    "Jane again: the other driver's number was 415.555.0177.",
]
PHONE_OR_EMAIL = re.compile(r"@|\d{3}[\s.)-]*\d{3}[\s.-]*\d{2,4}|\d{2} \d{2} \d{2}")


def claim_call(day: int, marker: str) -> Any:
    call = make_call(CALLER)
    call.created_at = datetime(2020, 3, day, 12, tzinfo=UTC)
    call.claim = {"caller_name": "Jane Doe", "policy_number": "B-12345", "estimated_damage": 2000}
    call.messages = [
        Message(persona=Persona.ASSISTANT, action=Action.CALL, content=f"Hello, this is Amélie. {marker}")
    ]
    for text in SAID:
        call.messages += [
            Message(persona=Persona.HUMAN, content=text),
            Message(persona=Persona.ASSISTANT, content="Thank you, Jane. I noted it."),
        ]
    call.messages.append(
        Message(
            persona=Persona.ASSISTANT,
            tool_calls=[
                ToolCall(
                    id="call_1",
                    name="update_claim",
                    arguments=json.dumps(
                        {"updates": [{"field": "caller_email", "value": "jane.doe@example.com"}]}
                    ),
                    result="Saved: caller_email",
                )
            ],
        )
    )
    call.messages.append(Message(persona=Persona.HUMAN, action=Action.HANGUP))
    return call


def check_lines(text: str) -> list[dict[str, Any]]:
    examples = [json.loads(line) for line in text.splitlines()]
    for example in examples:
        assert set(example) == {"messages"}
        roles = [m["role"] for m in example["messages"]]
        assert roles[0] == "system" and "user" in roles and "assistant" in roles
        assert set(roles) <= {"system", "user", "assistant", "tool"}
        for message in example["messages"]:
            if message.get("tool_calls"):
                for tool_call in message["tool_calls"]:
                    json.loads(tool_call["function"]["arguments"])  # still valid JSON once redacted
            else:
                assert isinstance(message["content"], str)
        dumped = json.dumps(example, ensure_ascii=False)
        assert not PHONE_OR_EMAIL.search(dumped), PHONE_OR_EMAIL.search(dumped)
        for pii in ("Jane", "Doe", "B-12345", "jane.doe", "555"):
            assert pii not in dumped, pii
    return examples


def test_an_exported_call_keeps_the_conversation_and_loses_the_pii() -> None:
    example = chat_example(claim_call(2, "m"), ("US", "FR"))
    assert example is not None
    check_lines(json.dumps(example))
    users = [m["content"] for m in example["messages"] if m["role"] == "user"]
    assert users[0] == "Hi, I'm [CALLER_NAME], my policy is [POLICY_NUMBER]."
    assert users[1] == "Call me back on [PHONE] or at my office, [PHONE]."
    assert users[2] == "My email is [EMAIL], and my husband's is [EMAIL]."
    assert [m["role"] for m in example["messages"]][-2:] == ["assistant", "tool"]


async def test_export_of_a_date_range_over_http_and_as_a_command(
    container: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = "".join(random.choices(string.ascii_lowercase, k=16))  # letters: no redaction touches it
    inside = [await container.calls.create(claim_call(day, marker)) for day in (3, 4)]
    await container.calls.create(claim_call(6, marker))  # after the range

    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    from functions.export import bp

    app.register_functions(bp)
    reset_services()
    host = FunctionsHost(app, config=HostConfig.load(REPO_ROOT / "host.json"), function_key=KEY)
    await host.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(host.base_url, headers={"x-functions-key": KEY}) as session:
            async with session.get("/export", params={"from": "2020-03-03", "to": "2020-03-05"}) as response:
                assert response.status == 200
                assert response.content_type == "application/x-ndjson"
                body = await response.text()
            async with session.get("/export", params={"from": "2020-03-05", "to": "2020-03-01"}) as response:
                assert response.status == 400
                assert "before" in (await response.json())["error"]["message"]
            async with session.get("/export", params={"from": "March"}) as response:
                assert response.status == 400
    finally:
        await host.stop()
        await get_services().close()
        reset_services()
    mine = [e for e in check_lines(body) if marker in json.dumps(e)]
    assert len(mine) == len(inside) == 2

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.export",
        "--from",
        "2020-03-03",
        "--to",
        "2020-03-05",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await within(process.communicate(), timeout=60, what="python -m core.export to exit")
    assert process.returncode == 0, err.decode()
    assert out.decode() == body
    assert "calls exported" in err.decode()
