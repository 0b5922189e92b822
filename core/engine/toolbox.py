"""Tool dispatch: how one tool call of the model becomes a result the model reads.

A set of tools is a subclass of ``ToolDispatcher`` whose tools are ``async`` methods marked ``@tool``
(see ``core.engine.tools``). Their JSON definitions are generated once, when the class is created,
from the typed signatures and docstrings (``core.engine.tool_schema``). ``execute`` never raises:

- the tool name is resolved (``EndCall`` or ``functions.end_call`` is ``end_call``);
- the arguments are parsed and repaired where safe (``parse_arguments``), then by the tool's own
  ``repair`` if it declares one, then validated against its signature;
- only the arguments the tool declares are passed; the others are ignored, and when they match the
  tool's ``IgnoredArguments`` its note is added to the result (e.g. "SMS only go to the caller");
- a tool refuses by raising ``ToolError``: its message is the result, marked failed. Any other
  exception is logged and the model reads that the tool failed.

Every failure reads ``Error: <message>`` to the model: chat tool messages carry no error flag, so the
prefix is how the model tells a refusal from a success.
"""

from __future__ import annotations

import ast
import difflib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError

from core.engine.tool_schema import ToolSpec, tool_spec

log = logging.getLogger(__name__)

FAILURE_PREFIX = "Error: "


class ToolError(Exception):
    """Raised by a tool to refuse or report a problem: the message goes back to the model as the result.

    Write it for the model: say what was wrong and what to do instead.
    """


class ToolArgumentError(ValueError):
    """Tool arguments that cannot be repaired safely."""


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def parse_arguments(raw: str | None) -> tuple[dict[str, Any], bool]:
    """Parse tool-call arguments, repairing what is safe to repair. Returns (arguments, repaired).

    Repaired: empty string, code fences, text or garbage around the object, trailing commas,
    single-quoted (Python-literal) objects. Anything else raises ToolArgumentError.
    """
    text = (raw or "").strip()
    if not text:
        return {}, bool(raw)
    try:
        value = json.loads(text)
        if isinstance(value, dict):
            return value, False
    except ValueError:
        value = None
    candidate = _FENCE.sub("", text)
    start = candidate.find("{")
    if start >= 0:
        body = candidate[start:]
        for attempt in (body, _TRAILING_COMMA.sub(r"\1", body)):
            try:
                parsed, _ = json.JSONDecoder().raw_decode(attempt)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                return parsed, True
        end = body.rfind("}")
        if end > 0:
            try:
                literal = ast.literal_eval(_TRAILING_COMMA.sub(r"\1", body[: end + 1]))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                literal = None
            if isinstance(literal, dict):
                repaired: dict[str, Any] = json.loads(json.dumps(literal, default=str))
                return repaired, True
    if value is not None:
        raise ToolArgumentError(f"arguments must be a JSON object, got {type(value).__name__}")
    raise ToolArgumentError(f"arguments are not valid JSON: {text[:200]}")


@dataclass(frozen=True)
class ToolResult:
    """What the model reads back for one tool call. ``ignored``: undeclared arguments that were dropped."""

    name: str
    content: str
    ok: bool = True
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class IgnoredArguments:
    """What to tell the model when a call of the tool carries arguments the tool does not take.

    The note is added when an ignored argument has one of ``names``, or (``values``) when an ignored
    value matches that pattern, e.g. something that looks like a phone number.
    """

    note: str
    names: Collection[str] = ()
    values: re.Pattern[str] | None = None

    def applies(self, ignored: Mapping[str, object]) -> bool:
        if any(name in ignored for name in self.names):
            return True
        pattern = self.values
        return pattern is not None and any(
            isinstance(value, str | int) and not isinstance(value, bool) and pattern.search(str(value))
            for value in ignored.values()
        )


ArgumentRepair = Callable[[dict[str, Any]], dict[str, Any]]
ToolMethod = TypeVar("ToolMethod", bound=Callable[..., Awaitable[str]])

_OPTIONS_ATTRIBUTE = "__tool_options__"


@dataclass(frozen=True)
class ToolOptions:
    ignored: IgnoredArguments | None = None
    repair: ArgumentRepair | None = None


def tool(
    *, ignored: IgnoredArguments | None = None, repair: ArgumentRepair | None = None
) -> Callable[[ToolMethod], ToolMethod]:
    """Mark a method of a ``ToolDispatcher`` subclass as a tool the model can call.

    ``repair`` reshapes arguments that models often send in another shape; ``ignored`` is the note for
    arguments the tool does not take.
    """
    options = ToolOptions(ignored=ignored, repair=repair)

    def mark(method: ToolMethod) -> ToolMethod:
        setattr(method, _OPTIONS_ATTRIBUTE, options)
        return method

    return mark


@dataclass(frozen=True)
class _Tool:
    spec: ToolSpec
    options: ToolOptions


class ToolDispatcher:
    """Base of a set of tools: the subclass's ``@tool`` methods, in the order they are defined."""

    _tools: ClassVar[dict[str, _Tool]] = {}
    _definitions: ClassVar[tuple[dict[str, Any], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        tools = dict(cls._tools)
        for name, value in vars(cls).items():
            options = getattr(value, _OPTIONS_ATTRIBUTE, None)
            if isinstance(options, ToolOptions):
                tools[name] = _Tool(spec=tool_spec(value, name=name), options=options)
        cls._tools = tools
        # Built once per worker: every request of every turn sends these same definitions.
        cls._definitions = tuple(entry.spec.definition() for entry in tools.values())

    @classmethod
    def definitions(cls) -> tuple[dict[str, Any], ...]:
        """The OpenAI ``tools`` entries, built once and shared: do not mutate them."""
        return cls._definitions

    @classmethod
    def tool_names(cls) -> tuple[str, ...]:
        return tuple(cls._tools)

    @classmethod
    def resolve_name(cls, name: str) -> str | None:
        if name in cls._tools:
            return name
        normalized = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        normalized = normalized.removeprefix("functions_").removeprefix("function_")
        if normalized in cls._tools:
            return normalized
        close = difflib.get_close_matches(normalized, list(cls._tools), n=1, cutoff=0.85)
        return close[0] if close else None

    async def execute(self, name: str, raw_arguments: str | None) -> ToolResult:
        """Run one tool call; every problem comes back as a result the model can read, never raises."""
        resolved = self.resolve_name(name)
        if resolved is None:
            available = ", ".join(self._tools)
            return _failure(name, f"there is no tool named '{name}'. Available tools: {available}.")
        try:
            arguments, _ = parse_arguments(raw_arguments)
        except ToolArgumentError as exc:
            return _failure(resolved, f"{exc}. Call {resolved} again with a JSON object.")
        entry = self._tools[resolved]
        if entry.options.repair is not None:
            arguments = entry.options.repair(arguments)
        model = entry.spec.arguments
        ignored = {key: value for key, value in arguments.items() if key not in model.model_fields}
        note = ""
        if ignored:
            log.info("tool %s: ignored undeclared arguments %s", resolved, sorted(ignored))
            rule = entry.options.ignored
            if rule is not None and rule.applies(ignored):
                note = " " + rule.note
        dropped = tuple(ignored)
        try:
            parsed = model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'arguments'}: {error['msg']}"
                for error in exc.errors()
            )
            return _failure(resolved, f"invalid arguments for {resolved}: {problems}.{note}", dropped)
        method: Callable[..., Awaitable[str]] = getattr(self, resolved)
        try:
            content = await method(**{key: getattr(parsed, key) for key in model.model_fields})
        except ToolError as exc:
            return _failure(resolved, f"{exc}{note}", dropped)
        except Exception as exc:  # a bug in one tool must not end the call: the model reads it failed
            log.exception("tool %s failed", resolved)
            return _failure(resolved, f"{resolved} failed ({type(exc).__name__}).{note}", dropped)
        return ToolResult(resolved, content + note, ignored=dropped)


def _failure(name: str, message: str, ignored: tuple[str, ...] = ()) -> ToolResult:
    return ToolResult(name, FAILURE_PREFIX + message, ok=False, ignored=ignored)
