"""Per-call transcript: who said what and when, every media operation and every event."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any


class Transcript:
    """Append-only list of entries ``{"seq", "t", "at", "kind", ...}``; ``t`` is seconds since call start.

    Kinds: call_started, call_state, bot_said, caller_said, caller_dtmf, caller_silence, caller_hangup,
    media_queued, media_started, media_completed, media_canceled, media_failed, event, callback,
    expectation_met, expectation_failed, transfer, recording, note.
    """

    def __init__(self) -> None:
        self._start = time.monotonic()
        self.entries: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    def add(self, kind: str, **fields: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "seq": len(self.entries),
            "t": round(time.monotonic() - self._start, 4),
            "at": datetime.now(UTC).isoformat(),
            "kind": kind,
            **fields,
        }
        self.entries.append(entry)
        self._changed.set()
        self._changed = asyncio.Event()
        return entry

    async def wait_after(self, seq: int, timeout: float) -> list[dict[str, Any]]:  # noqa: ASYNC109 (documented helper signature)
        """Entries with ``seq >= seq``, waiting up to ``timeout`` seconds for at least one."""
        if len(self.entries) <= seq and timeout > 0:
            try:
                async with asyncio.timeout(timeout):
                    while len(self.entries) <= seq:
                        await self._changed.wait()
            except TimeoutError:
                pass
        return self.entries[seq:]

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["kind"] in kinds]
