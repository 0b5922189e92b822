"""Async client of the emulator's control API (tests, benchmarks, the CLI)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp


class ControlError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class EmulatorControl:
    """``async with EmulatorControl("http://127.0.0.1:8090") as ctl: await ctl.start_call(...)``"""

    def __init__(
        self, base_url: str = "http://127.0.0.1:8090", session: aiohttp.ClientSession | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> EmulatorControl:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (),
    ) -> Any:
        async with self._client().request(method, f"{self.base_url}{path}", json=json, params=params) as resp:
            body = await resp.json(content_type=None)
            if resp.status >= 400 and resp.status not in ok:
                raise ControlError(resp.status, body)
            return body

    async def start_call(
        self,
        from_number: str,
        script: str | list[Any] | dict[str, Any] | None = None,
        *,
        to: str | None = None,
        interactive: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Ring the bot from ``from_number``; returns the call summary (``call_id`` = callConnectionId)."""
        payload: dict[str, Any] = {"from": from_number, "interactive": interactive, **extra}
        if to is not None:
            payload["to"] = to
        if script is not None:
            payload["script"] = script
        result: dict[str, Any] = await self._request("POST", "/emulator/incoming-calls", payload)
        return result

    async def set_script(self, phone_number: str, script: str | list[Any] | dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._request(
            "POST", "/emulator/scripts", {"phone_number": phone_number, "script": script}
        )
        return result

    async def set_agent(self, phone_number: str, accept: bool) -> dict[str, Any]:
        result: dict[str, Any] = await self._request(
            "POST", "/emulator/agents", {"phone_number": phone_number, "accept": accept}
        )
        return result

    async def list_calls(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._request("GET", "/emulator/calls"))["calls"]
        return result

    async def get_call(self, call_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", f"/emulator/calls/{call_id}")
        return result

    async def transcript(self, call_id: str, since: int = 0, wait: float = 0.0) -> list[dict[str, Any]]:
        body = await self._request(
            "GET", f"/emulator/calls/{call_id}/transcript", params={"since": since, "wait": wait}
        )
        entries: list[dict[str, Any]] = body["entries"]
        return entries

    async def wait(self, call_id: str, state: str = "disconnected", timeout: float = 10.0) -> dict[str, Any]:  # noqa: ASYNC109 (documented helper signature)
        """Long-poll until the call reaches ``state``; raises ``ControlError`` (408) on timeout."""
        result: dict[str, Any] = await self._request(
            "GET", f"/emulator/calls/{call_id}/wait", params={"state": state, "timeout": timeout}
        )
        return result

    async def say(self, call_id: str, text: str, language: str | None = None) -> None:
        await self._request("POST", f"/emulator/calls/{call_id}/say", {"text": text, "language": language})

    async def dtmf(self, call_id: str, tones: str) -> None:
        await self._request("POST", f"/emulator/calls/{call_id}/dtmf", {"tones": tones})

    async def hangup(self, call_id: str) -> None:
        await self._request("POST", f"/emulator/calls/{call_id}/hangup")

    async def sent_sms(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._request("GET", "/emulator/sms"))["messages"]
        return result

    async def receive_sms(self, from_number: str, message: str, to: str | None = None) -> dict[str, Any]:
        """``from_number`` texts the bot (or ``to``); returns the SMSReceived event sent to the product."""
        body: dict[str, Any] = {"from": from_number, "message": message}
        if to:
            body["to"] = to
        event: dict[str, Any] = (await self._request("POST", "/emulator/sms/inbound", body))["event"]
        return event

    async def settings(self, **changes: Any) -> dict[str, Any]:
        """Read (no arguments) or change speed_factor / duplicate_callbacks / out_of_order_callbacks /
        concurrent_callbacks."""
        if not changes:
            result: dict[str, Any] = await self._request("GET", "/emulator/settings")
            return result
        updated: dict[str, Any] = await self._request("POST", "/emulator/settings", changes)
        return updated

    async def inject(self, operation: str, **fault: Any) -> list[dict[str, Any]]:
        """Arm a fault: ``status`` (4xx/5xx), ``delay_s``, ``count``, ``skip`` (local.acs_emulator.faults)."""
        result: list[dict[str, Any]] = (
            await self._request("POST", "/emulator/faults", {"operation": operation, **fault})
        )["faults"]
        return result

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/emulator/faults")

    async def deliveries(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self._request("GET", "/emulator/deliveries"))["deliveries"]
        return result
