"""The ``PRICES__*`` settings: unit prices of what a call uses (core/models/cost.py prices a call).

Defaults are public list prices at the time of writing (USD, pay-as-you-go, US numbers), to be replaced
by a company's own: gpt-4o-mini (0.15 / 0.60 per million prompt / completion tokens), Azure AI Speech
neural text to speech (15 per million characters) and real-time speech to text (1 per hour), ACS PSTN
(inbound 0.0085, outbound 0.013 per minute), ACS SMS (0.0075 per message).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, field_validator

if TYPE_CHECKING:
    from core.models.cost import UnitPrices


@functools.lru_cache(maxsize=8)
def parse_model_prices(raw: str) -> dict[str, tuple[float, float]]:
    """``model:prompt:completion,...`` (per million tokens), or ValueError saying which item is wrong."""
    prices: dict[str, tuple[float, float]] = {}
    for item in (i.strip() for i in raw.split(",") if i.strip()):
        parts = [p.strip() for p in item.rsplit(":", 2)]
        try:
            if len(parts) != 3 or not parts[0]:
                raise ValueError
            prompt, completion = float(parts[1]), float(parts[2])
            if min(prompt, completion) < 0:
                raise ValueError
            prices[parts[0]] = (prompt, completion)
        except ValueError:
            raise ValueError(
                f"'{item[:60]}' is not model:prompt_price:completion_price (e.g. gpt-4.1:2.0:8.0)"
            ) from None
    return prices


class PriceSettings(BaseModel):
    currency: str = Field(default="USD", description="Currency of every price (shown in reports).")
    prompt_per_million_tokens: float = Field(
        default=0.15, ge=0, description="Prompt tokens of a model not in MODELS."
    )
    completion_per_million_tokens: float = Field(
        default=0.60, ge=0, description="Completion tokens of a model not in MODELS."
    )
    models: str = Field(
        default="gpt-4o-mini:0.15:0.6,gpt-4o:2.5:10,gpt-4.1-mini:0.4:1.6,gpt-4.1:2:8",
        description="Per-model prices, comma-separated model:prompt:completion (per million tokens).",
    )
    tts_per_million_characters: float = Field(default=15.0, ge=0, description="Text to speech.")
    recognition_per_hour: float = Field(default=1.0, ge=0, description="Speech recognition.")
    inbound_per_minute: float = Field(default=0.0085, ge=0, description="Inbound phone call (PSTN).")
    outbound_per_minute: float = Field(default=0.013, ge=0, description="Outbound phone call (PSTN).")
    sms_each: float = Field(default=0.0075, ge=0, description="One SMS sent.")

    @field_validator("models")
    @classmethod
    def _models(cls, value: str) -> str:
        parse_model_prices(value)
        return value

    @property
    def unit_prices(self) -> UnitPrices:
        # Imported here: core.models loads phonenumbers, which start-up validation does not need.
        from core.models.cost import ModelPrice, UnitPrices

        models = {
            name: ModelPrice(prompt=p, completion=c)
            for name, (p, c) in parse_model_prices(self.models).items()
        }
        return UnitPrices(
            currency=self.currency,
            default_model=ModelPrice(
                prompt=self.prompt_per_million_tokens, completion=self.completion_per_million_tokens
            ),
            models=models,
            tts_per_million_characters=self.tts_per_million_characters,
            recognition_per_hour=self.recognition_per_hour,
            inbound_per_minute=self.inbound_per_minute,
            outbound_per_minute=self.outbound_per_minute,
            sms_each=self.sms_each,
        )
