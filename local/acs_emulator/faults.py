"""Injected faults per data-plane operation: ACS answering 5xx or 429, or answering late.

A test arms a fault for an operation (``play``, ``recognize``, ``hangup``, ``transfer``, ``cancel``,
``answer``, ``create``, ``sms``, ``recording``) with a status and/or a delay, for the next ``count``
requests (after letting ``skip`` requests through). The faulty request does nothing: the emulator
answers before the operation runs, as a failing front end of the real service would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from local.acs_emulator.errors import error_response

OPERATIONS = ("play", "recognize", "hangup", "transfer", "cancel", "answer", "create", "sms", "recording")


def operation_of(request: web.Request) -> str | None:
    """The operation a data-plane request asks for (None for reads and control requests)."""
    path, method = request.path, request.method
    if path.startswith("/sms") and method == "POST":
        return "sms"
    if path.startswith("/calling/recordings") and method == "POST":
        return "recording"
    if not path.startswith("/calling/callConnections"):
        return None
    if method == "DELETE" or path.endswith(":terminate"):
        return "hangup"
    suffixes = {
        ":play": "play",
        ":recognize": "recognize",
        ":transferToParticipant": "transfer",
        ":cancelAllMediaOperations": "cancel",
        ":answer": "answer",
    }
    for suffix, name in suffixes.items():
        if path.endswith(suffix):
            return name
    if method == "POST" and path.rstrip("/") == "/calling/callConnections":
        return "create"
    return None


@dataclass
class Fault:
    operation: str
    status: int | None = None  # None: answer normally, only late
    delay_s: float = 0.0
    count: int = 1
    skip: int = 0
    hits: int = 0

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Fault:
        operation = str(body.get("operation", ""))
        if operation not in OPERATIONS:
            raise ValueError(f"'operation' must be one of {', '.join(OPERATIONS)}")
        status = body.get("status")
        if status is not None and not (400 <= int(status) <= 599):
            raise ValueError("'status' must be an HTTP error status (400-599)")
        fault = cls(
            operation=operation,
            status=None if status is None else int(status),
            delay_s=max(0.0, float(body.get("delay_s", 0.0))),
            count=max(1, int(body.get("count", 1))),
            skip=max(0, int(body.get("skip", 0))),
        )
        if fault.status is None and fault.delay_s == 0:
            raise ValueError("a fault needs a 'status', a 'delay_s', or both")
        return fault


class FaultTable:
    """The armed faults; first armed, first used."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def take(self, operation: str) -> Fault | None:
        for fault in self.faults:
            if fault.operation != operation:
                continue
            if fault.skip > 0:
                fault.skip -= 1
                return None
            fault.hits += 1
            if fault.hits >= fault.count:
                self.faults.remove(fault)
            return fault
        return None

    def as_json(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.faults]


def fault_middleware(table: FaultTable) -> Any:
    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        operation = operation_of(request)
        fault = table.take(operation) if operation is not None else None
        if fault is None:
            return await handler(request)
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        if fault.status is None:
            return await handler(request)
        if fault.status == 429:
            response = error_response(429, "TooManyRequests", "Injected fault: too many requests.")
            response.headers["Retry-After"] = "0"
            return response
        return error_response(fault.status, "InjectedFault", f"Injected fault on {operation}.")

    return middleware


async def arm(request: web.Request) -> web.StreamResponse:
    table: FaultTable = request.app[FAULTS_KEY]
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        fault = Fault.parse(body)
    except (ValueError, TypeError) as exc:
        return error_response(400, "400", str(exc))
    table.arm(fault)
    return web.json_response({"faults": table.as_json()}, status=201)


async def listed(request: web.Request) -> web.StreamResponse:
    return web.json_response({"faults": request.app[FAULTS_KEY].as_json()})


async def cleared(request: web.Request) -> web.StreamResponse:
    request.app[FAULTS_KEY].clear()
    return web.json_response({"faults": []})


FAULTS_KEY = web.AppKey("faults", FaultTable)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/emulator/faults", arm)
    app.router.add_get("/emulator/faults", listed)
    app.router.add_delete("/emulator/faults", cleared)
