"""Helpers shared by HTTP triggers: JSON responses and the mapping of domain errors to status codes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func

from core.errors import ProductError

NO_SNIFF = {"X-Content-Type-Options": "nosniff"}


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from the request, echoed: escape it (valid JSON)
        text = json.dumps(body)
    return func.HttpResponse(
        text,
        status_code=status_code,
        mimetype="application/json",
        charset="utf-8",
        # Browsers must not sniff a JSON body (which may quote a caller's words) into HTML.
        headers={**NO_SNIFF, **(headers or {})},
    )


def error_response(status_code: int, message: str, problems: list[str] | None = None) -> func.HttpResponse:
    body: dict[str, Any] = {"error": {"message": message}}
    if problems:
        body["error"]["problems"] = problems
    return json_response(body, status_code)


async def map_errors(action: Callable[[], Awaitable[func.HttpResponse]]) -> func.HttpResponse:
    """Run the action; a product error becomes its status with its message (and problems). Anything
    else propagates (the host answers 500 without details)."""
    try:
        return await action()
    except ProductError as exc:
        return error_response(exc.status, str(exc), exc.problems or None)
