"""What an operator sees of a model call and of calls: GenAI spans and metrics by the OpenTelemetry
semantic conventions, the product's call metrics, and no caller content unless content logging is on.

In-memory SDK providers (no exporter, no network); the model is the real adapter over a fake SDK client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from core import observability, telemetry
from core.adapters.openai_chat import OpenAIChatModel
from core.ports import Completed, TextDelta
from core.settings import LlmSettings

PHONE = "+33612345678"
SAID = "My car was hit at the station, call me back on"
ANSWER = "I am sorry to hear that. Let me note it down."


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.tracer = tracer_provider.get_tracer("callcenter")
        self.meter = MeterProvider(metric_readers=[self.reader]).get_meter("callcenter")

    def metrics(self) -> dict[str, Any]:
        data = self.reader.get_metrics_data()
        assert data is not None
        return {
            metric.name: metric
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    t = Telemetry()
    monkeypatch.setattr(telemetry, "tracer", lambda: t.tracer)
    monkeypatch.setattr(telemetry, "meter", lambda: t.meter)
    telemetry.instruments.cache_clear()
    yield t
    telemetry.instruments.cache_clear()


def _chunk(content: str | None = None, finish: str | None = None, usage: Any = None) -> Any:
    choices = (
        []
        if content is None and finish is None
        else [SimpleNamespace(delta=SimpleNamespace(content=content, tool_calls=None), finish_reason=finish)]
    )
    return SimpleNamespace(model="gpt-4.1-mini-2025-04-14", choices=choices, usage=usage)


class FakeCompletions:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def create(self, **kwargs: Any) -> Any:
        self.requests.append(kwargs)
        if not kwargs.get("stream"):
            message = SimpleNamespace(content=ANSWER)
            return SimpleNamespace(
                model="gpt-4.1-mini-2025-04-14",
                choices=[SimpleNamespace(message=message, finish_reason="stop")],
                usage=SimpleNamespace(prompt_tokens=40, completion_tokens=9),
            )

        async def chunks() -> AsyncIterator[Any]:
            for word in ANSWER.split(" "):
                yield _chunk(word + " ")
            yield _chunk(finish="stop")
            yield _chunk(usage=SimpleNamespace(prompt_tokens=120, completion_tokens=12))

        return chunks()


def _model() -> OpenAIChatModel:
    settings = LlmSettings.model_validate(
        {
            "primary": {
                "provider": "azure_openai",
                "endpoint": "https://contoso.openai.azure.com",
                "model": "gpt-4.1-mini",
                "api_key": "a2V5",
            }
        }
    )
    model = OpenAIChatModel(settings)
    model._endpoints[0].client = SimpleNamespace(chat=SimpleNamespace(completions=FakeCompletions()))
    return model


MESSAGES = [
    {"role": "system", "content": "You are Amélie."},
    {"role": "user", "content": f"{SAID} {PHONE}"},
]


async def _converse(model: OpenAIChatModel) -> list[Any]:
    events = [event async for event in model.stream(MESSAGES)]
    await model.complete(MESSAGES, temperature=0)
    return events


def _everything(otel: Telemetry) -> str:
    """Every span attribute and metric data point attribute, as text."""
    parts = [json.dumps(dict(span.attributes or {}), default=str) for span in otel.spans.get_finished_spans()]
    for metric in otel.metrics().values():
        parts += [json.dumps(dict(point.attributes or {}), default=str) for point in metric.data.data_points]
    return "\n".join(parts)


async def test_each_model_call_is_a_genai_client_span(otel: Telemetry) -> None:
    events = await _converse(_model())
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).strip() == ANSWER
    assert isinstance(events[-1], Completed)

    spans = otel.spans.get_finished_spans()
    assert [span.name for span in spans] == ["chat gpt-4.1-mini", "chat gpt-4.1-mini"]
    streamed, completed = (dict(span.attributes or {}) for span in spans)
    assert all(span.kind is SpanKind.CLIENT for span in spans)
    assert streamed["gen_ai.operation.name"] == "chat"
    assert streamed["gen_ai.provider.name"] == "azure.ai.openai"
    assert streamed["gen_ai.request.model"] == "gpt-4.1-mini"
    assert streamed["gen_ai.response.model"] == "gpt-4.1-mini-2025-04-14"
    assert (streamed["gen_ai.usage.input_tokens"], streamed["gen_ai.usage.output_tokens"]) == (120, 12)
    assert tuple(streamed["gen_ai.response.finish_reasons"]) == ("stop",)
    assert (completed["gen_ai.usage.input_tokens"], completed["gen_ai.usage.output_tokens"]) == (40, 9)
    assert completed["gen_ai.request.temperature"] == 0


async def test_token_usage_and_duration_metrics_follow_the_conventions(otel: Telemetry) -> None:
    await _converse(_model())
    metrics = otel.metrics()

    usage = metrics["gen_ai.client.token.usage"]
    assert usage.unit == "{token}"
    points = {p.attributes["gen_ai.token.type"]: p for p in usage.data.data_points}
    assert (points["input"].sum, points["output"].sum) == (160, 21)
    assert points["input"].count == 2
    attributes = dict(points["input"].attributes)
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "azure.ai.openai",
        "gen_ai.request.model": "gpt-4.1-mini",
        "gen_ai.response.model": "gpt-4.1-mini-2025-04-14",
        "gen_ai.token.type": "input",
    }
    assert tuple(points["input"].explicit_bounds) == telemetry.TOKEN_BUCKETS

    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    (point,) = duration.data.data_points
    assert point.count == 2 and 0 <= point.sum < 5
    assert "error.type" not in point.attributes
    assert tuple(point.explicit_bounds) == telemetry.DURATION_BUCKETS


async def test_a_failed_model_call_records_its_error_type(otel: Telemetry) -> None:
    model = _model()

    async def refuse(**kwargs: Any) -> Any:
        raise RuntimeError("boom")

    model._endpoints[0].client.chat.completions.create = refuse  # type: ignore[union-attr]
    with pytest.raises(Exception, match="every model failed"):
        await model.complete(MESSAGES)
    (span,) = otel.spans.get_finished_spans()
    assert span.attributes is not None and span.attributes["error.type"] == "RuntimeError"
    (point,) = otel.metrics()["gen_ai.client.operation.duration"].data.data_points
    assert point.attributes["error.type"] == "RuntimeError"


async def test_no_phone_number_nor_text_without_content_logging(
    otel: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observability, "_content_logging", [False])
    await _converse(_model())
    seen = _everything(otel)
    for secret in (PHONE, SAID, ANSWER, "Let me note", "Amélie"):
        assert secret not in seen
    assert "gen_ai.input.messages" not in seen


async def test_content_logging_puts_the_conversation_on_the_span(
    otel: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observability, "_content_logging", [True])
    await _converse(_model())
    streamed = dict(otel.spans.get_finished_spans()[0].attributes or {})
    assert PHONE in str(streamed["gen_ai.input.messages"])
    assert ANSWER in str(streamed["gen_ai.output.messages"])


def test_call_metrics_have_their_names_units_and_attributes(otel: Telemetry) -> None:
    telemetry.record_answer(850.0, 600.0, superseded=False)
    telemetry.record_call_ended("completed", transferred=True)
    telemetry.record_call_ended("failed")
    telemetry.record_transfer("accepted")
    telemetry.record_post_call_failure("ModelUnavailable", last_attempt=False)
    telemetry.record_post_call_failure("ModelUnavailable", last_attempt=True)
    metrics = otel.metrics()

    expected_units = {
        "call.answer.latency": "ms",
        "call.answer.overhead": "ms",
        "call.llm.first_sentence": "ms",
        "call.turns": "{turn}",
        "call.calls": "{call}",
        "call.transfers": "{transfer}",
        "post_call.failures": "{job}",
        "post_call.poison_messages": "{message}",
    }
    assert {name: metrics[name].unit for name in expected_units} == expected_units
    (overhead,) = metrics["call.answer.overhead"].data.data_points
    assert overhead.sum == 250.0
    outcomes = {p.attributes["call.outcome"]: p.value for p in metrics["call.calls"].data.data_points}
    assert outcomes == {"completed": 1, "failed": 1}
    (poison,) = metrics["post_call.poison_messages"].data.data_points
    assert poison.value == 1
    assert sum(p.value for p in metrics["post_call.failures"].data.data_points) == 2
