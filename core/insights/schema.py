"""The structured answer asked from the model, validated before anything is stored."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from core.models import Insights, NextAction, Satisfaction

SHORT_MAX = 300
LONG_MAX = 4000
SUGGESTION_MAX = 300
MAX_SUGGESTIONS = 8


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    synthesis_short: str = Field(
        min_length=1, max_length=SHORT_MAX, description="One or two sentences: what the call was about."
    )
    synthesis_long: str = Field(
        min_length=1,
        max_length=LONG_MAX,
        description="A complete summary for a colleague: the request, facts collected, what was promised.",
    )
    satisfaction: Satisfaction = Field(description="The caller's satisfaction at the end of the call.")
    improvement_suggestions: list[str] = Field(
        default_factory=list,
        max_length=MAX_SUGGESTIONS,
        description="Concrete ways the bot or the process could have served this caller better.",
    )

    @field_validator("improvement_suggestions")
    @classmethod
    def _short_suggestions(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values if v.strip()]
        if any(len(v) > SUGGESTION_MAX for v in cleaned):
            raise ValueError(f"each suggestion must be at most {SUGGESTION_MAX} characters")
        return cleaned


@functools.lru_cache(maxsize=8)
def answer_model(actions: tuple[str, ...]) -> type[_Answer]:
    """The answer schema for the configured next actions (the model may only pick one of them)."""
    choice = Literal[actions]  # type: ignore[valid-type]
    next_action = create_model(
        "InsightsNextAction",
        __config__=ConfigDict(extra="forbid"),
        action=(choice, Field(description="The one next action, from the allowed list.")),
        justification=(
            str,
            Field(min_length=1, max_length=1000, description="Why this action, from the conversation."),
        ),
    )
    model: type[_Answer] = create_model(
        "CallInsights",
        __base__=_Answer,
        next_action=(next_action, Field(description="What the company should do next.")),
    )
    return model


def to_insights(answer: _Answer) -> Insights:
    next_action = answer.next_action  # type: ignore[attr-defined]
    return Insights(
        synthesis_short=answer.synthesis_short.strip(),
        synthesis_long=answer.synthesis_long.strip(),
        satisfaction=answer.satisfaction,
        improvement_suggestions=answer.improvement_suggestions,
        next_action=NextAction(action=next_action.action, justification=next_action.justification.strip()),
    )
