"""Error responses shaped like ACS's (CommunicationErrorResponse)."""

from __future__ import annotations

from aiohttp import web


class BadRequest(Exception):
    """A request the service answers with 400, and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_response(status: int, code: str, message: str) -> web.Response:
    """``{"error": {"code", "message"}}`` with the given HTTP status."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def bad_request(message: str, code: str = "BadRequest") -> web.Response:
    return error_response(400, code, message)


def call_not_found(call_connection_id: str) -> web.Response:
    return error_response(404, "8522", f"Call {call_connection_id} not found.")


def not_established() -> web.Response:
    return error_response(400, "8501", "Action is not valid when call is not in Established state.")
