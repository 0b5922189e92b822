"""The post-call insights of a call (core.insights computes them). Pure: no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Satisfaction(StrEnum):
    VERY_LOW = "very_low"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"
    UNKNOWN = "unknown"


class NextAction(BaseModel):
    action: str
    justification: str


class Insights(BaseModel):
    synthesis_short: str
    synthesis_long: str
    satisfaction: Satisfaction
    improvement_suggestions: list[str] = Field(default_factory=list)
    next_action: NextAction
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
