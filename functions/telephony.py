"""Telephony entry points: Event Grid IncomingCall and the ACS mid-call callback endpoint."""

from __future__ import annotations

import time

import azure.functions as func

from functions._http import error_response, json_response, map_errors

bp = func.Blueprint()


@bp.event_grid_trigger(arg_name="event")
async def incoming_call(event: func.EventGridEvent) -> None:
    """IncomingCall (Event Grid): answer with a callback URL carrying the call id and its secret."""
    if event.event_type != "Microsoft.Communication.IncomingCall":
        return
    from core.bootstrap import get_services

    data = event.get_json()
    await get_services().flow.handle_incoming_call(event.id, data if isinstance(data, dict) else {})


# Anonymous at the host level: the per-call secret in the path and ACS's JWT authenticate the request.
@bp.route(route="callbacks/{call_id}/{secret}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def acs_callback(req: func.HttpRequest) -> func.HttpResponse:
    received_at = time.perf_counter()
    from core.bootstrap import get_services

    async def action() -> func.HttpResponse:
        handled = await get_services().flow.handle_callback(
            req.route_params.get("call_id", ""),
            req.route_params.get("secret", ""),
            req.headers.get("Authorization"),
            req.get_body(),
            received_at=received_at,
        )
        return json_response({"handled": handled})

    response = await map_errors(action)
    if response.status_code == 401:
        # Say nothing about which check failed.
        return error_response(401, "unauthorized")
    return response
