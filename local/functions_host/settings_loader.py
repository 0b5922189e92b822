"""``local.settings.json``: app settings for local runs, applied the way ``func start`` applies them.

Core Tools sets each entry of ``Values`` as an environment variable of the host and the worker, but
skips (with a warning) any name already defined in the environment: the environment wins.
The file holds secrets; it is git-ignored and must never be committed.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger("local.functions_host")


@dataclass
class LocalSettings:
    values: dict[str, str] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    local_http_port: int | None = None


def load_local_settings(path: str | Path = "local.settings.json", *, apply: bool = True) -> LocalSettings:
    """Read ``path`` if it exists and (with ``apply``) put its ``Values`` into ``os.environ``."""
    file = Path(path)
    if not file.exists():
        return LocalSettings()
    data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8-sig"))
    if data.get("IsEncrypted"):
        raise ValueError(f"{file} is encrypted; decrypt it with 'func settings decrypt' first")
    raw_values = data.get("Values") or {}
    values = {str(k): "" if v is None else str(v) for k, v in raw_values.items()}
    host_section = data.get("Host") or {}
    port = host_section.get("LocalHttpPort")
    result = LocalSettings(values=values, local_http_port=int(port) if port else None)
    if not apply:
        return result
    for name, value in values.items():
        if os.environ.get(name):
            logger.warning(
                "Skipping '%s' from local settings as it's already defined in the environment.", name
            )
            result.skipped.append(name)
        else:
            os.environ[name] = value
            result.applied.append(name)
    return result
