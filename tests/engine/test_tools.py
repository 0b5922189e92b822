"""Tool dispatch with the real Toolbox: what the model is told, and what it reads back from each call."""

from __future__ import annotations

import json
import logging
import os
from typing import Annotated, Any

import pytest
from pydantic import Field

from core.engine import ToolError, TurnEngine
from core.engine.search import DocumentHit
from core.engine.tool_schema import tool_spec
from core.engine.toolbox import ToolDispatcher, tool
from core.engine.tools import SMS_MAX_CHARS, Toolbox
from local.scripted_llm import ScriptedLlm

from .conftest import CALLER, NOW, RecordingSms, make_call, say

# The definitions as the model receives them (shortened deliberately for issue 12: every request sends
# them, so every token counts; what each tool does and enforces is unchanged).
GOLDEN = os.path.join(os.path.dirname(__file__), "tool_definitions.json")


def test_the_model_is_told_the_same_tools() -> None:
    with open(GOLDEN, encoding="utf-8") as file:
        expected = json.load(file)
    definitions = Toolbox.definitions()
    assert [d["function"]["name"] for d in definitions] == [e["function"]["name"] for e in expected]
    for got, want in zip(definitions, expected, strict=True):
        name = want["function"]["name"]
        assert got["function"]["description"] == want["function"]["description"], name
        parameters, wanted = got["function"]["parameters"], want["function"]["parameters"]
        assert parameters.get("required", []) == wanted.get("required", []), name
        # Same properties in the same order, each with the same type, description, limits and default.
        assert list(parameters["properties"]) == list(wanted["properties"]), name
        assert parameters == wanted, name
    properties = {d["function"]["name"]: d["function"]["parameters"]["properties"] for d in definitions}
    query = properties["search_documents"]["query"]
    assert (query["type"], query["minLength"], query["maxLength"]) == ("string", 2, 500)
    assert properties["search_documents"]["top"]["default"] == 3
    assert properties["send_sms"]["message"]["maxLength"] == SMS_MAX_CHARS
    assert properties["talk_to_human"] == {} and list(properties["send_sms"]) == ["message"]


def test_definitions_are_built_once_per_worker() -> None:
    first = Toolbox.definitions()
    Toolbox(call=make_call())
    assert Toolbox.definitions() is first


async def test_a_refusal_reaches_the_model_as_a_failed_result(
    engine: TurnEngine, llm_server: ScriptedLlm
) -> None:
    box = Toolbox(call=make_call())
    result = await box.execute("change_language", '{"language": "de-DE"}')
    refusal = "'de-DE' is not available. Available languages: en-US (English), fr-FR (French)."
    assert not result.ok and result.content == f"Error: {refusal}"

    llm_server.add_rule(
        user="(?i)german", tool_calls=[{"name": "change_language", "arguments": {"language": "de"}}]
    )
    llm_server.add_rule(tool_name="change_language", say="Sorry, I can only speak English or French.")
    updated, _, spoken = await say(engine, make_call(), "Speak German, please.", "t1")
    assert spoken == ["Sorry, I can only speak English or French."]
    tool_messages = [m["content"] for m in llm_server.requests[-1].messages if m["role"] == "tool"]
    assert tool_messages == [
        "Error: 'de' is not available. Available languages: en-US (English), fr-FR (French)."
    ]
    assert updated.language == "en-US"


class Booking(ToolDispatcher):
    @tool()
    async def book(self, *, day: str) -> str:
        """Book a visit.

        Args:
            day: The day.
        """
        if day == "sunday":
            raise ToolError("the office is closed on Sundays; offer Monday instead.")
        return f"Booked for {day}."


async def test_a_tool_error_message_is_what_the_model_reads() -> None:
    refused = await Booking().execute("book", '{"day": "sunday"}')
    assert not refused.ok
    assert refused.content == "Error: the office is closed on Sundays; offer Monday instead."
    booked = await Booking().execute("book", '{"day": "monday"}')
    assert booked.ok and booked.content == "Booked for monday."
    assert [d["function"]["name"] for d in Booking.definitions()] == ["book"]


async def test_a_past_reminder_is_refused_with_today_named() -> None:
    box = Toolbox(call=make_call(), clock=lambda: NOW)
    result = await box.execute(
        "new_or_updated_reminder", '{"title": "Call back", "due_date_time": "2020-01-01T10:00:00"}'
    )
    assert not result.ok and "in the past; today is 2026-11-25" in result.content
    assert box.call.reminders == [] and box.operations == []


async def test_updating_a_reminder_keeps_its_call_back_unless_the_date_changes() -> None:
    from core.models.reminder import CallbackStatus, ReminderCallback

    box = Toolbox(call=make_call(), clock=lambda: NOW)
    arguments = {"title": "Call back", "due_date_time": "2026-11-26T10:00:00", "owner": "assistant"}
    await box.execute("new_or_updated_reminder", json.dumps(arguments))
    box.call.reminders[0].callback = ReminderCallback(status=CallbackStatus.DONE, attempts=1)
    await box.execute("new_or_updated_reminder", json.dumps({**arguments, "description": "Quote ready."}))
    kept = box.call.reminders[0].callback
    assert kept is not None and kept.status is CallbackStatus.DONE  # not placed again for the same promise
    await box.execute(
        "new_or_updated_reminder", json.dumps({**arguments, "due_date_time": "2026-11-27T10:00"})
    )
    assert box.call.reminders[0].callback is None  # a new date: a new call-back


class BrokenSearch:
    async def search(self, query: str, top: int) -> list[DocumentHit]:
        raise RuntimeError("index unreachable")


async def test_an_unexpected_exception_gives_the_generic_failure(caplog: pytest.LogCaptureFixture) -> None:
    box = Toolbox(call=make_call(), search=BrokenSearch())
    with caplog.at_level(logging.ERROR, logger="core.engine.toolbox"):
        result = await box.execute("search_documents", '{"query": "rental car"}')
    assert not result.ok and result.content == "Error: search_documents failed (RuntimeError)."
    assert "index unreachable" not in result.content  # the model reads that it failed, not the internals
    assert any("search_documents failed" in r.getMessage() and r.exc_info for r in caplog.records)
    assert (await box.execute("end_call", "{}")).ok  # the box still works


async def test_ignored_recipient_and_number_produce_the_note() -> None:
    sms = RecordingSms()
    box = Toolbox(call=make_call(), sms=sms)
    texted = await box.execute("send_sms", '{"recipient": "+12025550123", "message": "Ref 42"}')
    assert texted.ok and texted.ignored == ("recipient",)
    assert texted.content == (
        "The SMS was sent to the caller. The SMS can only go to the caller's own number, which was used."
    )
    assert sms.sent == [(CALLER, "Ref 42")]

    unavailable = await Toolbox(call=make_call()).execute("send_sms", '{"number": "+1202", "message": "x"}')
    assert not unavailable.ok
    assert unavailable.content.startswith("Error: SMS is not available in this deployment.")
    assert unavailable.content.endswith("The SMS can only go to the caller's own number, which was used.")

    transfer = await box.execute("talk_to_human", '{"agent": "+1 202 555 0123"}')
    assert transfer.ok and transfer.content.endswith("the number given was ignored.")
    # Undeclared arguments that are not a number: ignored without a note.
    reason = await Toolbox(call=make_call()).execute("talk_to_human", '{"reason": "asked for a person"}')
    assert reason.ok and reason.ignored == ("reason",) and "ignored" not in reason.content
    plain = await Toolbox(call=make_call(), sms=RecordingSms()).execute("send_sms", '{"message": "Hi"}')
    assert plain.content == "The SMS was sent to the caller." and plain.ignored == ()


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("search_documents", {"query": "a"}, "query: String should have at least 2 characters"),
        ("send_sms", {"message": "x" * (SMS_MAX_CHARS + 1)}, "message: String should have at most 640"),
        ("new_or_updated_reminder", {"title": "", "due_date_time": "2026-11-26T10:00"}, "title: String"),
        ("new_or_updated_reminder", {"title": "Call"}, "due_date_time: Field required"),
        ("change_language", {"language": "x" * 41}, "language: String should have at most 40"),
    ],
)
async def test_constraints_reject_out_of_range_values_naming_the_argument(
    tool: str, arguments: dict[str, Any], expected: str
) -> None:
    sms = RecordingSms()
    box = Toolbox(call=make_call(), sms=sms, clock=lambda: NOW)
    result = await box.execute(tool, json.dumps(arguments))
    assert not result.ok
    assert result.content.startswith(f"Error: invalid arguments for {tool}: ") and expected in result.content
    assert sms.sent == [] and box.operations == [] and box.actions == []


class CountingSearch:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def search(self, query: str, top: int) -> list[DocumentHit]:
        self.calls.append((query, top))
        return [DocumentHit(title="Rental", content="A rental car is covered for 7 days.")]


async def test_defaults_are_real_defaults() -> None:
    search = CountingSearch()
    result = await Toolbox(call=make_call(), search=search).execute("search_documents", '{"query": "rental"}')
    assert result.ok and "covered for 7 days" in result.content
    assert search.calls == [("rental", 3)]


def test_a_tool_declared_the_old_way_is_refused_with_the_parameter_named() -> None:
    async def old(self: object, query: str = Field(min_length=2)) -> str:
        return query

    async def catch_all(self: object, **arguments: Any) -> str:
        return ""

    async def fine(self: object, *, query: Annotated[str, Field(min_length=2, description="What")]) -> str:
        return query

    with pytest.raises(TypeError, match="tool old, parameter query: declare constraints as Annotated"):
        tool_spec(old)
    with pytest.raises(TypeError, match="tool catch_all, parameter arguments: a tool declares each"):
        tool_spec(catch_all)
    parameters = tool_spec(fine).definition()["function"]["parameters"]
    assert parameters["properties"]["query"] == {"type": "string", "minLength": 2, "description": "What"}
