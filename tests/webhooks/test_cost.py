"""Pricing a call's usage (core/models/cost.py, core/costs.py) without services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.costs import connected_seconds, price_call
from core.models import Action, CallDirection, Message, Persona, utcnow
from core.models.cost import CallUsage, ModelPrice, TokenUsage, UnitPrices, price
from core.settings import Settings
from tests.conftest import make_call


def test_each_item_is_priced_at_its_unit_and_summed() -> None:
    prices = UnitPrices(
        default_model=ModelPrice(prompt=1, completion=2),
        models={"big": ModelPrice(prompt=10, completion=20)},
        tts_per_million_characters=16,
        recognition_per_hour=1.2,
        inbound_per_minute=0.01,
        outbound_per_minute=0.02,
        sms_each=0.5,
    )
    usage = CallUsage(
        tokens={
            "small": TokenUsage(prompt_tokens=1000, completion_tokens=500),
            "big": TokenUsage(prompt_tokens=100),
        },
        tts_characters=2000,
        recognition_seconds=90,
        call_seconds=90,
        sms_count=2,
    )
    inbound = price(usage, prices, outbound=False)
    hand = 0.001 + 0.001 + 0.001 + 0.032 + 0.03 + 0.015 + 1.0
    assert inbound.total == pytest.approx(hand)
    assert [line.item for line in inbound.lines] == [
        "tokens big prompt",
        "tokens small prompt",
        "tokens small completion",
        "tts",
        "recognition",
        "inbound call",
        "sms",
    ]
    assert price(usage, prices, outbound=True).total == pytest.approx(hand - 0.015 + 0.03)


def test_the_connected_time_of_a_resumed_case_adds_each_connection() -> None:
    call = make_call()
    start = utcnow() - timedelta(hours=1)

    def at(seconds: float, action: Action, persona: Persona = Persona.ASSISTANT) -> Message:
        return Message(persona=persona, action=action, created_at=start + timedelta(seconds=seconds))

    call.messages = [
        at(0, Action.CALL),
        at(10, Action.TALK, Persona.HUMAN),
        at(30, Action.HANGUP, Persona.HUMAN),
        at(600, Action.CALL),  # the caller called back
        at(645, Action.HANGUP, Persona.HUMAN),
    ]
    call.ended_at = start + timedelta(seconds=645)
    assert connected_seconds(call) == pytest.approx(75)


def test_a_call_never_connected_costs_only_its_tokens() -> None:
    call = make_call()
    call.direction = CallDirection.OUTBOUND
    call.counters.llm_prompt_tokens = 1_000_000
    settings = Settings(llm={"primary": {"model": "gpt-4o"}})
    cost = price_call(call, settings)
    assert cost.total == pytest.approx(2.5)  # PRICES__MODELS' default price of gpt-4o prompt tokens
    assert cost.usage.call_seconds == 0 and cost.usage.tts_characters == 0
