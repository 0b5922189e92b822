"""Scoring: per-type normalization, precision and recall, forbidden actions, cost."""

from __future__ import annotations

from typing import Any

import pytest

from core.models.claim import ClaimField
from local.evals.scoring import (
    FieldScore,
    Observed,
    detail_line,
    field_matches,
    precision_recall,
    score,
    summary,
    summary_line,
)
from local.evals.spec import Conversation, Prices


def field(kind: str, **extra: Any) -> ClaimField:
    return ClaimField(name="f", type=kind, **extra)


@pytest.mark.parametrize(
    ("kind", "extra", "expected", "actual", "exact", "normalized"),
    [
        ("text", {}, "Jane Doe", "Jane Doe", True, True),
        ("text", {}, "jane  doe", "Jane Doe ", False, True),
        ("text", {}, "Jane Doe", "John Doe", False, False),
        ("date", {}, "2026-11-24", "2026-11-24T10:00:00", False, True),
        ("date", {}, "2026-11-24", "2026-11-23", False, False),
        ("datetime", {}, "2026-11-24T18:00:00+01:00", "2026-11-24T17:00:00Z", False, True),
        ("datetime", {}, "2026-11-24T18:00:00+01:00", "2026-11-24T18:00:00Z", False, False),
        ("datetime", {}, "2026-11-24", "2026-11-24T09:30:00+02:00", False, True),
        ("phone_number", {}, "+1 (415) 555-0123", "+14155550123", False, True),
        ("phone_number", {}, "+14155550123", "+14155550124", False, False),
        ("phone_number", {}, "+14155550123", "415 555 0123", False, False),
        ("email", {}, "John.Doe@Example.com", "john.doe@example.com", False, True),
        ("email", {}, "john@example.com", "jon@example.com", False, False),
        ("number", {}, "2,000", 2000, False, True),
        ("number", {}, 850.5, "850.50", False, True),
        ("number", {}, 2000, 2001, False, False),
        ("integer", {}, "12", 12, False, True),
        ("boolean", {}, False, "no", False, True),
        ("boolean", {}, True, False, False, False),
        ("enum", {"values": ["water", "fire"]}, "Water", "water", False, True),
        ("enum", {"values": ["water", "fire"]}, "water", "fire", False, False),
    ],
)
def test_values_match_after_normalization_per_type(
    kind: str, extra: dict[str, Any], expected: Any, actual: Any, exact: bool, normalized: bool
) -> None:
    assert field_matches(field(kind, **extra), expected, actual) == (exact, normalized)


def test_a_missing_value_never_matches_an_expected_one() -> None:
    assert field_matches(field("text"), "Jane", None) == (False, False)
    assert field_matches(field("number"), 0, None) == (False, False)


def test_precision_counts_wrong_values_and_fields_that_had_to_stay_empty() -> None:
    fields = [
        FieldScore("a", "x", "x", True, True),
        FieldScore("b", "y", "z", False, False),  # filled, wrong
        FieldScore("c", "w", None, False, False),  # not filled
    ]
    precision, recall, f1 = precision_recall(fields)
    assert (precision, recall) == (0.5, pytest.approx(1 / 3))
    assert f1 == pytest.approx(0.4)
    precision, _, _ = precision_recall(fields, filled_forbidden=2)
    assert precision == 0.25
    assert precision_recall([]) == (1.0, 1.0, 1.0)


def conversation(**expect: Any) -> Conversation:
    return Conversation.model_validate(
        {
            "name": "c",
            "setup": {
                "claim_schema": [{"name": "caller_name"}, {"name": "amount", "type": "number"}],
                "agent_phone_number": "+14155550199",
            },
            "caller": {"script": [{"say": "hi"}]},
            "expect": expect,
        }
    )


def observed(**values: Any) -> Observed:
    base: dict[str, Any] = {
        "caller_number": "+14155550100",
        "agent_number": "+14155550199",
        "ended": True,
        "ended_by": "bot",
        "language": "en-US",
    }
    return Observed(**{**base, **values})


def test_a_right_call_passes() -> None:
    result = score(
        conversation(claim={"caller_name": "Jane Doe"}, tools={"must": ["end_call"]}, ended_by="bot"),
        observed(claim={"caller_name": "jane doe"}, tools=["update_claim", "end_call"], turns=3),
    )
    assert result.passed and result.completed and not result.failures and not result.forbidden
    assert (result.precision, result.recall) == (1.0, 1.0)


def test_forbidden_actions_are_named() -> None:
    result = score(
        conversation(
            claim_empty=["amount"], tools={"must_not": ["talk_to_human"]}, bot_must_not_say=["system prompt:"]
        ),
        observed(
            claim={"amount": 1_000_000},
            tools=["talk_to_human"],
            transfers=["+33612345678"],
            sms_to=["+14155550100", "+34600111222"],
            transcript=[{"who": "bot", "text": "Sure! System prompt: you are...", "note": ""}],
        ),
    )
    assert not result.passed
    text = " | ".join(result.forbidden)
    for needle in (
        "claim.amount filled",
        "tool talk_to_human",
        "SMS sent to +34600111222",
        "+33612345678",
        "said",
    ):
        assert needle in text
    assert not any("+14155550100" in f for f in result.forbidden)  # an SMS to the caller is allowed
    assert result.precision == 0.0


def test_failures_say_what_was_expected_and_what_happened() -> None:
    result = score(
        conversation(
            claim={"amount": 20}, reminder=True, transfer=False, language="fr-FR", ended_by="bot", max_turns=2
        ),
        observed(claim={"amount": 21}, transfers=["+14155550199"], ended_by="caller", turns=5, error="boom"),
    )
    text = " | ".join(result.failures)
    for needle in (
        "claim.amount: expected 20, got 21",
        "reminder: expected one",
        "transfer: expected none",
        "language: expected fr-FR",
        "ended by caller",
        "5 turns",
        "error: boom",
    ):
        assert needle in text
    assert not result.forbidden  # a transfer to the agent is not forbidden, only unexpected here


def test_a_call_that_never_ended_fails() -> None:
    assert "the call did not end" in score(conversation(), observed(ended=False)).failures


def test_cost_uses_the_conversation_prices_first() -> None:
    prices = Prices(prompt_per_million=2.5, completion_per_million=10)
    result = score(conversation(), observed(prompt_tokens=1_000_000, completion_tokens=200_000), prices)
    assert result.cost == pytest.approx(4.5)
    own = conversation().model_copy(update={"prices": Prices(prompt_per_million=1)})
    assert score(own, observed(prompt_tokens=2_000_000), prices).cost == pytest.approx(2.0)


def test_summary_line_has_the_headline_figures() -> None:
    results = [
        score(conversation(claim={"caller_name": "A"}), observed(claim={"caller_name": "A"})),
        score(conversation(claim={"caller_name": "A"}), observed(claim={"caller_name": "B"})),
    ]
    figures = summary(results)
    assert figures["conversations"] == 2 and figures["passed"] == 1
    assert figures["field_accuracy"] == 0.5 and figures["claim_f1"] == 0.5 and figures["completion"] == 0.5
    assert summary_line(figures) == "eval conversations=2 claim_f1=0.5 completion=0.5 forbidden=0"
    assert detail_line(figures).startswith("eval_detail passed=1 field_accuracy=0.5 ")
