"""Every metric and model-call span the product emits: names, units and attributes in one place.

Model calls follow the OpenTelemetry GenAI semantic conventions (client spans ``{operation} {model}``
with ``gen_ai.*`` attributes; ``gen_ai.client.token.usage`` and ``gen_ai.client.operation.duration``).
Call metrics are the product's own (``call.*``, ``post_call.*``). Instruments are created once per
worker, on first use, on the meter provider installed by then (Azure Monitor in Azure, none locally).

What a caller said or the model answered, and phone numbers, never go into an attribute unless
MONITORING__CONTENT_LOGGING is on (``core.observability.content_logging()``).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from core.observability import content_logging, meter, tracer

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, Histogram
    from opentelemetry.trace import Span

# -- names ---------------------------------------------------------------------------------------------

GEN_AI_TOKEN_USAGE = "gen_ai.client.token.usage"
GEN_AI_OPERATION_DURATION = "gen_ai.client.operation.duration"
ANSWER_LATENCY = "call.answer.latency"
ANSWER_OVERHEAD = "call.answer.overhead"
LLM_FIRST_SENTENCE = "call.llm.first_sentence"
TURNS = "call.turns"
CALLS = "call.calls"
TRANSFERS = "call.transfers"
POST_CALL_FAILURES = "post_call.failures"
POISON_MESSAGES = "post_call.poison_messages"

# Bucket boundaries the conventions advise for the two GenAI histograms.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)

# gen_ai.provider.name of each LLM__*__PROVIDER.
PROVIDERS = {"openai": "openai", "azure_openai": "azure.ai.openai"}

CallOutcome = Literal["completed", "failed", "missed"]


@dataclass(frozen=True)
class _Instruments:
    token_usage: Histogram
    operation_duration: Histogram
    answer_latency: Histogram
    answer_overhead: Histogram
    llm_first_sentence: Histogram
    turns: Counter
    calls: Counter
    transfers: Counter
    post_call_failures: Counter
    poison_messages: Counter


@functools.cache
def instruments() -> _Instruments:
    """The worker's instruments, created once."""
    m = meter()
    return _Instruments(
        token_usage=m.create_histogram(
            GEN_AI_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS),
        ),
        operation_duration=m.create_histogram(
            GEN_AI_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
        ),
        answer_latency=m.create_histogram(
            ANSWER_LATENCY, unit="ms", description="RecognizeCompleted received to first play request sent"
        ),
        answer_overhead=m.create_histogram(
            ANSWER_OVERHEAD, unit="ms", description="Answer latency minus the LLM's share"
        ),
        llm_first_sentence=m.create_histogram(
            LLM_FIRST_SENTENCE, unit="ms", description="LLM time to first complete sentence"
        ),
        turns=m.create_counter(TURNS, unit="{turn}", description="Conversational turns answered"),
        calls=m.create_counter(CALLS, unit="{call}", description="Calls ended, by outcome"),
        transfers=m.create_counter(
            TRANSFERS, unit="{transfer}", description="Transfers to the agent, by result"
        ),
        post_call_failures=m.create_counter(
            POST_CALL_FAILURES, unit="{job}", description="Post-call job attempts that failed"
        ),
        poison_messages=m.create_counter(
            POISON_MESSAGES, unit="{message}", description="Post-call messages given up (sent to -poison)"
        ),
    )


# -- call metrics ----------------------------------------------------------------------------------------


def record_answer(latency_ms: float, llm_ms: float, *, superseded: bool) -> None:
    """One answered turn: its answer latency, the LLM's share and the product's own overhead."""
    i = instruments()
    attributes = {"superseded": superseded}
    i.answer_latency.record(latency_ms, attributes)
    i.llm_first_sentence.record(llm_ms, attributes)
    i.answer_overhead.record(max(0.0, latency_ms - llm_ms), attributes)
    i.turns.add(1, attributes)


def record_call_ended(outcome: CallOutcome, *, transferred: bool = False) -> None:
    instruments().calls.add(1, {"call.outcome": outcome, "call.transferred": transferred})


def record_transfer(result: Literal["accepted", "failed"]) -> None:
    instruments().transfers.add(1, {"transfer.result": result})


def record_post_call_failure(error_type: str, *, last_attempt: bool) -> None:
    """A failed post-call attempt; the last allowed one also counts a poison message."""
    i = instruments()
    i.post_call_failures.add(1, {"error.type": error_type, "post_call.last_attempt": last_attempt})
    if last_attempt:
        i.poison_messages.add(1, {"error.type": error_type})


# -- model calls -----------------------------------------------------------------------------------------


class ModelCall:
    """One request to a model: a GenAI client span and the two GenAI metrics. A context manager
    (sync, so it may wrap the body of an async generator: the span is never made current, hence
    never attached to a context the consumer could end elsewhere)."""

    def __init__(
        self,
        operation: str,
        provider: str,
        model: str,
        *,
        messages: Sequence[Any] | None = None,
        temperature: float | None = None,
    ) -> None:
        from opentelemetry.trace import SpanKind

        self._attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": PROVIDERS.get(provider, provider),
            "gen_ai.request.model": model,
        }
        self._started = time.perf_counter()
        self.span: Span = tracer().start_span(
            f"{operation} {model}", kind=SpanKind.CLIENT, attributes=self._attributes
        )
        if temperature is not None:
            self.span.set_attribute("gen_ai.request.temperature", temperature)
        if messages is not None and content_logging():
            self.span.set_attribute("gen_ai.input.messages", _json(messages))
        self._response_model = ""

    def __enter__(self) -> ModelCall:
        return self

    def finished(
        self,
        *,
        response_model: str | None,
        finish_reason: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        output_text: str = "",
    ) -> None:
        """What the response said; the span ends when the block does."""
        self._response_model = response_model or ""
        if response_model:
            self.span.set_attribute("gen_ai.response.model", response_model)
        if finish_reason:
            self.span.set_attribute("gen_ai.response.finish_reasons", [finish_reason])
        common = self._metric_attributes()
        usage = instruments().token_usage
        for kind, count in (("input", input_tokens), ("output", output_tokens)):
            if count is None:
                continue
            self.span.set_attribute(f"gen_ai.usage.{kind}_tokens", count)
            usage.record(count, {**common, "gen_ai.token.type": kind})
        if output_text and content_logging():
            message = {"role": "assistant", "parts": [{"type": "text", "content": output_text}]}
            self.span.set_attribute("gen_ai.output.messages", _json([message]))

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        from opentelemetry.trace import Status, StatusCode

        attributes = self._metric_attributes()
        if kind is not None:
            # GeneratorExit: the consumer stopped listening (a superseded turn), not a model failure.
            error = "cancelled" if issubclass(kind, GeneratorExit) else kind.__name__
            attributes["error.type"] = error
            self.span.set_attribute("error.type", error)
            self.span.set_status(Status(StatusCode.ERROR, error))
        instruments().operation_duration.record(time.perf_counter() - self._started, attributes)
        self.span.end()

    def _metric_attributes(self) -> dict[str, Any]:
        attributes = dict(self._attributes)
        if self._response_model:
            attributes["gen_ai.response.model"] = self._response_model
        return attributes


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:32768]
