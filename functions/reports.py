"""GET /report and GET /report/{call_id}: calls as server-rendered HTML, behind the function key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import azure.functions as func

bp = func.Blueprint()


def _html(body: str, status_code: int = 200) -> func.HttpResponse:
    from core.reports.render import REPORT_HEADERS

    return func.HttpResponse(
        body, status_code=status_code, mimetype="text/html", charset="utf-8", headers=dict(REPORT_HEADERS)
    )


async def _map_errors(action: Callable[[], Awaitable[str]], code: str | None) -> func.HttpResponse:
    """Domain errors become an HTML error page with the status the JSON API would use."""
    from core.errors import InvalidInputError, NotFoundError
    from core.reports.views import report_error_page

    try:
        return _html(await action())
    except InvalidInputError as exc:
        return _html(report_error_page(400, str(exc), code=code), 400)
    except NotFoundError as exc:
        return _html(report_error_page(404, str(exc), code=code), 404)


@bp.route(route="report", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def report_list(req: func.HttpRequest) -> func.HttpResponse:
    from core.api.calls_query import parse_limit
    from core.bootstrap import get_services
    from core.reports.views import report_list_page

    code = req.params.get("code")

    async def action() -> str:
        container = get_services()
        return await report_list_page(
            container.calls,
            phone_number=req.params.get("phone_number"),
            continuation=req.params.get("continuation"),
            limit=parse_limit(req.params.get("limit"), container.settings.http.report_page_size),
            code=code,
        )

    return await _map_errors(action, code)


@bp.route(route="report/{call_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def report_call(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services
    from core.reports.views import report_call_page

    code = req.params.get("code")

    async def action() -> str:
        return await report_call_page(get_services().calls, req.route_params.get("call_id", ""), code=code)

    return await _map_errors(action, code)


@bp.route(route="report/{call_id}/recordings/{index}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def report_recording(req: func.HttpRequest) -> func.HttpResponse:
    """The recording file, read from the private recordings container and passed through."""
    from core.bootstrap import get_services
    from core.errors import InvalidInputError, NotFoundError
    from core.recordings import read_recording
    from core.reports.views import report_error_page

    code = req.params.get("code")
    call_id, index = req.route_params.get("call_id", ""), req.route_params.get("index", "")
    try:
        body, media_type = await read_recording(get_services(), call_id, index)
    except InvalidInputError as exc:
        return _html(report_error_page(400, str(exc), code=code), 400)
    except NotFoundError as exc:
        return _html(report_error_page(404, str(exc), code=code), 404)
    extension = {"audio/wav": "wav", "audio/mpeg": "mp3", "video/mp4": "mp4"}.get(media_type, "bin")
    disposition = "attachment" if req.params.get("download") == "1" else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="call-{call_id[:36]}-{index[:4]}.{extension}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return func.HttpResponse(body, status_code=200, mimetype=media_type, headers=headers)
