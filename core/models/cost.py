"""What a call cost: the quantities it used and their price. Pure: no I/O.

The quantities are measured from the call document (core/costs.py); the unit prices are settings
(core/settings_costs.py). Amounts are kept unrounded (a call costs fractions of a cent); views round.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

TOKENS_UNIT = 1_000_000
CHARACTERS_UNIT = 1_000_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class CallUsage(BaseModel):
    """What the call used, in the units the services bill."""

    tokens: dict[str, TokenUsage] = Field(
        default_factory=dict, description="LLM tokens by model (deployment) name."
    )
    tts_characters: int = Field(default=0, description="Characters of text the bot spoke (text to speech).")
    recognition_seconds: float = Field(
        default=0.0, description="Seconds of speech recognition: the connected time (ACS listens throughout)."
    )
    call_seconds: float = Field(default=0.0, description="Connected time of the phone call(s), in seconds.")
    sms_count: int = Field(default=0, description="SMS sent to the caller (the bot's tool and the summary).")


class CostLine(BaseModel):
    item: str = Field(description="What is billed, e.g. `tokens scripted prompt`, `tts`, `call`.")
    quantity: float
    unit: str = Field(description="What a unit price is for, e.g. `1M tokens`, `minute`.")
    unit_price: float
    amount: float


class CallCost(BaseModel):
    """The priced usage of a call."""

    currency: str
    usage: CallUsage
    lines: list[CostLine] = Field(default_factory=list)
    total: float = 0.0
    priced_at: datetime = Field(default_factory=_utcnow)


class ModelPrice(BaseModel):
    """Price of one model, per million tokens."""

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


class UnitPrices(BaseModel):
    """Unit prices (core/settings_costs.py builds them from the PRICES__* settings)."""

    currency: str = "USD"
    default_model: ModelPrice = ModelPrice(prompt=0.15, completion=0.60)
    models: dict[str, ModelPrice] = Field(default_factory=dict)
    tts_per_million_characters: float = 15.0
    recognition_per_hour: float = 1.0
    inbound_per_minute: float = 0.0085
    outbound_per_minute: float = 0.013
    sms_each: float = 0.0075

    def model(self, name: str) -> ModelPrice:
        return self.models.get(name, self.default_model)


def price(usage: CallUsage, prices: UnitPrices, *, outbound: bool) -> CallCost:
    """The cost of ``usage`` at ``prices``: one line per billed item, and their total."""
    lines: list[CostLine] = []

    def line(item: str, quantity: float, unit: str, unit_price: float, per: float = 1.0) -> None:
        if quantity:
            lines.append(
                CostLine(
                    item=item,
                    quantity=quantity,
                    unit=unit,
                    unit_price=unit_price,
                    amount=quantity / per * unit_price,
                )
            )

    for name, tokens in sorted(usage.tokens.items()):
        model = prices.model(name)
        line(f"tokens {name} prompt", tokens.prompt_tokens, "1M tokens", model.prompt, TOKENS_UNIT)
        line(
            f"tokens {name} completion", tokens.completion_tokens, "1M tokens", model.completion, TOKENS_UNIT
        )
    line("tts", usage.tts_characters, "1M characters", prices.tts_per_million_characters, CHARACTERS_UNIT)
    line("recognition", usage.recognition_seconds / 3600, "hour", prices.recognition_per_hour)
    per_minute = prices.outbound_per_minute if outbound else prices.inbound_per_minute
    line("outbound call" if outbound else "inbound call", usage.call_seconds / 60, "minute", per_minute)
    line("sms", usage.sms_count, "SMS", prices.sms_each)
    return CallCost(
        currency=prices.currency, usage=usage, lines=lines, total=sum(item.amount for item in lines)
    )
