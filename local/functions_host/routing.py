"""Route templates of the Functions host (ASP.NET Core route template syntax).

Supported: literal segments (case-insensitive), ``{name}``, constraints ``{id:guid}``, ``{n:int:min(1)}``,
optional parameters ``{x?}``, defaults ``{x=value}``, catch-all ``{*rest}`` / ``{**rest}``, complex
segments such as ``{name}.{ext}``, and the host's ``routePrefix``. Candidate routes are tried in
precedence order (literal before constrained parameter before parameter before catch-all), like the
host's router; a route whose template matches but whose methods do not allow the request is skipped,
and when nothing matches the host answers 404.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")

ConstraintCheck = Callable[[str], bool]

_GUID_D = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_GUID_N = re.compile(r"^[0-9a-f]{32}$", re.IGNORECASE)
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_ALPHA = re.compile(r"^[A-Za-z]*$")


def _is_guid(value: str) -> bool:
    inner = value.strip()
    if len(inner) == 38 and (inner[0], inner[-1]) in {("{", "}"), ("(", ")")}:
        inner = inner[1:-1]
    return bool(_GUID_D.match(inner) or _GUID_N.match(inner))


def _int_in(bits: int) -> ConstraintCheck:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: str) -> bool:
        return bool(_INT.match(value)) and low <= int(value) <= high

    return check


def _is_bool(value: str) -> bool:
    return value.strip().lower() in {"true", "false"}


def _is_number(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return not math.isnan(number) or value.strip().lower() == "nan"


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def _as_int(value: str) -> int | None:
    return int(value) if _INT.match(value) and _int_in(64)(value) else None


def _make_constraint(spec: str) -> ConstraintCheck:
    """One constraint, e.g. ``guid``, ``min(1)``, ``regex(^\\d+$)``; ValueError when unknown."""
    match = re.fullmatch(r"(?P<name>[A-Za-z]+)(?:\((?P<args>.*)\))?", spec, re.DOTALL)
    if not match:
        raise ValueError(f"invalid route constraint {spec!r}")
    name, raw_args = match["name"].lower(), match["args"]
    simple: dict[str, ConstraintCheck] = {
        "int": _int_in(32),
        "long": _int_in(64),
        "bool": _is_bool,
        "guid": _is_guid,
        "alpha": lambda v: bool(_ALPHA.match(v)),
        "datetime": _is_datetime,
        "decimal": _is_number,
        "double": _is_number,
        "float": _is_number,
        "required": lambda v: v != "",
        "file": lambda v: "." in v.rsplit("/", 1)[-1],
        "nonfile": lambda v: "." not in v.rsplit("/", 1)[-1],
    }
    if name in simple:
        if raw_args is not None:
            raise ValueError(f"route constraint {name!r} takes no arguments")
        return simple[name]
    if raw_args is None:
        raise ValueError(f"unknown route constraint {spec!r}")
    if name == "regex":
        pattern = re.compile(raw_args, re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    args = [int(part.strip()) for part in raw_args.split(",")]
    checks: dict[str, Callable[[str], bool]] = {
        "minlength": lambda v: len(v) >= args[0],
        "maxlength": lambda v: len(v) <= args[0],
        "length": lambda v: (len(v) == args[0]) if len(args) == 1 else (args[0] <= len(v) <= args[1]),
        "min": lambda v: (n := _as_int(v)) is not None and n >= args[0],
        "max": lambda v: (n := _as_int(v)) is not None and n <= args[0],
        "range": lambda v: (n := _as_int(v)) is not None and args[0] <= n <= args[-1],
    }
    if name not in checks:
        raise ValueError(f"unknown route constraint {spec!r}")
    return checks[name]


def _split_outside_parens(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class Parameter:
    name: str
    constraints: tuple[ConstraintCheck, ...] = ()
    optional: bool = False
    default: str | None = None
    catch_all: bool = False

    @property
    def may_be_absent(self) -> bool:
        return self.optional or self.default is not None or self.catch_all


def _parse_parameter(body: str, template: str) -> Parameter:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    default: str | None = None
    optional = False
    pieces = _split_outside_parens(body, ":")
    head, specs = pieces[0], pieces[1:]
    last = specs[-1] if specs else head
    if "=" in last and "(" not in last.split("=", 1)[0]:
        last, default = last.split("=", 1)
    elif last.endswith("?"):
        last, optional = last[:-1], True
    if specs:
        specs[-1] = last
    else:
        head = last
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", head):
        raise ValueError(f"invalid route parameter name {head!r} in {template!r}")
    return Parameter(
        name=head,
        constraints=tuple(_make_constraint(spec) for spec in specs if spec),
        optional=optional,
        default=default,
        catch_all=catch_all,
    )


def _parse_segment(segment: str, template: str) -> list[str | Parameter]:
    """Literal text and parameters of one segment (``{{`` and ``}}`` escape braces)."""
    parts: list[str | Parameter] = []
    literal: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if segment.startswith("{{", i) or segment.startswith("}}", i):
            literal.append(char)
            i += 2
            continue
        if char == "{":
            depth, j = 0, i + 1
            while j < len(segment) and not (segment[j] == "}" and depth == 0):
                depth += {"(": 1, ")": -1}.get(segment[j], 0)
                j += 1
            if j >= len(segment):
                raise ValueError(f"unclosed '{{' in route {template!r}")
            if literal:
                parts.append("".join(literal))
                literal = []
            body = segment[i + 1 : j].replace("{{", "{").replace("}}", "}")
            parts.append(_parse_parameter(body, template))
            i = j + 1
            continue
        if char == "}":
            raise ValueError(f"unmatched '}}' in route {template!r}")
        literal.append(char)
        i += 1
    if literal:
        parts.append("".join(literal))
    return parts


@dataclass
class RouteTemplate:
    """A compiled route template (with the host's route prefix already applied)."""

    template: str
    regex: re.Pattern[str]
    parameters: dict[str, Parameter]
    precedence: tuple[int, ...]

    def match(self, path: str) -> dict[str, str] | None:
        """Route values of ``path`` (raw, percent-encoded, without query), or None."""
        normalized = "/" + path.strip("/") if path.strip("/") else ""
        found = self.regex.match(normalized)
        if not found:
            return None
        values: dict[str, str] = {}
        for group, parameter in self.parameters.items():
            raw = found.group(group)
            if raw is None or (raw == "" and parameter.may_be_absent):
                if parameter.default is not None:
                    values[parameter.name] = parameter.default
                continue
            value = unquote(raw)
            if not all(check(value) for check in parameter.constraints):
                return None
            values[parameter.name] = value
        return values


def compile_route(route: str, route_prefix: str = "") -> RouteTemplate:
    """Compile ``route`` under ``route_prefix``; ValueError for an invalid template."""
    full = "/".join(part.strip("/") for part in (route_prefix, route.lstrip("~")) if part.strip("/"))
    segments = [s for s in full.split("/")] if full else []
    if any(s == "" for s in segments):
        raise ValueError(f"empty segment in route {full!r}")
    parsed = [_parse_segment(s, full) for s in segments]
    parameters: dict[str, Parameter] = {}
    precedence: list[int] = []
    pieces: list[tuple[str, bool]] = []  # (regex of "/segment", may be absent)
    for index, parts in enumerate(parsed):
        regex_parts: list[str] = []
        params_here = [p for p in parts if isinstance(p, Parameter)]
        for part in parts:
            if isinstance(part, str):
                regex_parts.append(re.escape(part))
                continue
            if part.catch_all and index != len(parsed) - 1:
                raise ValueError(f"catch-all parameter must be last in route {full!r}")
            group = f"p{len(parameters)}"
            if part.name.lower() in {p.name.lower() for p in parameters.values()}:
                raise ValueError(f"duplicate route parameter {part.name!r} in {full!r}")
            parameters[group] = part
            if part.catch_all:
                body = ".*"
            elif len(parts) == 1:
                body = "[^/]+"
            else:
                body = "[^/]+?"
            regex_parts.append(f"(?P<{group}>{body})")
        single = len(parts) == 1 and isinstance(parts[0], Parameter)
        if not params_here:
            precedence.append(1)
        elif not single:
            precedence.append(2)
        elif params_here[0].catch_all:
            precedence.append(5)
        elif params_here[0].constraints:
            precedence.append(3)
        else:
            precedence.append(4)
        pieces.append(("/" + "".join(regex_parts), single and params_here[0].may_be_absent))
    tail = ""
    trailing_optional = True
    for regex_piece, may_be_absent in reversed(pieces):
        trailing_optional = trailing_optional and may_be_absent
        tail = f"(?:{regex_piece}{tail})?" if trailing_optional else f"{regex_piece}{tail}"
    return RouteTemplate(
        template=full,
        regex=re.compile(f"^{tail}$", re.IGNORECASE | re.DOTALL),
        parameters=parameters,
        precedence=tuple(precedence),
    )


@dataclass
class RouteEntry(Generic[T]):
    route: RouteTemplate
    methods: frozenset[str]  # empty = every method
    target: T


@dataclass
class RouteMatch(Generic[T]):
    target: T
    route_params: dict[str, str]


@dataclass
class Router(Generic[T]):
    """Routes in precedence order; ``resolve`` returns the first one that matches path and method."""

    entries: list[RouteEntry[T]] = field(default_factory=list)

    def add(self, route: RouteTemplate, methods: Iterable[str], target: T) -> None:
        self.entries.append(RouteEntry(route, frozenset(m.upper() for m in methods), target))
        self.entries.sort(key=lambda e: (e.route.precedence, e.route.template.lower()))

    def resolve(self, method: str, path: str) -> RouteMatch[T] | None:
        for entry in self.entries:
            if entry.methods and method.upper() not in entry.methods:
                continue
            values = entry.route.match(path)
            if values is not None:
                return RouteMatch(entry.target, values)
        return None

    def templates(self) -> Sequence[str]:
        return [entry.route.template for entry in self.entries]
