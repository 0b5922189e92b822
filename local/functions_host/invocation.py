"""Indexing a FunctionApp and invoking its functions the way the Python worker does.

Async functions run on the event loop; sync functions run in a thread pool (the worker's default).
Each invocation gets an id, an optional ``context`` argument (``func.Context``) when the function
declares one, and the host's "Executing"/"Executed" log lines. ``functionTimeout`` from host.json is
enforced (a timed-out sync function keeps its thread until it returns: threads cannot be killed).
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import functools
import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from azure.functions import _abc as func_abc

logger = logging.getLogger("local.functions_host")

SUPPORTED_TRIGGERS = frozenset({"httpTrigger", "eventGridTrigger", "queueTrigger", "timerTrigger"})


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class FunctionInfo:
    """One indexed function: its name, trigger binding (plain JSON values) and callable."""

    name: str
    trigger: dict[str, Any]
    bindings: tuple[dict[str, Any], ...]
    user_function: Callable[..., Any]
    is_async: bool
    wants_context: bool

    @property
    def trigger_type(self) -> str:
        return str(self.trigger.get("type"))

    @property
    def trigger_param(self) -> str:
        return str(self.trigger["name"])


def index_app(app: func.FunctionApp) -> list[FunctionInfo]:
    """Every function of ``app`` with its trigger, like the worker's indexing at start-up."""
    functions: list[FunctionInfo] = []
    # get_functions() records the names it has seen to reject duplicates, so a second call on the same
    # app fails as if every name were duplicated. The worker indexes once per process; this adapter may
    # index an app again (several hosts in one test session), so it starts from a clean record each time.
    if getattr(app, "functions_bindings", None):
        app.functions_bindings = {}
    for function in app.get_functions():
        user_function = function.get_user_function()
        trigger_binding = function.get_trigger()
        name = function.get_function_name()
        if trigger_binding is None or name is None:
            logger.warning("Skipping a function without a trigger or a name: %r", user_function)
            continue
        trigger = _plain(trigger_binding.get_dict_repr())
        bindings = tuple(_plain(binding.get_dict_repr()) for binding in function.get_bindings())
        parameters = inspect.signature(user_function).parameters
        wants_context = any(
            name == "context" or parameter.annotation in (func.Context, "func.Context")
            for name, parameter in parameters.items()
        )
        info = FunctionInfo(
            name=name,
            trigger=trigger,
            bindings=bindings,
            user_function=user_function,
            is_async=inspect.iscoroutinefunction(user_function),
            wants_context=wants_context,
        )
        extra = [b for b in bindings if b.get("type") != "http" and b.get("name") != info.trigger_param]
        if info.trigger_type not in SUPPORTED_TRIGGERS:
            logger.warning("Function '%s': trigger '%s' is not served here.", info.name, info.trigger_type)
        if extra:
            logger.warning(
                "Function '%s': bindings %s are not supported by the local host adapter.",
                info.name,
                [b.get("type") for b in extra],
            )
        functions.append(info)
    return functions


class _TraceContext(func_abc.TraceContext):
    def __init__(self, trace_parent: str = "", trace_state: str = "") -> None:
        self._parent, self._state = trace_parent, trace_state

    @property
    def trace_state(self) -> str:
        return self._state

    @property
    def trace_parent(self) -> str:
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(func_abc.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class InvocationContext(func.Context):
    """The ``context`` argument of a function (``func.Context``)."""

    _thread_local = threading.local()

    def __init__(self, invocation_id: str, function_name: str, trace_parent: str = "") -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._trace = _TraceContext(trace_parent)
        self._retry = _RetryContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return ""

    @property
    def trace_context(self) -> func_abc.TraceContext:
        return self._trace

    @property
    def retry_context(self) -> func_abc.RetryContext:
        return self._retry


class InvocationError(Exception):
    """A function invocation failed; the cause is chained. The message is safe to return to callers."""

    def __init__(self, function_name: str, invocation_id: str) -> None:
        super().__init__(f"Exception while executing function: Functions.{function_name}")
        self.function_name = function_name
        self.invocation_id = invocation_id


class Invoker:
    def __init__(self, *, function_timeout_s: float | None = None, max_workers: int | None = None) -> None:
        self.function_timeout_s = function_timeout_s
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="functions-worker")

    async def invoke(
        self, function: FunctionInfo, trigger_value: Any, *, reason: str, trace_parent: str = ""
    ) -> Any:
        """Run ``function`` with its trigger argument; InvocationError (cause chained) on failure."""
        invocation_id = str(uuid.uuid4())
        kwargs: dict[str, Any] = {function.trigger_param: trigger_value}
        if function.wants_context:
            kwargs["context"] = InvocationContext(invocation_id, function.name, trace_parent)
        logger.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.function_timeout_s):
                if function.is_async:
                    result = await function.user_function(**kwargs)
                else:
                    call = functools.partial(contextvars.copy_context().run, function.user_function, **kwargs)
                    result = await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except Exception as exc:
            elapsed = (time.perf_counter() - started) * 1000
            if isinstance(exc, TimeoutError):
                logger.error(
                    "Timeout value of %ss exceeded by function 'Functions.%s'",
                    self.function_timeout_s,
                    function.name,
                )
            logger.error(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%.0fms)",
                function.name,
                invocation_id,
                elapsed,
                exc_info=exc,
            )
            raise InvocationError(function.name, invocation_id) from exc
        logger.info(
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)",
            function.name,
            invocation_id,
            (time.perf_counter() - started) * 1000,
        )
        return result

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
