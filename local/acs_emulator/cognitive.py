"""ACS speaks and listens only on calls set up with an Azure AI Services endpoint
(``callIntelligenceOptions.cognitiveServicesEndpoint`` on answer or create): the checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from local.acs_emulator.errors import BadRequest, error_response
from local.acs_emulator.results import NO_COGNITIVE_SERVICES

if TYPE_CHECKING:
    from local.acs_emulator.call_state import Call


def cognitive_services_endpoint(body: dict[str, Any]) -> str | None:
    """callIntelligenceOptions.cognitiveServicesEndpoint of an answer or create request, if any."""
    options = body.get("callIntelligenceOptions")
    if options is None:
        return None
    if not isinstance(options, dict):
        raise BadRequest("callIntelligenceOptions must be an object.")
    endpoint = options.get("cognitiveServicesEndpoint")
    if endpoint in (None, ""):
        return None
    if not isinstance(endpoint, str):
        raise BadRequest("callIntelligenceOptions.cognitiveServicesEndpoint must be a string.")
    return endpoint


def needs_cognitive_services(sources: list[Any]) -> bool:
    return any(isinstance(s, dict) and s.get("kind") in ("text", "ssml") for s in sources)


def refused_without_cognitive_services(call: Call) -> web.Response | None:
    """ACS plays text/SSML and recognizes speech only on calls set up with an AI Services endpoint."""
    if call.cognitive_services_endpoint:
        return None
    status, code, message = NO_COGNITIVE_SERVICES
    return error_response(status, code, message)
