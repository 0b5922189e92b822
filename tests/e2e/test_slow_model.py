"""Post-call insights come from the slow model (LLM__SLOW__*), the conversation from the fast one;
without a slow model the fast one does both."""

from __future__ import annotations

import uuid

import pytest

from core.models import PostCallStatus
from local.scripted_llm import ScriptedLlm
from tests.post_call.harness import POST_CALL_QUEUE, app_stack
from tests.post_call.test_post_call_e2e import GOOD_INSIGHTS, ended_call

pytestmark = pytest.mark.usefixtures("local_stack")


async def test_insights_are_produced_by_the_slow_model(monkeypatch: pytest.MonkeyPatch) -> None:
    marker = uuid.uuid4().hex
    async with ScriptedLlm([{"name": "insights", "user": marker, "json": GOOD_INSIGHTS}]) as slow:
        env = {
            "LLM__SLOW__PRIMARY__ENDPOINT": slow.base_url,
            "LLM__SLOW__PRIMARY__MODEL": "slow-model",
            "LLM__SLOW__PRIMARY__API_KEY": "scripted-key",
        }
        async with app_stack(monkeypatch, env=env) as stack:
            call = await stack.container.calls.create(ended_call(marker))
            await stack.container.queues.send(POST_CALL_QUEUE, {"call_id": call.call_id})
            stack.host.nudge(POST_CALL_QUEUE)
            outcomes = await stack.wait_outcomes(lambda seen: len(seen) >= 1)
            assert [o.outcome for o in outcomes] == ["succeeded"]
            stored = await stack.container.calls.get(call.call_id)
            assert stored is not None and stored.post_call.status is PostCallStatus.DONE
            assert stored.insights is not None
            assert stored.insights.synthesis_short == GOOD_INSIGHTS["synthesis_short"]
            assert [(r.model, r.rule) for r in slow.requests] == [("slow-model", "insights")]
            assert not [r for r in stack.llm.requests if r.response_format], "the fast model was asked"


async def test_without_a_slow_model_the_fast_one_computes_insights(monkeypatch: pytest.MonkeyPatch) -> None:
    marker = uuid.uuid4().hex
    async with app_stack(monkeypatch) as stack:
        stack.llm.add_rule(name="insights", user=marker, json=GOOD_INSIGHTS)
        call = await stack.container.calls.create(ended_call(marker))
        await stack.container.queues.send(POST_CALL_QUEUE, {"call_id": call.call_id})
        stack.host.nudge(POST_CALL_QUEUE)
        outcomes = await stack.wait_outcomes(lambda seen: len(seen) >= 1)
        assert [o.outcome for o in outcomes] == ["succeeded"]
        assert stack.container.slow_chat_model is stack.container.chat_model
        assert [r.rule for r in stack.llm.requests if r.response_format] == ["insights"]
