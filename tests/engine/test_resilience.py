"""Retries, fallback, broken streams, total failure and the content filter."""

from __future__ import annotations

import json

import pytest

from core.adapters.openai_chat import OpenAIChatModel
from core.engine import TurnEngine
from core.models import Persona
from local.scripted_llm import ScriptedLlm

from .conftest import NOW, make_call, make_settings, say, speak

THREE = "The first sentence is rather long. The second sentence is long too. And here is the third one."


@pytest.fixture
def answering(llm_server: ScriptedLlm) -> ScriptedLlm:
    llm_server.set_rules([{"name": "three", "user": "question", "say": THREE}])
    return llm_server


@pytest.mark.parametrize("kind", ["429", "500"])
async def test_fallback_after_retries(engine: TurnEngine, answering: ScriptedLlm, kind: str) -> None:
    # max_retries=1: the primary fails twice, then the fallback answers.
    answering.inject_fault(kind, times=5, model="primary")  # type: ignore[arg-type]
    _, turn, spoken = await say(engine, make_call(), "A question", "t1")
    assert spoken == [
        "The first sentence is rather long.",
        "The second sentence is long too.",
        "And here is the third one.",
    ]
    assert [(r.model, r.fault) for r in answering.requests] == [
        ("primary-model", kind),
        ("primary-model", kind),
        ("fallback-model", None),
    ]
    assert turn.outcome.error is None


async def test_transient_failure_retried_on_primary(engine: TurnEngine, answering: ScriptedLlm) -> None:
    answering.inject_fault("429", times=1)
    _, _, spoken = await say(engine, make_call(), "A question", "t1")
    assert len(spoken) == 3
    assert [r.model for r in answering.requests] == ["primary-model", "primary-model"]


async def test_stream_cut_after_two_sentences_is_not_spoken_twice(
    engine: TurnEngine, answering: ScriptedLlm
) -> None:
    answering.inject_fault("cut", after_sentences=2)
    call, _turn, spoken = await say(engine, make_call(), "A question", "t1")
    assert spoken == [
        "The first sentence is rather long.",
        "The second sentence is long too.",
        "And here is the third one.",
    ]
    retry = answering.requests[1]
    assert answering.requests[0].fault == "cut" and retry.fault is None
    # The retry tells the model what the caller already heard.
    assert retry.messages[-2] == {
        "role": "assistant",
        "content": "The first sentence is rather long. The second sentence is long too.",
    }
    assert retry.messages[-1]["role"] == "system"
    assistant = [m for m in call.messages if m.persona is Persona.ASSISTANT]
    assert assistant[-1].content == THREE


async def test_every_model_failing_yields_an_apology(engine: TurnEngine, answering: ScriptedLlm) -> None:
    answering.inject_fault("500", times=10)
    call, turn, spoken = await say(engine, make_call(), "A question", "t1")
    assert len(spoken) == 1 and "sorry" in spoken[0].lower()
    assert turn.outcome.error is not None and "every model failed" in turn.outcome.error
    assert len(answering.requests) == 4
    # The caller's words are kept; the caller can repeat.
    assert [m.content for m in call.messages if m.persona is Persona.HUMAN] == ["A question"]


async def test_no_fallback_configured(answering: ScriptedLlm) -> None:
    settings = make_settings(answering, fallback=False, max_retries=0)
    client = OpenAIChatModel(settings.llm)
    answering.inject_fault("500", times=1)
    turn = TurnEngine(settings, client, clock=lambda: NOW).run(make_call(), "A question", turn_id="t")
    assert len(await speak(turn)) == 1 and turn.outcome.error
    await client.close()


@pytest.mark.parametrize("kind", ["content_filter", "content_filter_stream"])
async def test_content_filter_refuses_and_never_resends(
    engine: TurnEngine, answering: ScriptedLlm, kind: str
) -> None:
    answering.inject_fault(kind, after_chunks=0)  # type: ignore[arg-type]
    call = make_call()
    call, turn, spoken = await say(engine, call, "Some offensive question", "t1")
    assert turn.outcome.content_filtered and turn.outcome.error is None
    assert len(spoken) == 1 and ("can't" in spoken[0] or "sorry" in spoken[0].lower())
    assert len(answering.requests) == 1  # not retried, not sent to the fallback
    filtered = [m for m in call.messages if m.content_filtered]
    assert [m.content for m in filtered] == ["Some offensive question"]

    call, _, spoken = await say(engine, call, "A new question", "t2")
    sent = json.dumps(answering.requests[-1].messages)
    assert "Some offensive question" not in sent
    assert "A new question" in sent


def test_not_configured_names_the_settings() -> None:
    from core.errors import ModelNotConfiguredError
    from core.settings import LlmSettings

    with pytest.raises(ModelNotConfiguredError, match=r"LLM__PRIMARY__ENDPOINT.*LLM__PRIMARY__MODEL"):
        OpenAIChatModel(LlmSettings())


async def test_a_stop_signal_supersedes_between_sentences(engine: TurnEngine, answering: ScriptedLlm) -> None:
    import asyncio

    stop = asyncio.Event()
    call = make_call()
    turn = engine.run(call, "A question", turn_id="t1", stop=stop)
    spoken = []
    async for speech in turn:
        spoken.append(speech)
        stop.set()  # the caller spoke again while the first sentence was being played
    assert [s.text for s in spoken] == ["The first sentence is rather long."]
    assert turn.outcome.superseded
    turn.outcome.mutation(call)
    assert [m.content for m in call.messages] == ["A question", "The first sentence is rather long."]


async def test_complete_json_validates_and_asks_again(engine: TurnEngine, llm_server: ScriptedLlm) -> None:
    from pydantic import BaseModel

    class Verdict(BaseModel):
        label: str
        score: int

    llm_server.set_rules(
        [
            {"name": "bad", "json": {"label": "x", "score": "high"}, "times": 1},
            {"name": "good", "json": {"label": "ok", "score": 3}},
        ]
    )
    verdict = await engine.llm.complete_json([{"role": "user", "content": "rate"}], Verdict)
    assert verdict == Verdict(label="ok", score=3)
    assert [r.rule for r in llm_server.requests] == ["bad", "good"]
    assert llm_server.requests[0].response_format["type"] == "json_schema"  # type: ignore[index]
    assert "score" in llm_server.requests[1].messages[-1]["content"]


async def test_demo_insights_rule_answers_the_insights_schema(
    engine: TurnEngine, llm_server: ScriptedLlm
) -> None:
    from core.models import Insights

    insights = await engine.llm.complete_json([{"role": "user", "content": "Summarize the call"}], Insights)
    assert insights.next_action.action == "call_back"
