"""Liveness and readiness probes."""

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="health/liveness", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def health_liveness(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("OK", status_code=200)
