"""POST /call: place an outbound call with a task, a claim schema and an agent number."""

from __future__ import annotations

import azure.functions as func

from functions._http import error_response, json_response, map_errors

bp = func.Blueprint()


@bp.route(route="call", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def call_create(req: func.HttpRequest) -> func.HttpResponse:
    from core.api.public import public_view
    from core.callflow.flow import TelephonyError
    from core.callflow.wiring import get_flow

    async def action() -> func.HttpResponse:
        try:
            call = await get_flow().create_call(req.get_body())
        except TelephonyError as exc:
            return error_response(502, str(exc))
        return json_response(public_view(call), 201, headers={"Location": f"/call/{call.call_id}"})

    return await map_errors(action)
