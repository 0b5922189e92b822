"""Liveness and readiness probes."""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response

bp = func.Blueprint()


@bp.route(route="health/liveness", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def health_liveness(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("OK", status_code=200, mimetype="text/plain")


@bp.route(route="health/readiness", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def health_readiness(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services

    report = await get_services().readiness()
    return json_response(
        {"status": "ok" if report.ok else "fail", "checks": report.checks}, 200 if report.ok else 503
    )
