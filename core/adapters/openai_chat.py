"""LLM client over the openai SDK: OpenAI, Azure OpenAI (API key or Entra ID) and any OpenAI-compatible
endpoint (Ollama, vLLM, llama.cpp server), with a primary and a fallback model.

Transient failures (429, 5xx, timeouts, connection errors, a stream that ends without a finish reason)
are retried with exponential backoff, then the fallback model is tried. When a stream breaks after
text was already emitted, the consumer gets a :class:`Restarted` event (drop unreleased text) and the
retried request carries what the caller already heard, with an instruction to continue from there.
Content-filter refusals raise :class:`ContentFilteredError` at once: the same input is never re-sent.

The openai and azure-identity packages are imported when the first request is made.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel, ValidationError

from core.engine.prompts import continuation_messages
from core.engine.tokens import estimate_prompt_tokens, estimate_tokens
from core.errors import ContentFilteredError, ModelNotConfiguredError, ModelUnavailable
from core.ports import ChatEvent, ChatMessage, Completed, Restarted, TextDelta, ToolCallRequest, Usage
from core.settings import LlmEndpointSettings, LlmSettings
from core.telemetry import ModelCall

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from core.adapters.identity import CredentialSource

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)


class _TransientError(Exception):
    pass


class _PermanentError(Exception):
    pass


@dataclass
class _Endpoint:
    name: str
    settings: LlmEndpointSettings
    client: Any = None


def is_content_filter_error(exc: BaseException) -> bool:
    """True for an Azure OpenAI 400 with code "content_filter" (or an OpenAI-style equivalent)."""
    code = getattr(exc, "code", None)
    if code == "content_filter":
        return True
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        if body.get("code") == "content_filter":
            return True
        inner = body.get("innererror")
        if isinstance(inner, dict) and inner.get("code") == "ResponsibleAIPolicyViolation":
            return True
    return False


def _classify(exc: BaseException) -> Exception:
    """Map an SDK error to content filter, transient or permanent."""
    import openai

    if is_content_filter_error(exc):
        return ContentFilteredError(str(exc))
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (408, 409, 429) or exc.status_code >= 500:
            return _TransientError(f"HTTP {exc.status_code}")
        return _PermanentError(f"HTTP {exc.status_code}: {exc.message[:200]}")
    if isinstance(exc, openai.APIConnectionError | asyncio.TimeoutError | ConnectionError):
        return _TransientError(type(exc).__name__)
    if isinstance(exc, openai.APIError):
        # An error event inside a stream.
        return _TransientError(f"stream error: {exc.message[:200]}")
    return _PermanentError(f"{type(exc).__name__}: {exc}")


class OpenAIChatModel:
    """core.ports.ChatModel over the openai SDK, a primary model and an optional fallback."""

    def __init__(
        self, settings: LlmSettings, *, slow: bool = False, credential: CredentialSource | None = None
    ) -> None:
        """The fast pair (LLM__PRIMARY__*, LLM__FALLBACK__*), or with `slow` the slow pair
        (LLM__SLOW__PRIMARY__*, LLM__SLOW__FALLBACK__*); retries and timeouts are shared."""
        pair, env = (settings.slow, "LLM__SLOW__PRIMARY") if slow else (settings.fast, "LLM__PRIMARY")
        if not pair.configured:
            raise ModelNotConfiguredError(
                f"The LLM is not configured: set {env}__ENDPOINT and {env}__MODEL "
                f"(and {env}__API_KEY, or {env}__PROVIDER=azure_openai for Entra ID)"
            )
        self.settings = settings
        self.role = "slow" if slow else "fast"
        self._endpoints = [_Endpoint(f"{self.role} primary", pair.primary)]
        if pair.fallback.endpoint and pair.fallback.model:
            self._endpoints.append(_Endpoint(f"{self.role} fallback", pair.fallback))
        # The worker's credential source (core.bootstrap), for Azure OpenAI without a key.
        self._credential: CredentialSource | None = credential

    @classmethod
    def from_settings(cls, settings: LlmSettings, *, slow: bool = False) -> OpenAIChatModel:
        return cls(settings, slow=slow)

    # -- clients ----------------------------------------------------------------------------------

    def _client(self, endpoint: _Endpoint) -> AsyncOpenAI:
        if endpoint.client is None:
            endpoint.client = self._make_client(endpoint.settings)
        return cast("AsyncOpenAI", endpoint.client)

    def _make_client(self, settings: LlmEndpointSettings) -> AsyncOpenAI:
        from core.adapters.openai_clients import openai_client

        return openai_client(
            provider=settings.provider,
            endpoint=settings.endpoint,
            api_key=settings.api_key,
            api_version=settings.api_version,
            timeout_s=settings.timeout_s,
            max_retries=0,  # retries and the fallback are this adapter's own
            credential=self._credential,
            what="Azure OpenAI",
            key_setting="LLM__*__API_KEY",
        )

    def warm_up(self) -> None:
        """Import the SDK and build every endpoint's client now (the worker's warm-up while a greeting
        plays), not on the first turn's time."""
        for endpoint in self._endpoints:
            self._client(endpoint).chat.completions  # noqa: B018 - the SDK imports its resources lazily

    async def close(self) -> None:
        for endpoint in self._endpoints:
            if endpoint.client is not None:
                await endpoint.client.close()
                endpoint.client = None

    # -- retry plan -------------------------------------------------------------------------------

    async def _backoff(self, retry: int) -> None:
        base = self.settings.retry_backoff_s
        if base <= 0:
            return
        delay = min(base * (2**retry), self.settings.retry_backoff_max_s)
        await asyncio.sleep(delay * random.uniform(0.8, 1.2))

    # -- streaming --------------------------------------------------------------------------------

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        already_said: Callable[[], str] | None = None,
        temperature: float | None = None,
    ) -> AsyncGenerator[ChatEvent, None]:
        """Stream one answer: TextDelta events, then one Completed (with tool calls and usage).

        `already_said` returns the text of this answer the caller has already heard; it is sent with a
        retry that follows a broken stream so the model continues instead of starting over.
        Raises ContentFilteredError (no retry) or ModelUnavailable (every attempt failed).
        """
        failures: list[str] = []
        emitted = False
        for endpoint in self._endpoints:
            for attempt in range(self.settings.max_retries + 1):
                if attempt:
                    await self._backoff(attempt - 1)
                request = list(messages)
                if emitted:
                    yield Restarted(reason=failures[-1] if failures else "retry")
                    said = already_said() if already_said else ""
                    if said.strip():
                        request += continuation_messages(said)
                try:
                    async for event in self._stream_once(endpoint, request, tools, temperature):
                        if isinstance(event, TextDelta):
                            emitted = True
                        yield event
                    return
                except _TransientError as exc:
                    failures.append(f"{endpoint.name}: {exc}")
                    log.warning("LLM %s attempt %d failed (transient): %s", endpoint.name, attempt + 1, exc)
                except _PermanentError as exc:
                    failures.append(f"{endpoint.name}: {exc}")
                    log.warning("LLM %s failed (not retried): %s", endpoint.name, exc)
                    break
        raise ModelUnavailable("every model failed: " + "; ".join(failures))

    async def _stream_once(
        self,
        endpoint: _Endpoint,
        messages: list[ChatMessage],
        tools: Sequence[dict[str, Any]] | None,
        temperature: float | None,
    ) -> AsyncIterator[ChatEvent]:
        kwargs: dict[str, Any] = {
            "model": endpoint.settings.model,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": self.settings.temperature if temperature is None else temperature,
        }
        kwargs.update(_plain_json_params(messages, tools))
        calls: dict[int, ToolCallRequest] = {}
        finish_reason: str | None = None
        usage: Usage | None = None
        text: list[str] = []
        response_model: str | None = None
        with _model_call(endpoint, messages, kwargs["temperature"]) as traced:
            try:
                response = await self._client(endpoint).chat.completions.create(**kwargs)
                async for chunk in response:
                    response_model = getattr(chunk, "model", None) or response_model
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                    for choice in chunk.choices or []:
                        delta = choice.delta
                        if delta is not None and delta.content:
                            text.append(delta.content)
                            yield TextDelta(delta.content)
                        for tool_delta in (delta.tool_calls if delta is not None else None) or []:
                            current = calls.setdefault(tool_delta.index, ToolCallRequest("", "", ""))
                            if tool_delta.id:
                                current.id = tool_delta.id
                            if tool_delta.function is not None:
                                if tool_delta.function.name:
                                    current.name = _merged_name(current.name, tool_delta.function.name)
                                if tool_delta.function.arguments:
                                    current.arguments += tool_delta.function.arguments
                        if choice.finish_reason:
                            finish_reason = choice.finish_reason
            except (ContentFilteredError, _TransientError, _PermanentError):
                raise
            except Exception as exc:
                raise _classify(exc) from exc
            traced.finished(
                response_model=response_model,
                finish_reason=finish_reason,
                input_tokens=usage.prompt_tokens if usage else None,
                output_tokens=usage.completion_tokens if usage else None,
                output_text="".join(text),
            )
        if finish_reason == "content_filter":
            raise ContentFilteredError("the answer was filtered")
        if finish_reason is None:
            raise _TransientError("the stream ended without a finish reason")
        tool_calls = [c for _, c in sorted(calls.items()) if c.name]
        for index, call in enumerate(tool_calls):
            if not call.id:
                call.id = f"call_{index}"
        if usage is None:
            # A server that ignores stream_options (llama.cpp's Python server) sends no usage: the
            # call's token counters get the estimate instead of nothing.
            answer = "".join(text) + "".join(c.name + c.arguments for c in tool_calls)
            usage = Usage(estimate_prompt_tokens(messages, tools), estimate_tokens(answer))
        yield Completed(
            finish_reason=finish_reason,
            tool_calls=tool_calls,
            usage=usage,
            model=endpoint.settings.model,
            text="".join(text),
        )

    # -- structured output ------------------------------------------------------------------------

    async def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> tuple[str, Usage | None]:
        """One non-streaming answer (with retries and fallback): (content, usage)."""
        failures: list[str] = []
        for endpoint in self._endpoints:
            for attempt in range(self.settings.max_retries + 1):
                if attempt:
                    await self._backoff(attempt - 1)
                try:
                    with _model_call(endpoint, messages, kwargs.get("temperature")) as traced:
                        response = await self._client(endpoint).chat.completions.create(
                            model=endpoint.settings.model, messages=cast(Any, list(messages)), **kwargs
                        )
                        _trace_response(traced, response)
                except Exception as exc:
                    error = _classify(exc)
                    if isinstance(error, ContentFilteredError):
                        raise error from exc
                    failures.append(f"{endpoint.name}: {error}")
                    if isinstance(error, _PermanentError):
                        break
                    continue
                choice = response.choices[0]
                if choice.finish_reason == "content_filter":
                    raise ContentFilteredError("the answer was filtered")
                usage = (
                    Usage(response.usage.prompt_tokens, response.usage.completion_tokens)
                    if response.usage
                    else None
                )
                return choice.message.content or "", usage
        raise ModelUnavailable("every model failed: " + "; ".join(failures))

    async def complete_json(
        self, messages: Sequence[ChatMessage], schema: type[ModelT], *, attempts: int = 3
    ) -> ModelT:
        """Ask for a JSON answer matching `schema` (response_format json_schema) and validate it;
        an invalid answer is sent back with the validation error, up to `attempts` times."""
        conversation = list(messages)
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False},
        }
        problem = ""
        for _ in range(max(attempts, 1)):
            content, _usage = await self.complete(
                conversation, response_format=response_format, temperature=0
            )
            try:
                return schema.model_validate_json(_strip_fences(content))
            except ValidationError as exc:
                problem = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
                )
            conversation += [
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": f"That answer is not valid: {problem}. Answer again with only the JSON object "
                    f"matching the schema {json.dumps(schema.model_json_schema())}.",
                },
            ]
        raise ModelUnavailable(f"no valid {schema.__name__} after {attempts} attempts: {problem}")


def _plain_json_params(
    messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]] | None
) -> dict[str, Any]:
    """The messages and tool definitions of a request, as keyword arguments of ``create``.

    The SDK walks every parameter against its TypedDicts (each message against every message type)
    to rename and format fields; the chat message and tool types have nothing to rename or format, so
    for our plain JSON values the walk returns them unchanged, at ~0.2 ms a message: with the tool
    definitions, the largest CPU cost of a turn in the SDK. ``extra_body`` is sent as given and, by the
    SDK's rule, wins over a parameter of the same name, so the request body is the same JSON; the
    required ``messages`` parameter is given empty.
    """
    extra: dict[str, Any] = {"messages": list(messages)}
    if tools:
        extra["tools"] = list(tools)
    return {"messages": [], "extra_body": extra}


def _model_call(endpoint: _Endpoint, messages: Sequence[ChatMessage], temperature: float | None) -> ModelCall:
    """A GenAI span and metrics around one request (core.telemetry)."""
    settings = endpoint.settings
    return ModelCall("chat", settings.provider, settings.model, messages=messages, temperature=temperature)


def _trace_response(traced: ModelCall, response: Any) -> None:
    choice = response.choices[0] if response.choices else None
    usage = response.usage
    traced.finished(
        response_model=getattr(response, "model", None),
        finish_reason=choice.finish_reason if choice is not None else None,
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
        output_text=(choice.message.content or "") if choice is not None else "",
    )


def _merged_name(so_far: str, piece: str) -> str:
    """A tool call's name from its deltas: OpenAI sends it once, in the first delta; llama.cpp's Python
    server repeats the whole name in every delta, so a piece that starts with the name so far is the
    whole name again, not a continuation."""
    return piece if piece.startswith(so_far) else so_far + piece


def _strip_fences(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else text[3:]
        text = text.rsplit("```", 1)[0]
    return text.strip()
