"""An OpenAI-compatible chat-completions server answering by rules, for tests, demos and benchmarks.

Serves ``POST /v1/chat/completions`` and the Azure form ``POST /openai/deployments/{name}/chat/completions``
(streaming SSE and plain JSON), ``GET /v1/models`` and ``GET /health``. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from core.engine.tokens import estimate_prompt_tokens, estimate_tokens
from local.scripted_llm.rules import Answer, Rule, answer_for, choose, example_from_schema, load_rules

FaultKind = Literal["429", "500", "cut", "content_filter", "content_filter_stream"]
DEFAULT_ANSWER = "I'm sorry, I did not catch that. Could you say it again?"
_TOKEN = re.compile(r"\S+\s*|\s+")
_SENTENCE_END = re.compile(r"[.!?…]\s*$")


@dataclass
class Fault:
    kind: FaultKind
    times: int = 1
    model: str | None = None  # regex on the requested model; None = any
    after_chunks: int | None = None  # cut / content_filter_stream: after this many content chunks
    after_sentences: int | None = None  # cut / content_filter_stream: after this many sentences
    delay_s: float = 0.0  # how long the failing request takes


@dataclass
class RecordedRequest:
    path: str
    model: str
    stream: bool
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    response_format: dict[str, Any] | None
    estimated_prompt_tokens: int
    rule: str | None = None
    fault: str | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def last_user(self) -> str:
        return next((str(m.get("content")) for m in reversed(self.messages) if m.get("role") == "user"), "")


class ScriptedLlm:
    def __init__(
        self,
        rules: list[Rule] | list[dict[str, Any]] | None = None,
        *,
        ttft_s: float = 0.0,
        tokens_per_s: float = 0.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.rules: list[Rule] = load_rules(rules or [])
        self.ttft_s = ttft_s
        self.tokens_per_s = tokens_per_s
        self.host = host
        self.port = 0
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        # Awaited before each request is answered (a test acts "while the model thinks").
        self.before_answer: Callable[[RecordedRequest], Awaitable[None]] | None = None
        self._counter = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # -- control ----------------------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        """Base for the Azure form (AsyncAzureOpenAI(azure_endpoint=root_url))."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Base for the OpenAI form (AsyncOpenAI(base_url=base_url))."""
        return f"{self.root_url}/v1"

    def set_rules(self, rules: list[Rule] | list[dict[str, Any]]) -> None:
        self.rules = load_rules(rules)

    def add_rule(self, rule: Rule | dict[str, Any] | None = None, **fields: Any) -> Rule:
        """Add a rule, first in order (it wins over older ones)."""
        built = rule if isinstance(rule, Rule) else Rule.from_dict({**(rule or {}), **fields})
        self.rules.insert(0, built)
        return built

    def inject_fault(
        self,
        kind: FaultKind,
        *,
        times: int = 1,
        model: str | None = None,
        after_chunks: int | None = None,
        after_sentences: int | None = None,
        delay_s: float = 0.0,
    ) -> Fault:
        fault = Fault(kind, times, model, after_chunks, after_sentences, delay_s)
        self.faults.append(fault)
        return fault

    def reset(self) -> None:
        self.rules, self.faults, self.requests = [], [], []
        self.ttft_s = self.tokens_per_s = 0.0
        self.before_answer = None

    # -- lifecycle --------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        return app

    async def start(self, port: int = 0) -> ScriptedLlm:
        self._runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ScriptedLlm:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handlers ---------------------------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    def _take_fault(self, model: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and (fault.model is None or re.search(fault.model, model)):
                fault.times -= 1
                return fault
        return None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = str(request.match_info.get("deployment") or body.get("model") or "scripted")
        messages = body.get("messages") or []
        record = RecordedRequest(
            path=request.path,
            model=model,
            stream=bool(body.get("stream")),
            messages=messages,
            tools=body.get("tools"),
            response_format=body.get("response_format"),
            estimated_prompt_tokens=estimate_prompt_tokens(messages, body.get("tools")),
            body=body,
        )
        self.requests.append(record)
        if self.before_answer is not None:
            await self.before_answer(record)
        fault = self._take_fault(model)
        if fault is not None:
            record.fault = fault.kind
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.kind == "429":
                return _error(
                    429, "rate_limit_exceeded", "Rate limit reached (scripted).", {"Retry-After": "0"}
                )
            if fault.kind == "500":
                return _error(500, "server_error", "Internal error (scripted).")
            if fault.kind == "content_filter":
                return _error(
                    400,
                    "content_filter",
                    "The response was filtered due to the prompt triggering content management policy.",
                    inner={"code": "ResponsibleAIPolicyViolation"},
                )
        number = next(self._counter)
        answer = self._answer(body, number)
        record.rule = answer.rule
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        if not record.stream:
            return web.json_response(self._completion(answer, model, number, messages))
        return await self._stream(request, answer, model, number, body, fault, messages)

    def _answer(self, body: dict[str, Any], number: int) -> Answer:
        rule, groups = choose(self.rules, body, number)
        if rule is not None:
            if rule.json is not None:
                text = rule.json if isinstance(rule.json, str) else json.dumps(rule.json, ensure_ascii=False)
                return Answer(rule=rule.name, text=text, delay_s=rule.delay_s)
            return answer_for(rule, groups, number)
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema") or {}
            return Answer(rule="(schema example)", text=json.dumps(example_from_schema(schema)))
        if response_format.get("type") == "json_object":
            return Answer(rule="(json object)", text="{}")
        return Answer(rule="(default)", text=DEFAULT_ANSWER)

    def _usage(self, messages: list[dict[str, Any]], answer: Answer) -> dict[str, int]:
        prompt = estimate_prompt_tokens(messages)
        completion = estimate_tokens(answer.text) + sum(
            estimate_tokens(c["arguments"]) + 3 for c in answer.tool_calls
        )
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _completion(
        self, answer: Answer, model: str, number: int, messages: list[dict[str, Any]]
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": answer.text or None}
        if answer.tool_calls:
            message["tool_calls"] = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for c in answer.tool_calls
            ]
        return {
            "id": f"chatcmpl-scripted-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": answer.finish_reason, "logprobs": None}
            ],
            "usage": self._usage(messages, answer),
        }

    async def _stream(
        self,
        request: web.Request,
        answer: Answer,
        model: str,
        number: int,
        body: dict[str, Any],
        fault: Fault | None,
        messages: list[dict[str, Any]],
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        created = int(time.time())
        base = {
            "id": f"chatcmpl-scripted-{number}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
        }

        async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
            payload = {**base, "choices": choices, **extra}
            await response.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())

        def delta(content: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
            return [{"index": 0, "delta": content, "finish_reason": finish, "logprobs": None}]

        if self.ttft_s:
            await asyncio.sleep(self.ttft_s)
        await send(delta({"role": "assistant", "content": ""}))
        pause = 1 / self.tokens_per_s if self.tokens_per_s else 0.0
        chunks = sentences = 0
        stream_fault = fault if fault is not None and fault.kind in ("cut", "content_filter_stream") else None

        def fault_due() -> bool:
            if stream_fault is None:
                return False
            if stream_fault.after_chunks is not None and chunks >= stream_fault.after_chunks:
                return True
            return stream_fault.after_sentences is not None and sentences >= stream_fault.after_sentences

        async def trigger() -> web.StreamResponse:
            assert stream_fault is not None
            if stream_fault.kind == "content_filter_stream":
                await send(delta({}, "content_filter"))
                await response.write(b"data: [DONE]\n\n")
                await response.write_eof()
                return response
            # Cut: close the connection in the middle of the chunked body.
            if request.transport is not None:
                request.transport.close()
            return response

        if fault_due():
            return await trigger()
        for token in _TOKEN.findall(answer.text):
            if pause:
                await asyncio.sleep(pause)
            await send(delta({"content": token}))
            chunks += 1
            if _SENTENCE_END.search(token):
                sentences += 1
            if fault_due():
                return await trigger()
        for index, call in enumerate(answer.tool_calls):
            await send(
                delta(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call["id"],
                                "type": "function",
                                "function": {"name": call["name"], "arguments": ""},
                            }
                        ]
                    }
                )
            )
            arguments = call["arguments"]
            for start in range(0, len(arguments), 16):
                if pause:
                    await asyncio.sleep(pause)
                piece = arguments[start : start + 16]
                await send(delta({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
                chunks += 1
                if fault_due():
                    return await trigger()
        if (
            stream_fault is not None
            and stream_fault.after_chunks is None
            and stream_fault.after_sentences is None
        ):
            return await trigger()
        await send(delta({}, answer.finish_reason))
        if (body.get("stream_options") or {}).get("include_usage"):
            await send([], usage=self._usage(messages, answer))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    inner: dict[str, Any] | None = None,
) -> web.Response:
    error: dict[str, Any] = {"message": message, "type": code, "param": None, "code": code, "status": status}
    if inner:
        error["innererror"] = inner
    return web.json_response({"error": error}, status=status, headers=headers)
