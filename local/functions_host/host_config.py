"""The parts of host.json this adapter honours, with the host's defaults."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)$")


def parse_timespan(value: str | int | float) -> float:
    """Seconds of a .NET TimeSpan string such as ``00:00:30``, ``1.02:00:00`` or ``00:00:00.250``."""
    if isinstance(value, int | float):
        return float(value)
    match = _TIMESPAN.match(value.strip())
    if not match:
        raise ValueError(f"invalid TimeSpan {value!r} (expected [d.]hh:mm:ss[.fff])")
    days = int(match["days"] or 0)
    return days * 86400 + int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])


@dataclass(frozen=True)
class QueueOptions:
    """``extensions.queues`` of host.json (Storage Queues extension 5.x defaults)."""

    batch_size: int = 16
    new_batch_threshold: int | None = None  # default batchSize / 2
    max_polling_interval_s: float = 60.0
    visibility_timeout_s: float = 0.0
    max_dequeue_count: int = 5
    message_encoding: str = "base64"

    @property
    def effective_new_batch_threshold(self) -> int:
        if self.new_batch_threshold is not None:
            return self.new_batch_threshold
        return self.batch_size // 2

    @classmethod
    def from_json(cls, section: dict[str, Any]) -> QueueOptions:
        options = cls(
            batch_size=int(section.get("batchSize", 16)),
            new_batch_threshold=(
                int(section["newBatchThreshold"]) if section.get("newBatchThreshold") is not None else None
            ),
            max_polling_interval_s=parse_timespan(section.get("maxPollingInterval", "00:01:00")),
            visibility_timeout_s=parse_timespan(section.get("visibilityTimeout", "00:00:00")),
            max_dequeue_count=int(section.get("maxDequeueCount", 5)),
            message_encoding=str(section.get("messageEncoding", "base64")).lower(),
        )
        if not 1 <= options.batch_size <= 32:
            raise ValueError("host.json extensions.queues.batchSize must be between 1 and 32")
        if options.max_dequeue_count < 1:
            raise ValueError("host.json extensions.queues.maxDequeueCount must be at least 1")
        if options.max_polling_interval_s < 0.1:
            raise ValueError("host.json extensions.queues.maxPollingInterval must be at least 00:00:00.100")
        if options.message_encoding not in {"base64", "none"}:
            raise ValueError("host.json extensions.queues.messageEncoding must be 'base64' or 'none'")
        return options


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = field(default_factory=QueueOptions)
    function_timeout_s: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostConfig:
        extensions = data.get("extensions") or {}
        http = extensions.get("http") or {}
        timeout = data.get("functionTimeout")
        return cls(
            route_prefix=str(http.get("routePrefix", "api")).strip("/"),
            queues=QueueOptions.from_json(extensions.get("queues") or {}),
            function_timeout_s=parse_timespan(timeout) if timeout not in (None, "", "-1") else None,
        )

    @classmethod
    def load(cls, path: str | Path) -> HostConfig:
        """Read host.json; a missing file gives the host's defaults (as for an app without one)."""
        file = Path(path)
        if not file.exists():
            return cls()
        return cls.from_dict(json.loads(file.read_text(encoding="utf-8-sig")))
