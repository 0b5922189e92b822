"""POST /call: place an outbound call with a task, a claim schema and an agent number."""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response, map_errors

bp = func.Blueprint()


@bp.route(route="call", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def call_create(req: func.HttpRequest) -> func.HttpResponse:
    from core.api.public import public_view
    from core.bootstrap import get_services

    async def action() -> func.HttpResponse:
        call = await get_services().flow.create_call(req.get_body())
        return json_response(public_view(call), 201, headers={"Location": f"/call/{call.call_id}"})

    return await map_errors(action)
