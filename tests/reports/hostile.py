"""A call whose transcript, claim, reminders and insights hold hostile content."""

from __future__ import annotations

from datetime import timedelta

from core.models import (
    Action,
    Call,
    CallStatus,
    ClaimField,
    ClaimFieldType,
    ClaimSchema,
    Insights,
    Message,
    NextAction,
    Persona,
    PostCallStatus,
    Reminder,
    Satisfaction,
    ToolCall,
    utcnow,
)
from tests.conftest import make_call

SCRIPT = "<script>window.pwned = 1; alert('pwned')</script>"
IMG = '<img src=x onerror="window.pwned=2;alert(2)">'
SVG = '<svg onload="window.pwned=3"></svg>'
IFRAME = '<iframe src="javascript:window.top.pwned=4"></iframe>'
MARKDOWN = "[click me](javascript:window.pwned=5) and ![x](https://evil.example/x.png)"
RTL = "\u202eRLO override txt.exe \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"
LONG = "A" * 5000 + " " + "word " * 400
TEMPLATE = "{{ 7*7 }} {% raw %}"
HOSTILE = [SCRIPT, IMG, SVG, IFRAME, MARKDOWN, RTL, TEMPLATE]


def hostile_call(phone_number: str) -> Call:
    schema = ClaimSchema(
        fields=[
            ClaimField(name="caller_name", type=ClaimFieldType.TEXT, description=SCRIPT),
            ClaimField(name="incident_description", type=ClaimFieldType.TEXT, description="What happened"),
            ClaimField(name="policy_number", type=ClaimFieldType.TEXT),
            ClaimField(name="vehicle", type=ClaimFieldType.ENUM, values=["car", "<b>bike</b>"]),
        ]
    )
    call = make_call(phone_number, claim_schema=schema, task=f"Task {IMG}", bot_company=SVG[:100])
    call.status = CallStatus.ENDED
    call.ended_at = utcnow()
    call.claim = {"caller_name": SCRIPT, "incident_description": LONG, "vehicle": "<b>bike</b>"}
    call.messages = [
        Message(persona=Persona.ASSISTANT, action=Action.CALL, content="Hello"),
        Message(persona=Persona.HUMAN, content=SCRIPT),
        Message(persona=Persona.ASSISTANT, content=IMG, tool_calls=[ToolCall(id="1", name=SVG)]),
        Message(persona=Persona.HUMAN, action=Action.SMS, content=MARKDOWN),
        Message(persona=Persona.HUMAN, content=RTL),
        Message(persona=Persona.HUMAN, content=LONG),
        Message(persona=Persona.HUMAN, content=IFRAME + TEMPLATE),
        Message(persona=Persona.TOOL, content="tool result " + SCRIPT),
    ]
    call.reminders = [
        Reminder(
            title=SCRIPT[:200], description=MARKDOWN, due_at=utcnow() + timedelta(days=1), owner=RTL[:100]
        )
    ]
    call.insights = Insights(
        synthesis_short=SCRIPT,
        synthesis_long=LONG + IMG,
        satisfaction=Satisfaction.LOW,
        improvement_suggestions=[IFRAME, MARKDOWN],
        next_action=NextAction(action="call_back", justification=SVG),
    )
    call.post_call.status = PostCallStatus.DONE
    call.counters.turns = 4
    call.counters.llm_prompt_tokens = 1234
    call.counters.llm_completion_tokens = 321
    call.timing.answer_latency_ms = [420.0, 380.0, 910.0]
    call.timing.llm_first_sentence_ms = [300.0, 280.0, 700.0]
    return call
