"""SMS REST API (contract: sms/2026-01-23): send, opt-outs, delivery reports. Sent messages are kept."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from local.acs_emulator.callbacks import iso_now
from local.acs_emulator.config import EmulatorConfig

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
NANP = re.compile(r"^\+1\d{10}$")


@dataclass
class SentSms:
    message_id: str
    from_number: str
    to: str
    message: str
    tag: str | None
    delivery_report: bool
    sent_at: str = field(default_factory=iso_now)
    repeatability_request_id: str | None = None


class SmsStore:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.sent: list[SentSms] = []
        self.opted_out: set[tuple[str, str]] = set()
        self._by_repeatability: dict[str, SentSms] = {}

    def as_json(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.sent]


SMS_KEY = web.AppKey("sms", SmsStore)


def _validation_error(errors: dict[str, list[str]]) -> web.Response:
    return web.json_response(
        {
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": errors,
            "traceId": str(uuid.uuid4()),
        },
        status=400,
    )


def valid_number(number: str) -> bool:
    if not E164.match(number):
        return False
    return not (number.startswith("+1") and not NANP.match(number))


async def _body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def send(request: web.Request) -> web.StreamResponse:
    store = request.app[SMS_KEY]
    body = await _body(request)
    if body is None:
        return _validation_error({"$": ["The request body must be a JSON object."]})
    errors: dict[str, list[str]] = {}
    for name in ("from", "smsRecipients", "message"):
        if body.get(name) is None:
            errors[name] = [f"The {name} field is required."]
    recipients = body.get("smsRecipients")
    if recipients is not None and (
        not isinstance(recipients, list) or not recipients or len(recipients) > 100
    ):
        errors["smsRecipients"] = ["Between 1 and 100 recipients are required."]
    if isinstance(body.get("message"), str) and len(body["message"]) > 2048:
        errors["message"] = ["The message may have at most 2048 characters."]
    if errors:
        return _validation_error(errors)
    sender = str(body["from"])
    if sender not in store.config.owned_numbers:
        return web.json_response(
            {
                "error": {
                    "code": "Unauthorized",
                    "message": f"The from number {sender} is not owned by this resource.",
                }
            },
            status=401,
        )
    options = body.get("smsSendOptions") or {}
    items: list[dict[str, Any]] = []
    for recipient in recipients or []:
        to = str((recipient or {}).get("to", ""))
        request_id = recipient.get("repeatabilityRequestId")
        first_sent = recipient.get("repeatabilityFirstSent")
        item: dict[str, Any] = {"to": to}
        if request_id and not first_sent:
            item.update(
                httpStatusCode=400,
                repeatabilityResult="rejected",
                errorMessage="Request sent with Invalid DateTime value for repeatability-first-sent. "
                "Expected is DateTime ,RFC1123 pattern.",
                successful=False,
            )
        elif not valid_number(to):
            item.update(httpStatusCode=400, errorMessage="Invalid To phone number format.", successful=False)
        elif (sender, to) in store.opted_out:
            item.update(httpStatusCode=400, errorMessage="The recipient has opted out.", successful=False)
        elif request_id and request_id in store._by_repeatability:
            previous = store._by_repeatability[request_id]
            item.update(
                messageId=previous.message_id,
                httpStatusCode=202,
                repeatabilityResult="accepted",
                successful=True,
            )
        else:
            sms = SentSms(
                message_id=f"Outgoing_{uuid.uuid4()}",
                from_number=sender,
                to=to,
                message=str(body["message"]),
                tag=options.get("tag"),
                delivery_report=bool(options.get("enableDeliveryReport", False)),
                repeatability_request_id=request_id,
            )
            store.sent.append(sms)
            if request_id:
                store._by_repeatability[request_id] = sms
            item.update(messageId=sms.message_id, httpStatusCode=202, successful=True)
            if request_id:
                item["repeatabilityResult"] = "accepted"
        items.append(item)
    return web.json_response({"value": items}, status=202)


async def _optouts(request: web.Request, action: str) -> web.StreamResponse:
    store = request.app[SMS_KEY]
    body = await _body(request)
    if body is None or not body.get("from") or not isinstance(body.get("recipients"), list):
        return _validation_error({"$": ["from and recipients are required."]})
    sender = str(body["from"])
    values = []
    for recipient in body["recipients"]:
        to = str((recipient or {}).get("to", ""))
        if action == "add":
            store.opted_out.add((sender, to))
        elif action == "remove":
            store.opted_out.discard((sender, to))
        values.append({"to": to, "httpStatusCode": 200, "isOptedOut": (sender, to) in store.opted_out})
    return web.json_response({"value": values})


async def optouts_add(request: web.Request) -> web.StreamResponse:
    return await _optouts(request, "add")


async def optouts_remove(request: web.Request) -> web.StreamResponse:
    return await _optouts(request, "remove")


async def optouts_check(request: web.Request) -> web.StreamResponse:
    return await _optouts(request, "check")


async def delivery_report(request: web.Request) -> web.StreamResponse:
    store = request.app[SMS_KEY]
    message_id = request.match_info["message_id"]
    for sms in store.sent:
        if sms.message_id == message_id:
            report: dict[str, Any] = {
                "deliveryStatus": "Delivered",
                "deliveryStatusDetails": "No error.",
                "deliveryAttempts": [{"timestamp": sms.sent_at, "segmentsSucceeded": 1, "segmentsFailed": 0}],
                "receivedTimestamp": sms.sent_at,
                "messageId": sms.message_id,
                "from": sms.from_number,
                "to": sms.to,
            }
            if sms.tag is not None:
                report["tag"] = sms.tag
            return web.json_response(report)
    return web.json_response(
        {
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.5",
            "title": "Not Found",
            "status": 404,
            "traceId": str(uuid.uuid4()),
        },
        status=404,
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/sms", send)
    app.router.add_post("/sms/optouts:add", optouts_add)
    app.router.add_post("/sms/optouts:remove", optouts_remove)
    app.router.add_post("/sms/optouts:check", optouts_check)
    app.router.add_get("/deliveryReports/{message_id}", delivery_report)
