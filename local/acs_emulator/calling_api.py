"""Call Automation REST API (contract: callautomation/2025-06-15), served with aiohttp."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from local.acs_emulator import answering
from local.acs_emulator.audio import source_fields_problem
from local.acs_emulator.calls import Call, CallEngine
from local.acs_emulator.cognitive import (
    cognitive_services_endpoint,
    needs_cognitive_services,
    refused_without_cognitive_services,
)
from local.acs_emulator.errors import BadRequest as _BadRequest
from local.acs_emulator.errors import bad_request, call_not_found, error_response, not_established
from local.acs_emulator.identifiers import phone_number, raw_id
from local.acs_emulator.media import MediaOp

ENGINE_KEY = web.AppKey("engine", CallEngine)
BODY_KEY = web.RequestKey("body", dict)
CALL_ID = r"{call_id:[^/:]+}"
RECORDING_ID = r"{recording_id:[^/:]+}"
INPUT_TYPES = {"dtmf", "speech", "speechOrDtmf", "choices"}


async def _json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _BadRequest(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _BadRequest("The request body must be a JSON object.")
    return body


def _require(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if body.get(n) in (None, "", [])]
    if missing:
        raise _BadRequest(f"The {', '.join(missing)} field(s) are required.")


def _engine(request: web.Request) -> CallEngine:
    return request.app[ENGINE_KEY]


def _call(request: web.Request) -> Call | None:
    return _engine(request).find(request.match_info["call_id"])


def _handle_errors(handler: Any) -> Any:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except _BadRequest as exc:
            return bad_request(exc.message)

    wrapped.__name__ = handler.__name__
    return wrapped


def _live_call(request: web.Request) -> Call | web.Response:
    call = _call(request)
    if call is None or call.ended.is_set():
        return call_not_found(request.match_info["call_id"])
    return call


@_handle_errors
async def create_call(request: web.Request) -> web.StreamResponse:
    engine = _engine(request)
    body = await _json(request)
    _require(body, "targets", "callbackUri")
    targets = body["targets"]
    if not isinstance(targets, list) or len(targets) != 1 or not raw_id(targets[0]):
        raise _BadRequest("Exactly one target with an identifier is supported.")
    source = (body.get("sourceCallerIdNumber") or {}).get("value")
    if phone_number(targets[0]) is not None and not source:
        raise _BadRequest("sourceCallerIdNumber is required when calling a PSTN number.")
    if source and source not in engine.config.owned_numbers:
        return error_response(
            403, "Forbidden", f"The source caller id {source} is not owned by this resource."
        )
    call = engine.create_call(
        targets[0],
        str(body["callbackUri"]),
        body.get("operationContext"),
        source or engine.config.bot_phone_number,
        cognitive_services_endpoint(body),
    )
    return web.json_response(call.properties(), status=201)


@_handle_errors
async def answer_call(request: web.Request) -> web.StreamResponse:
    engine = _engine(request)
    body = await _json(request)
    _require(body, "incomingCallContext", "callbackUri")
    endpoint = cognitive_services_endpoint(body)
    call = engine.by_context.get(str(body["incomingCallContext"]))
    if call is None:
        raise _BadRequest("The incomingCallContext is invalid.")
    refused = answering.refusal(engine, call, str(body["incomingCallContext"]))
    if refused is not None:
        return refused
    engine.answer(call, str(body["callbackUri"]), body.get("operationContext"), endpoint)
    return web.json_response(call.properties(), status=200)


async def _pending_call(request: web.Request) -> Call | web.Response:
    engine = _engine(request)
    body = await _json(request)
    _require(body, "incomingCallContext")
    call = engine.by_context.get(str(body["incomingCallContext"]))
    if call is None:
        raise _BadRequest("The incomingCallContext is invalid.")
    refused = answering.refusal(engine, call, str(body["incomingCallContext"]))
    if refused is not None:
        return refused
    request[BODY_KEY] = body
    return call


@_handle_errors
async def reject_call(request: web.Request) -> web.StreamResponse:
    call = await _pending_call(request)
    if isinstance(call, web.Response):
        return call
    _engine(request).reject(call, request[BODY_KEY].get("callRejectReason"))
    return web.Response(status=204)


@_handle_errors
async def redirect_call(request: web.Request) -> web.StreamResponse:
    call = await _pending_call(request)
    if isinstance(call, web.Response):
        return call
    _require(request[BODY_KEY], "target")
    _engine(request).redirect(call, request[BODY_KEY]["target"])
    return web.Response(status=204)


@_handle_errors
async def get_call(request: web.Request) -> web.StreamResponse:
    call = _call(request)
    if call is None:
        return call_not_found(request.match_info["call_id"])
    return web.json_response(call.properties())


@_handle_errors
async def hang_up(request: web.Request) -> web.StreamResponse:
    call = _live_call(request)
    if isinstance(call, web.Response):
        return call
    _engine(request).bot_hangup(call)
    return web.Response(status=204)


@_handle_errors
async def transfer(request: web.Request) -> web.StreamResponse:
    call = _live_call(request)
    if isinstance(call, web.Response):
        return call
    body = await _json(request)
    _require(body, "targetParticipant")
    if call.state != "connected":
        return not_established()
    _engine(request).transfer(
        call, body["targetParticipant"], body.get("operationContext"), body.get("operationCallbackUri")
    )
    response: dict[str, Any] = {}
    if body.get("operationContext") is not None:
        response["operationContext"] = body["operationContext"]
    return web.json_response(response, status=202)


def _check_play_sources(sources: Any, field: str) -> None:
    if not isinstance(sources, list):
        raise _BadRequest(f"{field} must be a list.")
    for source in sources:
        kind = source.get("kind") if isinstance(source, dict) else None
        if kind not in ("text", "ssml", "file") or not isinstance(source.get(kind), dict):
            raise _BadRequest(f"Each of {field} needs a kind (text, ssml, file) and the matching object.")
        problem = source_fields_problem(source, field)
        if problem is not None:
            raise _BadRequest(problem)


@_handle_errors
async def play(request: web.Request) -> web.StreamResponse:
    call = _live_call(request)
    if isinstance(call, web.Response):
        return call
    body = await _json(request)
    _require(body, "playSources")
    _check_play_sources(body["playSources"], "playSources")
    if call.state != "connected":
        return not_established()
    if needs_cognitive_services(body["playSources"]):
        refused = refused_without_cognitive_services(call)
        if refused is not None:
            return refused
    assert call.media is not None
    op = MediaOp("play", body, body.get("operationContext"), body.get("operationCallbackUri"))
    call.media.enqueue(op, interrupt=bool(body.get("interruptCallMediaOperation")))
    return web.Response(status=202)


def _check_timeouts(options: dict[str, Any]) -> None:
    """The contract's types and ranges: whole seconds 0-300, whole milliseconds."""
    initial = options.get("initialSilenceTimeoutInSeconds")
    if initial is not None and (type(initial) is not int or not 0 <= initial <= 300):
        raise _BadRequest("recognizeOptions.initialSilenceTimeoutInSeconds must be an integer from 0 to 300.")
    end_ms = (options.get("speechOptions") or {}).get("endSilenceTimeoutInMs")
    if end_ms is not None and (type(end_ms) is not int or end_ms < 0):
        raise _BadRequest(
            "recognizeOptions.speechOptions.endSilenceTimeoutInMs must be a whole number of ms."
        )


@_handle_errors
async def recognize(request: web.Request) -> web.StreamResponse:
    call = _live_call(request)
    if isinstance(call, web.Response):
        return call
    body = await _json(request)
    _require(body, "recognizeInputType", "recognizeOptions")
    if body["recognizeInputType"] not in INPUT_TYPES:
        raise _BadRequest(f"recognizeInputType must be one of {sorted(INPUT_TYPES)}.")
    options = body["recognizeOptions"]
    if not isinstance(options, dict) or not raw_id(options.get("targetParticipant")):
        raise _BadRequest("recognizeOptions.targetParticipant is required.")
    if body["recognizeInputType"] == "choices" and not options.get("choices"):
        raise _BadRequest("recognizeOptions.choices is required for recognizeInputType choices.")
    if body.get("playPrompt") is not None:
        _check_play_sources([body["playPrompt"]], "playPrompt")
    if body.get("playPrompts") is not None:
        _check_play_sources(body["playPrompts"], "playPrompts")
    _check_timeouts(options)
    if call.state != "connected":
        return not_established()
    prompts = list(body.get("playPrompts") or []) + ([body["playPrompt"]] if body.get("playPrompt") else [])
    if body["recognizeInputType"] != "dtmf" or needs_cognitive_services(prompts):
        refused = refused_without_cognitive_services(call)
        if refused is not None:
            return refused
    assert call.media is not None
    op = MediaOp("recognize", body, body.get("operationContext"), body.get("operationCallbackUri"))
    call.media.enqueue(op, interrupt=bool(body.get("interruptCallMediaOperation")))
    return web.Response(status=202)


@_handle_errors
async def cancel_all_media(request: web.Request) -> web.StreamResponse:
    call = _live_call(request)
    if isinstance(call, web.Response):
        return call
    assert call.media is not None
    call.media.cancel_all()
    return web.Response(status=202)


@_handle_errors
async def start_recording(request: web.Request) -> web.StreamResponse:
    engine = _engine(request)
    body = await _json(request)
    locator = body.get("callLocator") or {}
    call: Call | None = None
    if body.get("callConnectionId"):
        call = engine.find(str(body["callConnectionId"]))
    elif locator.get("serverCallId"):
        call = engine.find_by_server_call_id(str(locator["serverCallId"]))
    else:
        raise _BadRequest("callLocator.serverCallId or callConnectionId is required.")
    if call is None or call.ended.is_set():
        return error_response(404, "8522", "Call not found for recording.")
    recording = engine.start_recording(
        call,
        body.get("recordingStateCallbackUri"),
        bool(body.get("pauseOnStart", False)),
        recording_options(body),
    )
    return web.json_response(recording.body(), status=200)


_CONTENTS = {"audio", "audioVideo"}
_CHANNELS = {"mixed", "unmixed"}
_FORMATS = {"wav", "mp3", "mp4"}


def recording_options(body: dict[str, Any]) -> dict[str, Any]:
    """Content, channel, format and external storage of a start-recording request, checked as ACS
    does (defaults: audioVideo, mixed, mp4; audioVideo is mp4 only, wav is audio only)."""
    content = body.get("recordingContentType") or "audioVideo"
    channel = body.get("recordingChannelType") or "mixed"
    fmt = body.get("recordingFormatType") or ("mp4" if content == "audioVideo" else "wav")
    if content not in _CONTENTS or channel not in _CHANNELS or fmt not in _FORMATS:
        raise _BadRequest("recordingContentType, recordingChannelType or recordingFormatType is invalid.")
    if (content == "audioVideo") != (fmt == "mp4"):
        raise _BadRequest(f"recordingFormatType {fmt} is not supported for recordingContentType {content}.")
    options: dict[str, Any] = {"content": content, "channel": channel, "format": fmt}
    storage = body.get("externalStorage")
    if storage is not None:
        if not isinstance(storage, dict) or storage.get("recordingStorageKind") != "azureBlobStorage":
            raise _BadRequest("externalStorage.recordingStorageKind must be azureBlobStorage.")
        url = str(storage.get("recordingDestinationContainerUrl") or "")
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise _BadRequest("externalStorage.recordingDestinationContainerUrl must be a container URL.")
        options["container_url"] = url.rstrip("/")
    return options


def _recording(request: web.Request) -> Any:
    recording = _engine(request).recordings.get(request.match_info["recording_id"])
    if recording is None:
        return error_response(404, "8522", "Recording not found.")
    return recording


async def get_recording(request: web.Request) -> web.StreamResponse:
    recording = _recording(request)
    if isinstance(recording, web.Response):
        return recording
    return web.json_response(recording.body())


async def stop_recording(request: web.Request) -> web.StreamResponse:
    recording = _recording(request)
    if isinstance(recording, web.Response):
        return recording
    engine = _engine(request)
    if recording.state == "active":
        engine.set_recording_state(recording, "inactive")
    engine.finish_recording(recording)
    del engine.recordings[recording.recording_id]
    return web.Response(status=204)


async def pause_recording(request: web.Request) -> web.StreamResponse:
    recording = _recording(request)
    if isinstance(recording, web.Response):
        return recording
    if recording.state == "active":
        _engine(request).set_recording_state(recording, "inactive")
    return web.Response(status=202)


async def resume_recording(request: web.Request) -> web.StreamResponse:
    recording = _recording(request)
    if isinstance(recording, web.Response):
        return recording
    if recording.state != "active":
        _engine(request).set_recording_state(recording, "active")
    return web.Response(status=202)


def add_routes(app: web.Application) -> None:
    base = "/calling/callConnections"
    app.router.add_post(base, create_call)
    app.router.add_post(f"{base}:answer", answer_call)
    app.router.add_post(f"{base}:reject", reject_call)
    app.router.add_post(f"{base}:redirect", redirect_call)
    app.router.add_get(f"{base}/{CALL_ID}", get_call)
    app.router.add_delete(f"{base}/{CALL_ID}", hang_up)
    app.router.add_post(f"{base}/{CALL_ID}:terminate", hang_up)
    app.router.add_post(f"{base}/{CALL_ID}:transferToParticipant", transfer)
    app.router.add_post(f"{base}/{CALL_ID}:play", play)
    app.router.add_post(f"{base}/{CALL_ID}:recognize", recognize)
    app.router.add_post(f"{base}/{CALL_ID}:cancelAllMediaOperations", cancel_all_media)
    app.router.add_post("/calling/recordings", start_recording)
    app.router.add_get(f"/calling/recordings/{RECORDING_ID}", get_recording)
    app.router.add_delete(f"/calling/recordings/{RECORDING_ID}", stop_recording)
    app.router.add_post(f"/calling/recordings/{RECORDING_ID}:pause", pause_recording)
    app.router.add_post(f"/calling/recordings/{RECORDING_ID}:resume", resume_recording)
