"""A small aiohttp server playing the bot's side: receives callbacks and Event Grid deliveries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.waiting import wait_until


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    status: int


@dataclass
class CallbackReceiver:
    """Records every POST; answers ``fail_next`` requests with 500 first."""

    fail_next: int = 0
    received: list[Received] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str = "/callbacks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        status = 200
        if self.fail_next > 0:
            self.fail_next -= 1
            status = 500
        self.received.append(Received(request.path, dict(request.headers), body, status))
        self._changed.set()
        self._changed = asyncio.Event()
        return web.Response(status=status)

    # -- reading -------------------------------------------------------------------------------
    def events(self, call_id: str | None = None, accepted_only: bool = True) -> list[dict[str, Any]]:
        """Call Automation events (CloudEvents), in arrival order."""
        out = []
        for item in self.received:
            if accepted_only and item.status != 200:
                continue
            for event in item.body:
                if "type" not in event:
                    continue
                if call_id is None or event["data"].get("callConnectionId") == call_id:
                    out.append(event)
        return out

    def types(self, call_id: str | None = None, *, participants: bool = False) -> list[str]:
        """Event types received, in order; ParticipantsUpdated only with ``participants=True`` (it
        comes with every connect and leave, and most tests are about the media events)."""
        found = [e["type"].removeprefix("Microsoft.Communication.") for e in self.events(call_id)]
        return [t for t in found if participants or t != "ParticipantsUpdated"]

    def eventgrid(self) -> list[Received]:
        return [r for r in self.received if r.headers.get("aeg-event-type") == "Notification"]

    async def wait_for(
        self, event_type: str, call_id: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` events of a type arrived (accepted); returns them all."""

        def enough() -> list[dict[str, Any]] | None:
            found = [e for e in self.events(call_id) if e["type"].endswith(f".{event_type}")]
            return found if len(found) >= count else None

        return await wait_until(
            enough,
            timeout=timeout,
            what=f"{count} {event_type} callback(s)" + (f" of call {call_id}" if call_id else ""),
            wake=self._wait_for_post,
            seen=lambda: self.types(call_id),
        )

    async def wait_until(
        self, predicate: Callable[[], object], timeout: float = 5.0, what: str = "a condition on callbacks"
    ) -> None:
        await wait_until(
            predicate, timeout=timeout, what=what, wake=self._wait_for_post, seen=lambda: self.types()
        )

    async def _wait_for_post(self) -> None:
        await self._changed.wait()
