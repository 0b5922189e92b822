"""Report pages: view models built from calls, rendered with the report templates.

Everything that came from a caller or the model is passed to the templates as plain text and escaped
there (autoescape); nothing is marked safe. Links carry the function key forward as ``?code=`` when the
page was opened that way. Pages are built from the public view of a call (core.api.public), so they
cannot show the callback secret or the live connection's internal state.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from core.api.calls_query import get_call, parse_phone_number
from core.api.public import PublicCall
from core.engine.search import Citation, citations_from_result
from core.models import Message, Persona, Reminder
from core.ports import CallStore
from core.reports.billing import CostView, WebhookLine, cost_view, row_cost, total_text, webhook_lines
from core.reports.render import render


@dataclass(frozen=True)
class Links:
    """Builds report URLs, keeping the function key when it was given as ``?code=``."""

    code: str | None = None

    def url(self, path: str, **params: str | None) -> str:
        query = {name: value for name, value in params.items() if value}
        if self.code:
            query["code"] = self.code
        return path + ("?" + urlencode(query) if query else "")

    def call(self, call_id: str) -> str:
        return self.url("/report/" + quote(call_id, safe=""))

    def recording(self, call_id: str, index: int, *, download: bool = False) -> str:
        path = f"/report/{quote(call_id, safe='')}/recordings/{index}"
        return self.url(path, download="1" if download else None)


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class CallRow:
    call_id: str
    url: str
    created_at: str
    phone_number: str
    direction: str
    status: str
    synthesis_short: str
    satisfaction: str
    next_action: str
    post_call_status: str
    cost: str = ""


@dataclass(frozen=True)
class TranscriptLine:
    speaker: str
    persona: str
    action: str
    content: str
    style: str
    created_at: str
    tools: list[str]
    filtered: bool
    # The documents a search gave the model in this message's tool calls (title, file path).
    citations: list[Citation] = field(default_factory=list)


@dataclass(frozen=True)
class ClaimLine:
    name: str
    type: str
    description: str
    value: str
    missing: bool
    choices: list[str]


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


@dataclass(frozen=True)
class RecordingLine:
    play_url: str
    download_url: str
    content_type: str
    duration: str
    started_at: str


@dataclass
class CallDetail:
    call_id: str
    created_at: str
    ended_at: str
    direction: str
    status: str
    phone_number: str
    agent_phone_number: str
    bot: str
    task: str
    language: str
    transcript: list[TranscriptLine]
    claim: list[ClaimLine]
    extra_claim: list[Figure]
    schema_json: str
    reminders: list[dict[str, Any]]
    insights: dict[str, Any] | None
    post_call: list[Figure]
    timing: list[Figure]
    tokens: list[Figure]
    figures: list[Figure] = field(default_factory=list)
    end_reason: str = ""
    recordings: list[RecordingLine] = field(default_factory=list)
    # A call-back call: the original call's report and the reminder it calls back for.
    callback_of: tuple[str, str] | None = None
    cost: CostView | None = None
    webhooks: list[WebhookLine] = field(default_factory=list)


def _reminder(reminder: Reminder, links: Links) -> dict[str, Any]:
    """A reminder, and where the assistant's call-back for it stands (links to the calls placed)."""
    state = reminder.callback
    return {
        "title": reminder.title,
        "description": reminder.description,
        "due_at": _when(reminder.due_at),
        "owner": reminder.owner,
        "callback": "" if state is None else " · ".join(p for p in (state.status.value, state.note) if p),
        "calls": [
            {
                "url": links.call(a.call_id),
                "attempt": a.attempt,
                "outcome": a.outcome.value if a.outcome else "",
            }
            for a in (state.calls if state is not None else [])
        ],
    }


def _row(call: PublicCall, links: Links) -> CallRow:
    insights = call.insights
    return CallRow(
        call_id=call.call_id,
        url=links.call(call.call_id),
        created_at=_when(call.created_at),
        phone_number=call.phone_number,
        direction=call.direction.value,
        status=call.status.value,
        synthesis_short=insights.synthesis_short if insights else "",
        satisfaction=insights.satisfaction.value if insights else "",
        next_action=insights.next_action.action if insights else "",
        post_call_status=call.post_call.status.value,
        cost=row_cost(call),
    )


def _speaker(message: Message, call: PublicCall) -> str:
    if message.persona is Persona.HUMAN:
        return "Caller"
    if message.persona is Persona.ASSISTANT:
        return call.initiate.bot_name
    return "Tool"


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _ms(values: list[float]) -> list[Figure]:
    if not values:
        return []
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return [
        Figure("samples", str(len(values))),
        Figure("median", f"{statistics.median(ordered):.0f} ms"),
        Figure("p90", f"{p90:.0f} ms"),
        Figure("max", f"{ordered[-1]:.0f} ms"),
    ]


def _recordings(call: PublicCall, links: Links) -> list[RecordingLine]:
    return [
        RecordingLine(
            play_url=links.recording(call.call_id, index),
            download_url=links.recording(call.call_id, index, download=True),
            content_type=r.content_type,
            duration=f"{r.duration_ms / 1000:.0f} s" if r.duration_ms is not None else "",
            started_at=_when(r.started_at),
        )
        for index, r in enumerate(call.recordings)
    ]


def _detail(call: PublicCall, links: Links | None = None) -> CallDetail:
    schema = call.initiate.claim_schema
    known = {f.name for f in schema.fields}
    claim = [
        ClaimLine(
            name=f.name,
            type=f.type.value,
            description=f.description or "",
            value=_value_text(call.claim.get(f.name)),
            missing=call.claim.get(f.name) in (None, ""),
            choices=list(f.values or []),
        )
        for f in schema.fields
    ]
    extra = [Figure(name, _value_text(value)) for name, value in call.claim.items() if name not in known]
    insights = None
    if call.insights is not None:
        insights = {
            "synthesis_short": call.insights.synthesis_short,
            "synthesis_long": call.insights.synthesis_long,
            "satisfaction": call.insights.satisfaction.value,
            "improvement_suggestions": call.insights.improvement_suggestions,
            "next_action": call.insights.next_action.action,
            "justification": call.insights.next_action.justification,
            "created_at": _when(call.insights.created_at),
        }
    timing = [Figure(f"Answer latency: {f.label}", f.value) for f in _ms(call.timing.answer_latency_ms)]
    timing += [
        Figure(f"LLM first sentence: {f.label}", f.value) for f in _ms(call.timing.llm_first_sentence_ms)
    ]
    counters = call.counters
    return CallDetail(
        call_id=call.call_id,
        created_at=_when(call.created_at),
        ended_at=_when(call.ended_at),
        direction=call.direction.value,
        status=call.status.value,
        phone_number=call.phone_number,
        agent_phone_number=call.initiate.agent_phone_number,
        bot=f"{call.initiate.bot_name}, {call.initiate.bot_company}",
        task=call.initiate.task,
        language=call.language,
        transcript=[
            TranscriptLine(
                speaker=_speaker(m, call),
                persona=m.persona.value,
                action=m.action.value,
                content=m.content,
                style=m.style.value,
                created_at=_when(m.created_at),
                tools=[t.name for t in m.tool_calls],
                filtered=m.content_filtered,
                citations=[c for t in m.tool_calls for c in citations_from_result(t.name, t.result)],
            )
            for m in call.messages
            if m.persona is not Persona.TOOL
        ],
        claim=claim,
        extra_claim=extra,
        schema_json=json.dumps(schema.model_dump(mode="json"), ensure_ascii=False, indent=2),
        reminders=[_reminder(r, links or Links()) for r in call.reminders],
        insights=insights,
        post_call=[
            Figure("Status", call.post_call.status.value),
            Figure("Attempts", str(call.post_call.attempts)),
            Figure("SMS summary sent", _when(call.post_call.sms_summary_sent_at) or "no"),
            *([Figure("Error", call.post_call.error)] if call.post_call.error else []),
        ],
        timing=timing,
        tokens=[
            Figure("Turns", str(counters.turns)),
            Figure("Prompt tokens", str(counters.llm_prompt_tokens)),
            Figure("Completion tokens", str(counters.llm_completion_tokens)),
            Figure("Total tokens", str(counters.llm_prompt_tokens + counters.llm_completion_tokens)),
            Figure("Silence retries", str(counters.silence_retries)),
        ],
        end_reason=call.end_reason or "",
        recordings=_recordings(call, links or Links()),
        callback_of=(
            ((links or Links()).call(call.callback_of.call_id), call.callback_of.reminder)
            if call.callback_of
            else None
        ),
        cost=cost_view(call.cost),
        webhooks=webhook_lines(call),
    )


async def report_list_page(
    store: CallStore,
    *,
    phone_number: str | None,
    continuation: str | None,
    limit: int,
    code: str | None,
) -> str:
    """The list of calls, newest first; a search by phone number; a link to the next page."""
    links = Links(code)
    number = parse_phone_number(phone_number) if phone_number and phone_number.strip() else None
    page = await store.list(phone_number=number, limit=limit, continuation=continuation or None)
    next_url = (
        links.url("/report", phone_number=number, continuation=page.continuation, limit=str(limit))
        if page.continuation
        else None
    )
    calls = [PublicCall.of(c) for c in page.calls]
    return render(
        "list.html",
        title="Calls",
        rows=[_row(c, links) for c in calls],
        total_cost=total_text(calls),
        phone_number=number or "",
        code=code or "",
        first_url=links.url("/report", phone_number=number) if continuation else None,
        next_url=next_url,
        home_url=links.url("/report"),
    )


async def report_call_page(store: CallStore, raw_call_id: str, *, code: str | None) -> str:
    """One call: transcript, claim and schema, reminders, insights, timing and token figures."""
    links = Links(code)
    call = PublicCall.of(await get_call(store, raw_call_id))
    return render(
        "call.html",
        title=f"Call {call.call_id}",
        call=_detail(call, links),
        home_url=links.url("/report"),
        same_number_url=links.url("/report", phone_number=call.phone_number),
    )


def report_error_page(status_code: int, message: str, *, code: str | None) -> str:
    titles = {400: "Invalid request", 401: "Unauthorized", 404: "Not found"}
    return render(
        "error.html",
        title=titles.get(status_code, "Error"),
        status_code=status_code,
        message=message,
        home_url=Links(code).url("/report"),
    )
