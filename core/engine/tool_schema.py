"""JSON-schema function definitions generated from typed Python signatures and docstrings.

A tool is an ``async def name(self, *, arg: Annotated[Type, Field(...)] = default, ...) -> str`` whose
docstring's first paragraph describes the tool and whose ``Args:`` section (Google style:
``name: description``) describes each parameter. Types may be any pydantic-compatible annotation; the
``Field`` metadata carries the constraints (``min_length``, ``max_length``, ``ge``, ...). Arguments are
validated with a pydantic model built from the same signature, so what the model is told and what is
enforced are one declaration.
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


def _compact(schema: Any) -> Any:
    """Every tool definition is sent with every request: drop what tells the model nothing.

    A union of plain types becomes one ``type`` list (``integer`` goes when ``number`` is there: it is
    one), and an empty default or ``minLength: 1`` (non-empty) go. Validation is unchanged: it uses
    the pydantic model, not this schema.
    """
    if isinstance(schema, list):
        return [_compact(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        key: {name: _compact(p) for name, p in value.items()}
        if key == "properties" and isinstance(value, dict)
        else _compact(value)
        for key, value in schema.items()
    }
    variants = out.get("anyOf")
    if isinstance(variants, list) and all(isinstance(v, dict) and set(v) == {"type"} for v in variants):
        types = [v["type"] for v in variants]
        if "number" in types:
            types = [t for t in types if t != "integer"]
        del out["anyOf"]
        out = {"type": types, **out}
    if "default" in out and (out["default"] is None or out["default"] in ("", [], {})):
        del out["default"]
    if out.get("minLength") == 1:
        del out["minLength"]
    return out


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    arguments: type[BaseModel]

    def definition(self) -> dict[str, Any]:
        """The OpenAI `tools` entry, as short as it can be without telling the model less."""
        raw = self.arguments.model_json_schema()
        parameters = _compact(_inline_refs(raw, raw.get("$defs", {})))
        parameters.setdefault("properties", {})
        if not parameters.get("required"):
            parameters.pop("required", None)
        parameters.pop("additionalProperties", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": parameters},
        }


def tool_spec(function: Callable[..., Any], *, name: str | None = None) -> ToolSpec:
    """Build the spec of one tool function (a bound or unbound method, or a plain function).

    Each parameter is ``name: Annotated[type, Field(constraints...)] = default``; its description comes
    from the ``Field`` or, when the ``Field`` has none, from the docstring's ``Args:`` section.
    """
    tool_name = name or function.__name__
    description, param_docs = parse_docstring(function.__doc__)
    hints = typing.get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in ("self", "cls"):
            continue
        where = f"tool {tool_name}, parameter {parameter.name}"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"{where}: a tool declares each argument it takes (no *args or **kwargs)")
        if isinstance(parameter.default, FieldInfo):
            raise TypeError(
                f"{where}: declare constraints as Annotated[type, Field(...)], not as the default"
            )
        if parameter.name not in hints:
            raise TypeError(f"{where}: has no type annotation")
        annotation = hints[parameter.name]
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        param_doc = param_docs.get(parameter.name)
        if param_doc and not _described(annotation):
            fields[parameter.name] = (annotation, Field(default, description=param_doc))
        else:
            fields[parameter.name] = (annotation, Field(default))
    model = create_model(f"{tool_name}_arguments", __config__=ConfigDict(extra="ignore"), **fields)
    return ToolSpec(name=tool_name, description=description, arguments=model)


def _described(annotation: Any) -> bool:
    """Whether an ``Annotated`` type already carries a description in its ``Field`` metadata."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return False
    return any(isinstance(item, FieldInfo) and item.description for item in annotation.__metadata__)
