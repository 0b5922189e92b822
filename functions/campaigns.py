"""Campaigns: POST /campaign, GET /campaign/{campaign_id}, POST /campaign/{campaign_id}/cancel, the
report page, and the queue trigger that paces the calls (core.campaigns).

A queue message is ``{"campaign_id": "<uuid>"}``: "look at this campaign". Raising makes the host
redeliver it (looking again is safe); the queue lives in the ``AzureWebJobsStorage`` account.
"""

from __future__ import annotations

import azure.functions as func

from core.settings import get_settings
from functions._http import json_response, map_errors

bp = func.Blueprint()


@bp.route(route="campaign", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def campaign_create(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services

    async def action() -> func.HttpResponse:
        view = await get_services().campaigns.create(
            req.get_body(), req.headers.get("Content-Type", ""), dict(req.params)
        )
        return json_response(
            view.model_dump(mode="json"), 201, headers={"Location": f"/campaign/{view.campaign_id}"}
        )

    return await map_errors(action)


@bp.route(route="campaign/{campaign_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def campaign_get(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services

    async def action() -> func.HttpResponse:
        view = await get_services().campaigns.view(req.route_params.get("campaign_id", ""))
        return json_response(view.model_dump(mode="json"))

    return await map_errors(action)


@bp.route(route="campaign/{campaign_id}/cancel", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def campaign_cancel(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services

    async def action() -> func.HttpResponse:
        view = await get_services().campaigns.cancel(req.route_params.get("campaign_id", ""))
        return json_response(view.model_dump(mode="json"))

    return await map_errors(action)


@bp.route(route="report/campaign/{campaign_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def report_campaign(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services
    from core.reports.campaign import report_campaign_page
    from functions.reports import _map_errors

    code = req.params.get("code")

    async def action() -> str:
        view = await get_services().campaigns.view(req.route_params.get("campaign_id", ""))
        return report_campaign_page(view, code=code)

    return await _map_errors(action, code)


@bp.queue_trigger(arg_name="msg", queue_name=get_settings().campaigns.queue, connection="AzureWebJobsStorage")
async def campaign_calls(msg: func.QueueMessage) -> None:
    from core.bootstrap import get_services
    from core.campaigns.service import parse_message
    from core.errors import InvalidInputError
    from core.observability import logger

    try:
        campaign_id = parse_message(msg.get_body())
    except InvalidInputError as exc:
        # Never valid, whatever the retry: fail so that it ends in the poison queue for inspection.
        logger().error("campaign message %s rejected: %s", msg.id, exc)
        raise
    await get_services().campaigns.wake(campaign_id)
