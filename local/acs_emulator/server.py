"""The emulator's HTTP server and in-process handle (``AcsEmulator``)."""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from local.acs_emulator import calling_api, control_api, faults, sms
from local.acs_emulator.auth import hmac_middleware
from local.acs_emulator.callbacks import Dispatcher
from local.acs_emulator.calls import Call, CallEngine
from local.acs_emulator.config import EmulatorConfig
from local.acs_emulator.errors import error_response
from local.acs_emulator.jwks import CallbackSigner
from local.acs_emulator.script import parse_script
from local.acs_emulator.sms import SMS_KEY, SmsStore
from local.acs_emulator.sms_inbound import DeliveryOutcome, InboundSmsDesk

__all__ = ["AcsEmulator", "EmulatorConfig"]

API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
JWKS_PATH = "/calling/keys"


def _is_data_plane(request: web.Request) -> bool:
    path = request.path
    if path == JWKS_PATH:
        return False
    return path.startswith(("/calling", "/sms", "/deliveryReports"))


@web.middleware
async def api_version_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if _is_data_plane(request):
        version = request.query.get("api-version")
        if not version:
            return error_response(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required.",
            )
        if not API_VERSION.match(version):
            return error_response(
                400, "InvalidApiVersionParameter", f"The api-version '{version}' is invalid."
            )
    return await handler(request)


@dataclass
class ExchangeRecord:
    """One data-plane request and the emulator's answer (kept for tests and debugging)."""

    method: str
    path: str
    query: dict[str, str]
    request_body: Any
    status: int
    response_body: Any


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def exchange_log_middleware(log: deque[ExchangeRecord]) -> Any:
    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if _is_data_plane(request):
            body = response.body if isinstance(response, web.Response) else None
            log.append(
                ExchangeRecord(
                    request.method,
                    request.path,
                    dict(request.query),
                    _json_or_none(await request.read()),
                    response.status,
                    _json_or_none(body if isinstance(body, bytes) else b""),
                )
            )
        return response

    return middleware


class AcsEmulator:
    """Azure Communication Services on loopback. ``await start()``, then point the SDKs at ``base_url``."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.signer = CallbackSigner(self.config.jwt_issuer, self.config.jwt_audience)
        self.dispatcher = Dispatcher(self.config, self.signer)
        self.engine = CallEngine(self.config, self.dispatcher)
        self.sms = SmsStore(self.config)
        self.inbound_sms = InboundSmsDesk(self.config, self.dispatcher)
        self.exchanges: deque[ExchangeRecord] = deque(maxlen=2000)
        self.faults = faults.FaultTable()
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}{JWKS_PATH}"

    def build_app(self) -> web.Application:
        app = web.Application(
            middlewares=[
                exchange_log_middleware(self.exchanges),
                api_version_middleware,
                hmac_middleware(lambda: self.config.access_key, _is_data_plane),
                faults.fault_middleware(self.faults),
            ],
            client_max_size=4 * 1024 * 1024,
        )
        app[calling_api.ENGINE_KEY] = self.engine
        app[SMS_KEY] = self.sms
        app[control_api.INBOUND_SMS_KEY] = self.inbound_sms
        app[faults.FAULTS_KEY] = self.faults
        app.router.add_get(JWKS_PATH, self._jwks)
        calling_api.add_routes(app)
        sms.add_routes(app)
        control_api.add_routes(app)
        faults.add_routes(app)
        return app

    async def _jwks(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.signer.jwks())

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await self.dispatcher.start()
        self._runner = web.AppRunner(self.build_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        await self.engine.stop()
        await self.dispatcher.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> AcsEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- in-process helpers (tests, benchmarks) ---------------------------------------------
    def start_incoming_call(
        self,
        from_number: str,
        script: str | list[Any] | dict[str, Any] | None = None,
        *,
        to: str | None = None,
        interactive: bool = False,
        caller: dict[str, Any] | None = None,
        answer_refusal: str | None = None,
        caller_display_name: str | None = None,
        call_connection_id: str | None = None,
        server_call_id: str | None = None,
        deliver_callbacks: bool = True,
    ) -> Call:
        """Ring the bot (IncomingCall to the Event Grid endpoint); returns the call (``call.call_id``).

        ``to``: the number called (another number of the resource than the bot's); ``caller``: a caller
        that is not a phone number (identifier model; ``from_number`` may also be the raw id of an ACS
        or Teams user); ``answer_refusal``: make ACS refuse the bot's answer (caller_hung_up, expired,
        already_answered; see local.acs_emulator.answering). With ``deliver_callbacks=False`` the call's
        own events are recorded but not sent (a test then replays recorded ones in their place)."""
        return self.engine.incoming_call(
            from_number,
            to,
            parse_script(script),
            interactive,
            caller=caller,
            answer_refusal=answer_refusal,
            call_connection_id=call_connection_id,
            server_call_id=server_call_id,
            caller_display_name=caller_display_name,
            deliver_callbacks=deliver_callbacks,
        )

    def set_script(self, phone_number: str, script: str | list[Any] | dict[str, Any] | None) -> None:
        """The script the person on ``phone_number`` follows when the bot calls them."""
        self.engine.scripts[phone_number] = parse_script(script)

    def inject(
        self,
        operation: str,
        *,
        status: int | None = None,
        delay_s: float = 0.0,
        count: int = 1,
        skip: int = 0,
    ) -> None:
        """Make the next ``count`` ``operation`` requests (after ``skip``) fail with ``status`` and/or
        answer ``delay_s`` late (see local.acs_emulator.faults)."""
        self.faults.arm(
            faults.Fault.parse(
                {"operation": operation, "status": status, "delay_s": delay_s, "count": count, "skip": skip}
            )
        )

    def set_agent(self, phone_number: str, accept: bool) -> None:
        """Whether the human agent on ``phone_number`` accepts transfers."""
        self.engine.agents[phone_number] = accept

    def call(self, call_id: str) -> Call:
        return self.engine.calls[call_id]

    def transcript(self, call_id: str) -> list[dict[str, Any]]:
        return list(self.engine.calls[call_id].transcript.entries)

    @property
    def sent_sms(self) -> list[dict[str, Any]]:
        return self.sms.as_json()

    def receive_sms(self, from_number: str, message: str, to: str | None = None) -> dict[str, Any]:
        """``from_number`` texts the bot (or ``to``): the SMSReceived event goes to
        ``config.sms_eventgrid_endpoint``; returns the event (``wait_for_sms_delivery(event["id"])``)."""
        return control_api.receive_sms(self.engine, self.inbound_sms, from_number, message, to)

    async def wait_for_sms_delivery(self, event_id: str, timeout: float = 30.0) -> DeliveryOutcome:  # noqa: ASYNC109 (documented helper signature)
        """Wait until the product has answered the SMSReceived event (or every retry is spent)."""
        return await self.inbound_sms.wait_delivered(event_id, timeout)

    async def wait_for_calls(self, count: int, timeout: float = 10.0) -> list[Call]:  # noqa: ASYNC109 (documented helper signature)
        """Wait until at least ``count`` calls exist (inbound or outbound)."""
        return await self.engine.wait_for_calls(count, timeout)

    async def wait_for_state(self, call_id: str, state: str, timeout: float = 10.0) -> Call:  # noqa: ASYNC109 (documented helper signature)
        return await self.engine.wait_for_state(self.engine.calls[call_id], state, timeout)

    async def wait_for_call_end(self, call_id: str, timeout: float = 10.0) -> Call:  # noqa: ASYNC109 (documented helper signature)
        call = self.engine.calls[call_id]
        async with asyncio.timeout(timeout):
            await call.ended.wait()
        return call

    async def drain_callbacks(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 (documented helper signature)
        """Wait until every callback raised so far has been delivered (or given up)."""
        await self.dispatcher.drain(timeout)
