"""GET /export?from=YYYY-MM-DD&to=YYYY-MM-DD: anonymized transcripts as chat-format JSONL (core.export)."""

from __future__ import annotations

import azure.functions as func

from functions._http import map_errors

bp = func.Blueprint()


@bp.route(route="export", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def export_transcripts(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services
    from core.export import date_range, export_lines

    async def action() -> func.HttpResponse:
        since, until = date_range(req.params.get("from"), req.params.get("to"))
        services = get_services()
        regions = tuple(sorted(services.settings.conversation.phone_policy.regions)) or ("US",)
        lines = [line async for line in export_lines(services.calls, since, until, regions)]
        return func.HttpResponse(
            "".join(lines),
            status_code=200,
            mimetype="application/x-ndjson",
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
        )

    return await map_errors(action)
