"""Scores of one evaluated conversation: claim fields, actions, turns, latency, tokens and cost. Pure."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.models.claim import ClaimField, ClaimFieldType, ClaimValueError
from local.evals.spec import Conversation, Prices


@dataclass
class Observed:
    """What happened during the call, read from the stored call and the ACS emulator."""

    claim: dict[str, Any] = field(default_factory=dict)
    tools: list[str] = field(default_factory=list)  # names of the tools the bot called, in order
    reminders: int = 0
    transfers: list[str] = field(default_factory=list)  # numbers the call was transferred to
    sms_to: list[str] = field(default_factory=list)  # recipients of the SMS sent during the call
    caller_number: str = ""
    agent_number: str = ""
    language: str = ""
    ended: bool = False
    ended_by: str | None = None
    turns: int = 0
    duration_s: float = 0.0
    answer_latency_ms: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    transcript: list[dict[str, Any]] = field(default_factory=list)  # {who, text, note}
    calls: int = 1  # calls made in the conversation (the first, then each call back)
    resumed: bool = False  # the last call continued the first call's case
    caller_texts: int = 0  # texts from the caller kept on the case
    error: str | None = None


@dataclass
class FieldScore:
    name: str
    expected: Any
    actual: Any
    exact: bool
    normalized: bool


@dataclass
class Score:
    name: str
    language: str
    passed: bool
    fields: list[FieldScore]
    precision: float
    recall: float
    f1: float
    completed: bool
    failures: list[str]
    forbidden: list[str]
    turns: int
    duration_s: float
    latency_ms_median: float | None
    latency_ms_max: float | None
    prompt_tokens: int
    completion_tokens: int
    cost: float


def _text_key(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().casefold()


def normalize(claim_field: ClaimField, value: Any) -> Any:
    """The comparable form of a value: the product's own coercion, then a canonical form per type."""
    if value is None or value == "":
        return None
    try:
        coerced = claim_field.coerce(value)
    except ClaimValueError:
        return ("invalid", _text_key(value))
    kind = claim_field.type
    if kind is ClaimFieldType.DATETIME:
        parsed = datetime.fromisoformat(coerced)
        # Equal instants written with different offsets are the same value; naive ones compare as written.
        return parsed.timestamp() if parsed.tzinfo else parsed.replace(microsecond=0)
    if kind in (ClaimFieldType.NUMBER, ClaimFieldType.INTEGER):
        return float(coerced)
    if kind in (ClaimFieldType.TEXT, ClaimFieldType.ENUM, ClaimFieldType.EMAIL):
        return _text_key(coerced)
    return coerced


def field_matches(claim_field: ClaimField, expected: Any, actual: Any) -> tuple[bool, bool]:
    """(exact, normalized) match of a claim value against the expected one."""
    exact = expected == actual
    left, right = normalize(claim_field, expected), normalize(claim_field, actual)
    if left is None:
        return exact, right is None
    if (
        claim_field.type is ClaimFieldType.DATETIME
        and isinstance(expected, str)
        and len(expected.strip()) == 10
        and right is not None
    ):
        # An expected date without a time: the day is what matters.
        try:
            return exact, claim_field.coerce(actual)[:10] == expected.strip()
        except ClaimValueError:
            return exact, False
    if isinstance(left, float) and isinstance(right, float):
        return exact, abs(left - right) <= 1e-9 * max(1.0, abs(left))
    return exact, left == right


def precision_recall(fields: list[FieldScore], filled_forbidden: int = 0) -> tuple[float, float, float]:
    """Precision: right values among the expected fields the bot filled (plus fields it should have left
    empty); recall: right values among the expected fields. A conversation with nothing to fill or
    to leave empty scores 1.0 on both."""
    correct = sum(1 for f in fields if f.normalized and f.expected not in (None, ""))
    filled = sum(1 for f in fields if f.actual not in (None, "")) + filled_forbidden
    expected = sum(1 for f in fields if f.expected not in (None, ""))
    precision = correct / filled if filled else 1.0
    recall = correct / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def cost(prices: Prices | None, prompt_tokens: int, completion_tokens: int) -> float:
    if prices is None:
        return 0.0
    return (
        prompt_tokens * prices.prompt_per_million + completion_tokens * prices.completion_per_million
    ) / 1e6


def score(conversation: Conversation, observed: Observed, prices: Prices | None = None) -> Score:
    expect = conversation.expect
    schema = conversation.claim_schema
    fields = []
    for name, expected in expect.claim.items():
        actual = observed.claim.get(name)
        exact, normalized = field_matches(schema.field(name), expected, actual)
        fields.append(FieldScore(name, expected, actual, exact, normalized))
    failures = [
        f"claim.{f.name}: expected {f.expected!r}, got {f.actual!r}" for f in fields if not f.normalized
    ]
    forbidden: list[str] = []
    filled_forbidden = [n for n in expect.claim_empty if observed.claim.get(n) not in (None, "")]
    forbidden += [f"claim.{n} filled with {observed.claim[n]!r} (must stay empty)" for n in filled_forbidden]
    for tool in expect.tools.must:
        if tool not in observed.tools:
            failures.append(f"tool {tool} was not called")
    forbidden += [f"tool {tool} was called" for tool in expect.tools.must_not if tool in observed.tools]
    forbidden += [f"SMS sent to {n}, not the caller" for n in observed.sms_to if n != observed.caller_number]
    forbidden += [f"transfer to {n}, not the agent" for n in observed.transfers if n != observed.agent_number]
    for pattern in expect.bot_must_not_say:
        for entry in observed.transcript:
            if entry["who"] == "bot" and re.search(pattern, entry["text"], re.IGNORECASE):
                forbidden.append(f"the bot said {entry['text']!r} (matches {pattern!r})")
                break
    checks = {
        "reminder": (expect.reminder, observed.reminders > 0),
        "transfer": (expect.transfer, bool(observed.transfers)),
        "sms": (expect.sms, bool(observed.sms_to)),
    }
    for what, (wanted, seen) in checks.items():
        if wanted is not None and wanted != seen:
            failures.append(
                f"{what}: expected {'one' if wanted else 'none'}, {'got one' if seen else 'got none'}"
            )
    if expect.resumed is not None and expect.resumed != observed.resumed:
        failures.append(
            f"resumed: expected {'the same' if expect.resumed else 'a new'} case, "
            f"the last of {observed.calls} calls {'continued' if observed.resumed else 'did not continue'} it"
        )
    if expect.caller_texts is not None and expect.caller_texts != observed.caller_texts:
        failures.append(
            f"caller texts on the case: expected {expect.caller_texts}, got {observed.caller_texts}"
        )
    if expect.language and observed.language != expect.language:
        failures.append(
            f"language: expected {expect.language}, the call ended in {observed.language or 'none'}"
        )
    if not observed.ended:
        failures.append("the call did not end")
    elif expect.ended_by != "any" and observed.ended_by != expect.ended_by:
        failures.append(f"ended by {observed.ended_by}, expected the {expect.ended_by}")
    if observed.turns > expect.max_turns:
        failures.append(f"{observed.turns} turns, more than the {expect.max_turns} allowed")
    if observed.error:
        failures.append(f"error: {observed.error}")
    precision, recall, f1 = precision_recall(fields, len(filled_forbidden))
    latencies = observed.answer_latency_ms
    completed = not failures
    return Score(
        name=conversation.name,
        language=conversation.language,
        passed=completed and not forbidden,
        fields=fields,
        precision=precision,
        recall=recall,
        f1=f1,
        completed=completed,
        failures=failures,
        forbidden=forbidden,
        turns=observed.turns,
        duration_s=observed.duration_s,
        latency_ms_median=statistics.median(latencies) if latencies else None,
        latency_ms_max=max(latencies) if latencies else None,
        prompt_tokens=observed.prompt_tokens,
        completion_tokens=observed.completion_tokens,
        cost=cost(conversation.prices or prices, observed.prompt_tokens, observed.completion_tokens),
    )


def summary(scores: list[Score]) -> dict[str, Any]:
    fields = [f for s in scores for f in s.fields]
    count = len(scores) or 1
    return {
        "conversations": len(scores),
        "passed": sum(1 for s in scores if s.passed),
        "field_accuracy": round(sum(f.normalized for f in fields) / len(fields), 4) if fields else 1.0,
        "field_exact": round(sum(f.exact for f in fields) / len(fields), 4) if fields else 1.0,
        "claim_f1": round(sum(s.f1 for s in scores) / count, 4),
        "completion": round(sum(s.completed for s in scores) / count, 4),
        "forbidden": sum(len(s.forbidden) for s in scores),
        "turns": sum(s.turns for s in scores),
        "prompt_tokens": sum(s.prompt_tokens for s in scores),
        "completion_tokens": sum(s.completion_tokens for s in scores),
        "cost": round(sum(s.cost for s in scores), 6),
    }


def summary_line(figures: dict[str, Any]) -> str:
    """The last line, in the issue's exact format."""
    order = ["conversations", "claim_f1", "completion", "forbidden"]
    return "eval " + " ".join(f"{key}={figures[key]}" for key in order)


def detail_line(figures: dict[str, Any]) -> str:
    """The other headline figures, printed just before the last line."""
    order = ["passed", "field_accuracy", "prompt_tokens", "completion_tokens", "cost"]
    return "eval_detail " + " ".join(f"{key}={figures[key]}" for key in order)
