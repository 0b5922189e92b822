"""Control API of the emulator (JSON, under /emulator, no authentication; loopback only)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Any

from aiohttp import web

from local.acs_emulator.caller import InteractiveCaller
from local.acs_emulator.calling_api import ENGINE_KEY
from local.acs_emulator.calls import Call, CallEngine
from local.acs_emulator.script import ScriptError, parse_script
from local.acs_emulator.sms import SMS_KEY
from local.acs_emulator.sms_inbound import InboundSmsDesk, InboundSmsError

MAX_WAIT_S = 300.0
INBOUND_SMS_KEY = web.AppKey("inbound_sms", InboundSmsDesk)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"code": str(status), "message": message}}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _engine(request: web.Request) -> CallEngine:
    return request.app[ENGINE_KEY]


def _call(request: web.Request) -> Call | None:
    return _engine(request).calls.get(request.match_info["call_id"])


def _float(request: web.Request, name: str, default: float) -> float:
    try:
        return min(MAX_WAIT_S, max(0.0, float(request.query.get(name, default))))
    except ValueError:
        return default


async def incoming_call(request: web.Request) -> web.StreamResponse:
    try:
        body = await _body(request)
        script = parse_script(body.get("script"))
    except (ValueError, ScriptError) as exc:
        return _error(400, str(exc))
    caller = body.get("caller")
    if not body.get("from") and not isinstance(caller, dict):
        return _error(400, "'from' (the caller's phone number) or 'caller' (an identifier) is required")
    try:
        call = _incoming(request, body, script, caller if isinstance(caller, dict) else None)
    except ValueError as exc:
        return _error(400, str(exc))
    return web.json_response(
        {
            **call.summary(),
            "incoming_call_context": call.incoming_call_context,
            "incoming_event": call.incoming_event,
        },
        status=201,
    )


def _incoming(request: web.Request, body: dict[str, Any], script: Any, caller: dict[str, Any] | None) -> Call:
    return _engine(request).incoming_call(
        str(body.get("from") or ""),
        body.get("to"),
        script,
        bool(body.get("interactive", False)),
        call_connection_id=body.get("call_connection_id"),
        server_call_id=body.get("server_call_id"),
        incoming_call_context=body.get("incoming_call_context"),
        caller_display_name=body.get("caller_display_name"),
        caller=caller,
        answer_refusal=body.get("answer_refusal"),
    )


async def set_script(request: web.Request) -> web.StreamResponse:
    try:
        body = await _body(request)
        script = parse_script(body.get("script"))
    except (ValueError, ScriptError) as exc:
        return _error(400, str(exc))
    if not body.get("phone_number"):
        return _error(400, "'phone_number' is required")
    _engine(request).scripts[str(body["phone_number"])] = script
    return web.json_response(
        {"phone_number": body["phone_number"], "steps": len(script.steps), "answer": script.answer}
    )


async def set_agent(request: web.Request) -> web.StreamResponse:
    try:
        body = await _body(request)
    except ValueError as exc:
        return _error(400, str(exc))
    if not body.get("phone_number"):
        return _error(400, "'phone_number' is required")
    _engine(request).agents[str(body["phone_number"])] = bool(body.get("accept", True))
    return web.json_response({"phone_number": body["phone_number"], "accept": bool(body.get("accept", True))})


async def list_calls(request: web.Request) -> web.StreamResponse:
    return web.json_response({"calls": [c.summary() for c in _engine(request).calls.values()]})


async def get_call(request: web.Request) -> web.StreamResponse:
    call = _call(request)
    if call is None:
        return _error(404, "unknown call")
    return web.json_response(call.summary())


async def transcript(request: web.Request) -> web.StreamResponse:
    call = _call(request)
    if call is None:
        return _error(404, "unknown call")
    try:
        since = max(0, int(request.query.get("since", 0)))
    except ValueError:
        since = 0
    entries = await call.transcript.wait_after(since, _float(request, "wait", 0.0))
    return web.json_response(
        {"call_id": call.call_id, "state": call.state, "ended": call.ended.is_set(), "entries": entries}
    )


async def wait(request: web.Request) -> web.StreamResponse:
    call = _call(request)
    if call is None:
        return _error(404, "unknown call")
    state = request.query.get("state", "disconnected")
    try:
        await _engine(request).wait_for_state(call, state, _float(request, "timeout", 10.0))
    except TimeoutError:
        return web.json_response({**call.summary(), "timed_out": True}, status=408)
    except LookupError as exc:
        return web.json_response({**call.summary(), "error": str(exc)}, status=409)
    return web.json_response(call.summary())


def _interactive(request: web.Request) -> InteractiveCaller | web.Response:
    call = _call(request)
    if call is None:
        return _error(404, "unknown call")
    if not isinstance(call.caller, InteractiveCaller):
        return _error(409, "this call's caller follows a script")
    if call.ended.is_set():
        return _error(409, "the call has ended")
    return call.caller


async def say(request: web.Request) -> web.StreamResponse:
    caller = _interactive(request)
    if isinstance(caller, web.Response):
        return caller
    body = await _body(request)
    if not body.get("text"):
        return _error(400, "'text' is required")
    caller.say(str(body["text"]), body.get("language"))
    return web.json_response({"queued": True}, status=202)


async def dtmf(request: web.Request) -> web.StreamResponse:
    caller = _interactive(request)
    if isinstance(caller, web.Response):
        return caller
    body = await _body(request)
    tones = str(body.get("tones", ""))
    if not tones or any(c not in "0123456789abcdABCD*#" for c in tones):
        return _error(400, "'tones' must use 0-9, A-D, * and #")
    caller.dtmf(tones)
    return web.json_response({"queued": True}, status=202)


async def hangup(request: web.Request) -> web.StreamResponse:
    call = _call(request)
    if call is None:
        return _error(404, "unknown call")
    if not call.ended.is_set():
        call.transcript.add("caller_hangup", who="caller", reason="control API")
        _engine(request).remote_hangup(call)
    return web.json_response(call.summary())


async def sms(request: web.Request) -> web.StreamResponse:
    return web.json_response({"messages": request.app[SMS_KEY].as_json()})


def receive_sms(
    engine: CallEngine, desk: InboundSmsDesk, from_number: str, message: str, to: str | None = None
) -> dict[str, Any]:
    """A text from ``from_number``; it shows in the transcript of that person's live call, if any."""
    event = desk.receive(from_number, message, to)
    for call in engine.calls.values():
        if call.person_number == from_number and not call.ended.is_set():
            call.transcript.add("caller_sms", who="caller", text=message, event_id=event["id"])
    return event


async def inbound_sms(request: web.Request) -> web.StreamResponse:
    try:
        body = await _body(request)
        event = receive_sms(
            _engine(request),
            request.app[INBOUND_SMS_KEY],
            str(body.get("from") or ""),
            str(body.get("message") or ""),
            body.get("to"),
        )
    except (ValueError, InboundSmsError) as exc:
        return _error(400, str(exc))
    return web.json_response({"event": event}, status=202)


async def get_settings(request: web.Request) -> web.StreamResponse:
    config = _engine(request).config
    return web.json_response(
        {
            "speed_factor": config.speed_factor,
            "duplicate_callbacks": config.duplicate_callbacks,
            "out_of_order_callbacks": config.out_of_order_callbacks,
            "concurrent_callbacks": config.concurrent_callbacks,
            "eventgrid_endpoint": config.eventgrid_endpoint,
            "sms_eventgrid_endpoint": config.sms_eventgrid_endpoint,
            "bot_phone_number": config.bot_phone_number,
            "jwt_issuer": config.jwt_issuer,
            "jwt_audience": config.jwt_audience,
        }
    )


async def update_settings(request: web.Request) -> web.StreamResponse:
    config = _engine(request).config
    try:
        body = await _body(request)
        speed = body.get("speed_factor", body.get("speed"))
        if speed is not None:
            config.speed_factor = max(0.0, float(speed))
        if "duplicate_callbacks" in body:
            config.duplicate_callbacks = bool(body["duplicate_callbacks"])
        if "out_of_order_callbacks" in body:
            config.out_of_order_callbacks = bool(body["out_of_order_callbacks"])
        if "concurrent_callbacks" in body:
            config.concurrent_callbacks = bool(body["concurrent_callbacks"])
        if "eventgrid_endpoint" in body:
            config.eventgrid_endpoint = body["eventgrid_endpoint"] or None
        if "sms_eventgrid_endpoint" in body:
            config.sms_eventgrid_endpoint = body["sms_eventgrid_endpoint"] or None
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc))
    return await get_settings(request)


async def deliveries(request: web.Request) -> web.StreamResponse:
    engine = _engine(request)
    return web.json_response({"deliveries": [asdict(r) for r in engine.dispatcher.records]})


async def health(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(0)
    return web.json_response({"status": "ok", "calls": len(_engine(request).calls)})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/emulator/health", health)
    r.add_post("/emulator/incoming-calls", incoming_call)
    r.add_post("/emulator/scripts", set_script)
    r.add_post("/emulator/agents", set_agent)
    r.add_get("/emulator/calls", list_calls)
    r.add_get("/emulator/calls/{call_id}", get_call)
    r.add_get("/emulator/calls/{call_id}/transcript", transcript)
    r.add_get("/emulator/calls/{call_id}/wait", wait)
    r.add_post("/emulator/calls/{call_id}/say", say)
    r.add_post("/emulator/calls/{call_id}/dtmf", dtmf)
    r.add_post("/emulator/calls/{call_id}/hangup", hangup)
    r.add_get("/emulator/sms", sms)
    r.add_post("/emulator/sms/inbound", inbound_sms)
    r.add_get("/emulator/settings", get_settings)
    r.add_post("/emulator/settings", update_settings)
    r.add_get("/emulator/deliveries", deliveries)
