"""GET /openapi.json: the OpenAPI document of the HTTP API (anonymous: it holds no data)."""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response

bp = func.Blueprint()


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    from core.api.openapi import openapi_document

    return json_response(openapi_document(), headers={"Cache-Control": "public, max-age=300"})
