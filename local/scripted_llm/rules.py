"""Rules of the scripted LLM: which answer (text, tool calls or JSON) a request gets.

A request is matched against the rules in order; the first rule that matches answers.
- If the request has ``response_format`` (structured output), only rules with ``json`` apply.
- Else, if the last non-system message is a tool result, only rules with ``tool`` or ``tool_name`` apply:
  ``tool`` is a regex searched in that result, ``tool_name`` the name of the tool that produced it.
- Else rules with ``user`` apply (a regex searched in the last user message), and rules with neither
  ``user`` nor ``tool`` nor ``tool_name`` (catch-alls).
``model`` (regex on the requested model) narrows any rule; ``times`` limits how often a rule is used;
``delay_s`` makes the answer start late (seconds before its first chunk: a slow model).
Named groups of the matching regex fill ``{name}`` placeholders in ``say`` and in string arguments;
``{days_from_now:N}`` gives the ISO date-time N days from now (09:00 UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_PLACEHOLDER = re.compile(r"\{(\w+)(?::([^{}]*))?\}")


@dataclass
class Rule:
    name: str = ""
    user: str | None = None
    tool: str | None = None
    tool_name: str | None = None
    model: str | None = None
    say: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    json: Any = None
    times: int | None = None
    finish_reason: str | None = None
    delay_s: float = 0.0
    used: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "used"}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"unknown rule keys: {', '.join(sorted(unknown))}")
        return cls(**known)


@dataclass
class Answer:
    rule: str
    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {id, name, arguments (str)}
    finish_reason: str = "stop"
    delay_s: float = 0.0


def fill(text: str, groups: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key, arg = match.group(1), match.group(2)
        if key == "days_from_now":
            day = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
            return (day + timedelta(days=int(arg or 0))).isoformat()
        if key in groups and groups[key] is not None:
            return groups[key].strip()
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


def _fill_value(value: Any, groups: dict[str, str]) -> Any:
    if isinstance(value, str):
        return fill(value, groups)
    if isinstance(value, list):
        return [_fill_value(v, groups) for v in value]
    if isinstance(value, dict):
        return {k: _fill_value(v, groups) for k, v in value.items()}
    return value


def _last_user(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _last_tool(messages: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(tool name, result) when the conversation ends with tool results, else None."""
    relevant = [m for m in messages if m.get("role") != "system"]
    if not relevant or relevant[-1].get("role") != "tool":
        return None
    last = relevant[-1]
    name = ""
    for message in reversed(relevant):
        for call in message.get("tool_calls") or []:
            if call.get("id") == last.get("tool_call_id"):
                name = call.get("function", {}).get("name", "")
    return name, _text(last.get("content"))


def choose(rules: list[Rule], body: dict[str, Any], counter: int) -> tuple[Rule | None, dict[str, str]]:
    messages = body.get("messages") or []
    structured = bool(body.get("response_format")) and body["response_format"].get("type") != "text"
    tool = _last_tool(messages)
    for rule in rules:
        if rule.times is not None and rule.used >= rule.times:
            continue
        if rule.model and not re.search(rule.model, str(body.get("model", ""))):
            continue
        groups: dict[str, str] = {}
        if structured:
            if rule.json is None:
                continue
            if rule.user:
                match = re.search(rule.user, _last_user(messages))
                if not match:
                    continue
                groups = match.groupdict()
        elif rule.json is not None:
            continue
        elif tool is not None:
            if rule.tool is None and rule.tool_name is None:
                continue
            if rule.tool_name and rule.tool_name != tool[0]:
                continue
            if rule.tool:
                match = re.search(rule.tool, tool[1])
                if not match:
                    continue
                groups = match.groupdict()
        else:
            if rule.tool is not None or rule.tool_name is not None:
                continue
            if rule.user:
                match = re.search(rule.user, _last_user(messages))
                if not match:
                    continue
                groups = match.groupdict()
        rule.used += 1
        return rule, groups
    return None, {}


def answer_for(rule: Rule, groups: dict[str, str], counter: int) -> Answer:
    import json

    calls = []
    for index, call in enumerate(rule.tool_calls):
        arguments = call.get("raw_arguments")
        if arguments is None:
            arguments = json.dumps(_fill_value(call.get("arguments", {}), groups), ensure_ascii=False)
        calls.append({"id": f"call_{counter}_{index}", "name": call["name"], "arguments": arguments})
    reason = rule.finish_reason or ("tool_calls" if calls else "stop")
    return Answer(
        rule=rule.name,
        text=fill(rule.say, groups),
        tool_calls=calls,
        finish_reason=reason,
        delay_s=rule.delay_s,
    )


def example_from_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A minimal instance of a JSON schema, for structured requests no rule answers."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return example_from_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return example_from_schema(schema[key][0], defs)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {k: example_from_schema(v, defs) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return []
    if kind in ("number", "integer"):
        return 0
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return "scripted"


def load_rules(data: Any) -> list[Rule]:
    """Rules from parsed YAML/JSON: a list of rules, or a mapping with a ``rules`` list."""
    if isinstance(data, dict):
        data = data.get("rules", [])
    return [r if isinstance(r, Rule) else Rule.from_dict(r) for r in data or []]


def load_rules_file(path: str) -> list[Rule]:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if path.endswith(".json"):
        import json

        return load_rules(json.loads(text))
    import yaml

    return load_rules(yaml.safe_load(text))
