"""JSON-schema function definitions generated from typed Python signatures and docstrings.

A tool is an ``async def name(self, arg: Type = default, ...) -> str`` whose docstring's first paragraph
describes the tool and whose ``Args:`` section (Google style: ``name: description``) describes each
parameter. Parameter types may be any pydantic-compatible annotation; arguments are validated with a
pydantic model built from the same signature.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

_ARG_LINE = re.compile(r"^\s{2,}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {param: description}) from a Google-style docstring."""
    if not doc:
        return "", {}
    text = inspect.cleandoc(doc)
    sections = re.split(r"^\s*(?:Args|Arguments|Parameters):\s*$", text, maxsplit=1, flags=re.MULTILINE)
    description = " ".join(sections[0].split())
    params: dict[str, str] = {}
    if len(sections) > 1:
        current: str | None = None
        for line in ("  " + ln if ln and not ln.startswith(" ") else ln for ln in sections[1].splitlines()):
            match = _ARG_LINE.match(line)
            if match and (current is None or len(line) - len(line.lstrip()) <= 4):
                current = match.group(1)
                params[current] = match.group(2).strip()
            elif current and line.strip():
                params[current] = f"{params[current]} {line.strip()}"
            elif re.match(r"^\s*(Returns|Raises):", line):
                break
    return description, params


def _inline_refs(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            resolved = _inline_refs(defs[name], defs)
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            return {**resolved, **_inline_refs(extra, defs)}
        return {
            k: _inline_refs(v, defs)
            for k, v in schema.items()
            if k != "$defs" and not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_inline_refs(item, defs) for item in schema]
    return schema


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    arguments: type[BaseModel]

    def definition(self) -> dict[str, Any]:
        """The OpenAI `tools` entry."""
        raw = self.arguments.model_json_schema()
        parameters = _inline_refs(raw, raw.get("$defs", {}))
        parameters.setdefault("properties", {})
        parameters.setdefault("required", [])
        parameters.pop("additionalProperties", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": parameters},
        }


def tool_spec(function: Callable[..., Any], *, name: str | None = None) -> ToolSpec:
    """Build the spec of one tool function (a bound or unbound method, or a plain function)."""
    description, param_docs = parse_docstring(function.__doc__)
    hints = typing.get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(function).parameters.values():
        if (
            parameter.name in ("self", "cls")
            or parameter.name.startswith("_")
            or parameter.kind
            in (
                parameter.VAR_POSITIONAL,
                parameter.VAR_KEYWORD,
            )
        ):
            continue
        annotation = hints.get(parameter.name, str)
        param_doc = param_docs.get(parameter.name)
        if isinstance(parameter.default, FieldInfo):
            info = parameter.default
            if info.description is None and param_doc:
                info = FieldInfo.merge_field_infos(info, description=param_doc)
            fields[parameter.name] = (annotation, info)
            continue
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (annotation, Field(default, description=param_doc))
    tool_name = name or function.__name__
    model = create_model(  # type: ignore[call-overload]
        f"{tool_name}_arguments",
        __config__=ConfigDict(extra="ignore"),
        **fields,
    )
    return ToolSpec(name=tool_name, description=description, arguments=model)
