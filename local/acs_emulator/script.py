"""The simulated caller's script (YAML or JSON).

Either a list of steps, a mapping ``{answer: bool, ring_seconds: float, steps: [...]}``, or an
answering machine: ``{answering_machine: {greeting: "...", language: en-US, record_seconds: 60}}``
(it picks up, says its greeting at once over whatever the bot says, then records in silence for
``record_seconds`` of recognitions and hangs up; ``Script.kind`` is ``answering_machine``). Steps::

    - say: "My car was hit"      # optional: language: fr-FR, barge_in: true (into the bot's
                                 # speech), while_thinking: true (before the bot answers)
    - silence: 7                 # silent through recognitions totalling 7 simulated seconds
    - dtmf: "1#"
    - expect: "(?i)hello"        # optional: within: 5  (real seconds)
    - hangup: true
    - answer: false              # only meaningful first: do not pick up (outbound calls)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml


class ScriptError(ValueError):
    """The script cannot be parsed."""


@dataclass
class Say:
    text: str
    language: str | None = None
    barge_in: bool = False
    while_thinking: bool = False


@dataclass
class Silence:
    seconds: float
    remaining: float = field(init=False)

    def __post_init__(self) -> None:
        self.remaining = self.seconds


@dataclass
class Dtmf:
    tones: str


@dataclass
class Expect:
    pattern: re.Pattern[str]
    within: float | None = None


@dataclass
class Hangup:
    pass


Step = Say | Silence | Dtmf | Expect | Hangup


@dataclass
class Script:
    steps: list[Step] = field(default_factory=list)
    answer: bool = True
    ring_seconds: float = 1.0
    kind: str = "person"  # or "answering_machine"


DTMF_CHARS = set("0123456789abcdABCD*#")


def _parse_step(raw: Any, index: int) -> Step | None:
    if not isinstance(raw, dict):
        raise ScriptError(f"step {index}: expected a mapping, got {raw!r}")
    if "say" in raw:
        return Say(
            str(raw["say"]),
            raw.get("language"),
            bool(raw.get("barge_in", False)),
            bool(raw.get("while_thinking", False)),
        )
    if "silence" in raw:
        seconds = float(raw["silence"])
        if seconds < 0:
            raise ScriptError(f"step {index}: silence must be >= 0")
        return Silence(seconds)
    if "dtmf" in raw:
        tones = str(raw["dtmf"])
        if not tones or any(c not in DTMF_CHARS for c in tones):
            raise ScriptError(f"step {index}: dtmf must use 0-9, A-D, * and #")
        return Dtmf(tones)
    if "expect" in raw:
        try:
            pattern = re.compile(str(raw["expect"]))
        except re.error as exc:
            raise ScriptError(f"step {index}: bad regex: {exc}") from exc
        within = raw.get("within")
        return Expect(pattern, float(within) if within is not None else None)
    if "hangup" in raw:
        return Hangup() if raw["hangup"] else None
    if "answer" in raw:
        return None
    raise ScriptError(f"step {index}: unknown step {sorted(raw)}")


def parse_script(source: str | list[Any] | dict[str, Any] | None) -> Script:
    """Parse YAML/JSON text or an already-decoded list/mapping."""
    if source is None:
        return Script()
    data: Any = source
    if isinstance(source, str):
        try:
            data = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            try:
                data = json.loads(source)
            except ValueError:
                raise ScriptError(f"script is neither YAML nor JSON: {exc}") from exc
    if data is None:
        return Script()
    if isinstance(data, dict) and "answering_machine" in data:
        return _answering_machine(data)
    script = Script()
    raw_steps: Any = data
    if isinstance(data, dict):
        script.answer = bool(data.get("answer", True))
        script.ring_seconds = float(data.get("ring_seconds", script.ring_seconds))
        raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list):
        raise ScriptError("script must be a list of steps or a mapping with 'steps'")
    for index, raw in enumerate(raw_steps):
        if isinstance(raw, dict) and "answer" in raw and len(raw) == 1:
            script.answer = bool(raw["answer"])
            continue
        step = _parse_step(raw, index)
        if step is not None:
            script.steps.append(step)
    return script


DEFAULT_MACHINE_GREETING = (
    "Hi, you've reached the voicemail of this number. I can't take your call right now. "
    "Please leave a message after the tone."
)


def _answering_machine(data: dict[str, Any]) -> Script:
    machine = data["answering_machine"]
    if machine is None or machine is True:
        machine = {}
    if not isinstance(machine, dict):
        raise ScriptError("answering_machine must be a mapping {greeting, language, record_seconds}")
    record = float(machine.get("record_seconds", 60))
    if record < 0:
        raise ScriptError("answering_machine.record_seconds must be >= 0")
    greeting = Say(str(machine.get("greeting") or DEFAULT_MACHINE_GREETING), machine.get("language"), True)
    return Script(
        steps=[greeting, Silence(record)],
        ring_seconds=float(data.get("ring_seconds", 1.0)),
        kind="answering_machine",
    )
