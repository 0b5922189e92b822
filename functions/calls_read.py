"""GET /call/{call_id} and GET /call: calls as JSON."""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response, map_errors

bp = func.Blueprint()


@bp.route(route="call/{call_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def call_get(req: func.HttpRequest) -> func.HttpResponse:
    from core.api.calls_query import get_call
    from core.api.public import public_view
    from core.bootstrap import get_services

    async def action() -> func.HttpResponse:
        call = await get_call(get_services().calls, req.route_params.get("call_id", ""))
        return json_response(public_view(call))

    return await map_errors(action)


@bp.route(route="call", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def call_list(req: func.HttpRequest) -> func.HttpResponse:
    from core.api.calls_query import list_calls, parse_limit
    from core.bootstrap import get_services

    async def action() -> func.HttpResponse:
        container = get_services()
        page = await list_calls(
            container.calls,
            phone_number=req.params.get("phone_number"),
            limit=parse_limit(req.params.get("limit"), container.settings.http.report_page_size),
            continuation=req.params.get("continuation"),
        )
        return json_response(page.model_dump(mode="json"))

    return await map_errors(action)
