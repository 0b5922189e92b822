"""The Event Grid webhook of the host: ``POST /runtime/webhooks/EventGrid?functionName=NAME&code=KEY``.

Mirrors the Event Grid extension (Microsoft.Azure.WebJobs.Extensions.EventGrid 3.x):
- unknown or missing ``functionName`` -> 404 ``cannot find function: 'NAME'``;
- ``OPTIONS`` (CloudEvents abuse-protection handshake) -> 200 with ``WebHook-Allowed-Origin`` echoing a
  known Event Grid origin from ``WebHook-Request-Origin`` (else ``eventgrid.azure.net``);
- ``aeg-event-type: SubscriptionValidation`` -> 200 ``{"validationResponse": code}`` (code from the first
  event's ``data.validationCode``);
- ``aeg-event-type: Notification`` -> the body (array, or one object) is dispatched once per event, all
  events concurrently; 202 when every invocation succeeded, else 500 so that Event Grid retries the
  whole delivery (Event Grid sends this header for both the Event Grid and the CloudEvents schema);
- ``aeg-event-type: Unsubscribe`` -> 202; any other or no header -> 400.
Each event reaches the function through the azure-functions library's own converter, so the function
gets what the Python worker gives: ``func.EventGridEvent`` for the Event Grid schema and
``func.CloudEvent`` for the CloudEvents 1.0 schema (objects with ``specversion``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

from .auth import KeyChecker, Level, presented_key
from .invocation import FunctionInfo, InvocationError, Invoker

logger = logging.getLogger("local.functions_host")

WEBHOOK_PATH = "/runtime/webhooks/eventgrid"
_KNOWN_ORIGINS = frozenset(
    {
        "eventgrid.azure.net",
        "eventgrid.azure.us",
        "eventgrid.azure.eaglex.ic.gov",
        "eventgrid.azure.microsoft.scloud",
        "eventgrid.azure.cn",
    }
)


def decode_event(event: dict[str, Any]) -> Any:
    """One event as the Python worker hands it to the function."""
    datum = meta.Datum(value=json.dumps(event), type="json")
    return EventGridEventInConverter.decode(datum, trigger_metadata=None)


def validation_code(payload: Any) -> str:
    """The validation code of a SubscriptionValidation request (Event Grid or CloudEvents schema)."""
    if isinstance(payload, list):
        return str(payload[0]["data"]["validationCode"])
    data = payload["data"]
    if isinstance(data, str):  # the CloudEvents subscription event double-encodes its data
        data = json.loads(data)
    return str(data["validationCode"])


class EventGridWebhook:
    def __init__(self, functions: Iterable[FunctionInfo], *, keys: KeyChecker, invoker: Invoker) -> None:
        self.functions = {f.name: f for f in functions if f.trigger_type == "eventGridTrigger"}
        self.keys = keys
        self.invoker = invoker

    @staticmethod
    def matches(path: str) -> bool:
        return path.rstrip("/").lower() == WEBHOOK_PATH

    async def handle(self, request: web.Request) -> web.Response:
        if not self.keys.authorized(Level.SYSTEM, presented_key(request.headers, request.query)):
            return web.Response(status=401)
        name = request.query.get("functionName", "")
        function = self.functions.get(name)
        if function is None:
            logger.info(
                "cannot find function: '%s', available function names: %s", name, sorted(self.functions)
            )
            return web.Response(status=404, text=f"cannot find function: '{name}'")
        if request.method == "OPTIONS":
            origin = request.headers.get("WebHook-Request-Origin", "")
            allowed = origin if origin in _KNOWN_ORIGINS else "eventgrid.azure.net"
            return web.Response(status=200, headers={"WebHook-Allowed-Origin": allowed})
        if request.method != "POST":
            return web.Response(status=405)
        event_type = request.headers.get("aeg-event-type", "").lower()
        if event_type == "unsubscribe":
            return web.Response(status=202)
        if event_type not in {"subscriptionvalidation", "notification"}:
            return web.Response(status=400)
        try:
            payload = json.loads(await request.read())
        except (ValueError, RecursionError):  # the extension's reader refuses deep nesting too
            return web.Response(status=400, text="The request content is not valid JSON.")
        if event_type == "subscriptionvalidation":
            try:
                code = validation_code(payload)
            except (LookupError, TypeError, ValueError):
                return web.Response(
                    status=400, text="No validationCode in the subscription validation event."
                )
            logger.info("perform handshake with eventGrid for function: %s", name)
            return web.json_response({"validationResponse": code})
        return await self._dispatch(function, payload)

    async def _dispatch(self, function: FunctionInfo, payload: Any) -> web.Response:
        events = payload if isinstance(payload, list) else [payload]
        if not all(isinstance(event, dict) for event in events):
            return web.Response(status=400, text="The request content should be a JSON object or array.")
        results = await asyncio.gather(
            *(self._invoke_one(function, event) for event in events), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                message = str(result) if isinstance(result, InvocationError) else "Internal Server Error"
                return web.Response(status=500, text=message)
        return web.Response(status=202)

    async def _invoke_one(self, function: FunctionInfo, event: dict[str, Any]) -> None:
        try:
            value = decode_event(event)
        except Exception:
            logger.exception("Function '%s': cannot bind Event Grid event %r", function.name, event.get("id"))
            raise
        trace_parent = event.get("traceparent")
        await self.invoker.invoke(
            function,
            value,
            reason=f"EventGrid trigger fired at {event.get('eventTime') or event.get('time') or 'unknown'}",
            trace_parent=trace_parent if isinstance(trace_parent, str) else "",
        )
