"""HTTP trigger: Twilio's webhook for SMS received on the Twilio number (SMS__PROVIDER=twilio).

Anonymous at the host level (Twilio cannot send a function key header): Twilio's request signature
authenticates it. 403 for a request Twilio did not sign, 404 when Twilio is not the SMS provider, 200
with an empty TwiML response otherwise.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import azure.functions as func

from functions._http import error_response, map_errors

bp = func.Blueprint()


@bp.route(route="sms/twilio", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def sms_twilio(req: func.HttpRequest) -> func.HttpResponse:
    from core.bootstrap import get_services
    from core.messaging.twilio_inbound import EMPTY_TWIML, handle_twilio_sms
    from core.observability import logger

    async def action() -> func.HttpResponse:
        params = parse_qsl(req.get_body().decode("utf-8", "replace"), keep_blank_values=True)
        signature = req.headers.get("X-Twilio-Signature")
        result = await handle_twilio_sms(get_services(), req.url, params, signature)
        logger().info("Twilio SMS: %s", result.value)
        return func.HttpResponse(EMPTY_TWIML, status_code=200, mimetype="text/xml", charset="utf-8")

    response = await map_errors(action)
    if response.status_code == 401:
        return error_response(403, "forbidden")  # Twilio's signature is missing or wrong
    return response
