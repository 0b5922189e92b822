"""POST /optout and GET /optout: numbers the assistant must never call back."""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response, map_errors

bp = func.Blueprint()


@bp.route(route="optout", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def optout_set(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services
    from core.callbacks import optouts

    async def action() -> func.HttpResponse:
        request = optouts.parse_request(req.get_body())
        result = await optouts.apply(get_services().optouts, request)
        return json_response(result.model_dump(mode="json"))

    return await map_errors(action)


@bp.route(route="optout", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def optout_get(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services
    from core.callbacks import optouts

    async def action() -> func.HttpResponse:
        number = optouts.parse_number(req.params.get("phone_number"))
        return json_response((await optouts.status(get_services().optouts, number)).model_dump(mode="json"))

    return await map_errors(action)
