"""The HTTP routes of the Function App, as data: one entry per HTTP-triggered function.

Each route names the function that serves it (``functions/*.py``), its path template, method, auth
level, request model, response bodies per status and error statuses. The OpenAPI document is
generated from this table (core.api.openapi) and a contract test checks it against the functions the
app registers, so a route cannot be added, moved or re-keyed without the table following.

Event Grid events (IncomingCall, SMSReceived, RecordingFileStatusUpdated), the post-call queue and the
campaign queue are triggers of the host, not routes of ours: they are not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from core.api.bodies import CallbackAck, CallbackEvents, Readiness
from core.api.call_request import CallRequest
from core.api.calls_query import MAX_PAGE_SIZE
from core.api.campaign_request import CampaignRequest
from core.api.campaign_view import CampaignView
from core.api.public import CallPage, PublicCall
from core.callbacks.optouts import OptOutRequest, OptOutStatus

Auth = Literal["function", "anonymous"]
Method = Literal["GET", "POST"]
JSON = "application/json"
HTML = "text/html"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: Literal["path", "query", "header"]
    description: str
    required: bool = False
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Body:
    """A response: its description and its content (a model, a plain schema, or nothing)."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str | None = JSON
    schema: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    function: str  # the name of the Azure Function serving it; also the operationId
    method: Method
    path: str  # template, as served (routePrefix is empty): /call/{call_id}
    auth: Auth
    tag: str
    summary: str
    responses: Mapping[int, Body]
    # Error statuses and when they happen. The body is ErrorBody for a JSON route, an HTML error page
    # for a page route; a keyed route also answers 401 with an empty body (from the host).
    errors: Mapping[int, str] = field(default_factory=dict)
    error_media: Literal["json", "html"] = "json"
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    request: type[BaseModel] | None = None

    @property
    def host_route(self) -> str:
        """The route as the function registers it (no leading slash)."""
        return self.path.lstrip("/")


CALL_ID = Parameter("call_id", "path", "The call id (a UUID).", required=True)
CAMPAIGN_ID = Parameter("campaign_id", "path", "The campaign id (a UUID).", required=True)
PHONE = Parameter("phone_number", "query", "Only calls with this phone number (E.164, e.g. +14155550100).")
LIMIT = Parameter(
    "limit",
    "query",
    f"Page size, 1 to {MAX_PAGE_SIZE} (default: HTTP__REPORT_PAGE_SIZE).",
    schema={"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
)
CONTINUATION = Parameter("continuation", "query", "The continuation token of the previous page.")
PAGE = (PHONE, LIMIT, CONTINUATION)
_PAGE = Body("The page.", media_type=HTML, schema={"type": "string"})

ROUTES: tuple[Route, ...] = (
    Route(
        function="health_liveness",
        method="GET",
        path="/health/liveness",
        auth="anonymous",
        tag="health",
        summary="Liveness probe",
        responses={200: Body("The worker runs.", media_type="text/plain", schema={"type": "string"})},
    ),
    Route(
        function="health_readiness",
        method="GET",
        path="/health/readiness",
        auth="anonymous",
        tag="health",
        summary="Readiness probe: every dependency answers",
        responses={
            200: Body("Every dependency is ready.", Readiness),
            503: Body("At least one dependency failed; checks say which.", Readiness),
        },
    ),
    Route(
        function="call_create",
        method="POST",
        path="/call",
        auth="function",
        tag="calls",
        summary="Place an outbound call",
        description="The bot calls phone_number with the task and claim schema; everything but "
        "phone_number defaults to the configured values.",
        request=CallRequest,
        responses={
            201: Body(
                "The call was created and is being placed.",
                PublicCall,
                headers={"Location": "/call/{call_id}"},
            )
        },
        errors={
            400: "Invalid input; the message and problems say what and why, each naming its field.",
            502: "Azure Communication Services refused or failed the call.",
        },
    ),
    Route(
        function="call_list",
        method="GET",
        path="/call",
        auth="function",
        tag="calls",
        summary="List calls, newest first, with paging",
        parameters=PAGE,
        responses={200: Body("A page of calls.", CallPage)},
        errors={
            400: "Invalid phone number, limit or continuation token.",
            404: "No call at all for this phone number.",
        },
    ),
    Route(
        function="call_get",
        method="GET",
        path="/call/{call_id}",
        auth="function",
        tag="calls",
        summary="One call: initiate request, claim, transcript, reminders, insights, figures",
        parameters=(CALL_ID,),
        responses={200: Body("The call.", PublicCall)},
        errors={400: "The call id is not a UUID.", 404: "No such call."},
    ),
    Route(
        function="acs_callback",
        method="POST",
        path="/callbacks/{call_id}/{secret}",
        auth="anonymous",
        tag="telephony",
        summary="Mid-call events from Azure Communication Services (CloudEvents)",
        description="Anonymous at the host: the per-call secret in the path and the JWT ACS signs its "
        "callbacks with (Authorization: Bearer) authenticate the request. Only ACS calls this.",
        parameters=(
            CALL_ID,
            Parameter("secret", "path", "The call's callback secret.", required=True),
            Parameter("Authorization", "header", "Bearer JWT signed by ACS."),
        ),
        request=CallbackEvents,
        responses={200: Body("How many events were handled (duplicates excluded).", CallbackAck)},
        errors={
            400: "The body is not a batch of CloudEvents.",
            401: "Bad token, unknown call or wrong secret (not saying which).",
            404: "No such call.",
            409: "The call document kept changing; ACS retries.",
        },
    ),
    Route(
        function="sms_twilio",
        method="POST",
        path="/sms/twilio",
        auth="anonymous",
        tag="messaging",
        summary="SMS received on the Twilio number (Twilio's webhook, SMS__PROVIDER=twilio)",
        description="A form POST from Twilio (MessageSid, From, To, Body, ...). Anonymous at the host: "
        "Twilio's X-Twilio-Signature (HMAC-SHA1 of the URL and the sorted form parameters with the auth "
        "token) authenticates it. The text joins the live call, else the caller's case.",
        parameters=(Parameter("X-Twilio-Signature", "header", "Twilio's request signature.", required=True),),
        responses={200: Body("An empty TwiML response.", media_type="text/xml", schema={"type": "string"})},
        errors={
            400: "The form has no MessageSid or no valid From number.",
            403: "The request does not carry Twilio's signature; nothing changed.",
            404: "Twilio is not the SMS provider.",
        },
    ),
    Route(
        function="report_list",
        method="GET",
        path="/report",
        auth="function",
        tag="reports",
        summary="HTML list of calls, newest first, searchable by phone number",
        description="Links on the page carry the key forward as ?code= when it was given so.",
        parameters=PAGE,
        responses={200: _PAGE},
        errors={400: "Invalid phone number, limit or continuation (HTML error page)."},
        error_media="html",
    ),
    Route(
        function="report_call",
        method="GET",
        path="/report/{call_id}",
        auth="function",
        tag="reports",
        summary="HTML page of one call",
        parameters=(CALL_ID,),
        responses={200: _PAGE},
        errors={
            400: "The call id is not a UUID (HTML error page).",
            404: "No such call (HTML error page).",
        },
        error_media="html",
    ),
    Route(
        function="report_recording",
        method="GET",
        path="/report/{call_id}/recordings/{index}",
        auth="function",
        tag="reports",
        summary="A recording of the call (WAV), to play or download",
        description="Served from the project's recordings container through the app, so the "
        "container stays private. download=1 asks the browser to save it.",
        parameters=(
            CALL_ID,
            Parameter(
                "index",
                "path",
                "The recording's position in the call's recordings (0 is the first).",
                required=True,
                schema={"type": "integer", "minimum": 0},
            ),
            Parameter("download", "query", "1: sent as an attachment (Content-Disposition)."),
        ),
        responses={
            200: Body(
                "The recording file.",
                media_type="audio/wav",
                schema={"type": "string", "format": "binary"},
                headers={"Content-Disposition": "inline, or attachment with download=1"},
            )
        },
        errors={
            400: "The call id is not a UUID, or the index is not a number (HTML error page).",
            404: "No such call, or no such recording (HTML error page).",
        },
        error_media="html",
    ),
    Route(
        function="optout_set",
        method="POST",
        path="/optout",
        auth="function",
        tag="callbacks",
        summary="Opt a number out of calls (or back in)",
        description="An opted-out number is never called back for a reminder (core.callbacks).",
        request=OptOutRequest,
        responses={200: Body("The number's opt-out status now.", OptOutStatus)},
        errors={400: "The body is not an object, or the phone number is not E.164."},
    ),
    Route(
        function="optout_get",
        method="GET",
        path="/optout",
        auth="function",
        tag="callbacks",
        summary="Whether a number opted out of calls",
        parameters=(
            Parameter("phone_number", "query", "The number (E.164, e.g. +14155550100).", required=True),
        ),
        responses={200: Body("The number's opt-out status.", OptOutStatus)},
        errors={400: "No phone number, or not E.164."},
    ),
    Route(
        function="campaign_create",
        method="POST",
        path="/campaign",
        auth="function",
        tag="campaigns",
        summary="Start a campaign: call many numbers with one task, under a concurrency cap",
        description="JSON (numbers or csv), or a text/csv body (a header naming phone_number, "
        "optionally time_zone and fields; or one column of numbers) with the options as query "
        "parameters: name, task, bot_name, bot_company, max_concurrent_calls, start, end, time_zone. "
        "Every call takes the fields of POST /call; a row's fields are added to its task. Nothing is "
        "stored when any part is invalid.",
        request=CampaignRequest,
        responses={
            201: Body(
                "The campaign was stored; its calls start.",
                CampaignView,
                headers={"Location": "/campaign/{campaign_id}"},
            )
        },
        errors={
            400: "Invalid input; problems name each field, and each bad number with its row (and line).",
            503: "The campaign store or the queue is unavailable.",
        },
    ),
    Route(
        function="campaign_get",
        method="GET",
        path="/campaign/{campaign_id}",
        auth="function",
        tag="campaigns",
        summary="A campaign's progress: counts per state, each number's state and result with its call",
        parameters=(CAMPAIGN_ID,),
        responses={200: Body("The campaign.", CampaignView)},
        errors={400: "The campaign id is not a UUID.", 404: "No such campaign."},
    ),
    Route(
        function="campaign_cancel",
        method="POST",
        path="/campaign/{campaign_id}/cancel",
        auth="function",
        tag="campaigns",
        summary="Cancel a campaign: no new call is placed; calls in flight finish",
        description="Idempotent: cancelling again, or a completed campaign, changes nothing.",
        parameters=(CAMPAIGN_ID,),
        responses={200: Body("The campaign, as cancelled.", CampaignView)},
        errors={400: "The campaign id is not a UUID.", 404: "No such campaign."},
    ),
    Route(
        function="report_campaign",
        method="GET",
        path="/report/campaign/{campaign_id}",
        auth="function",
        tag="reports",
        summary="HTML page of one campaign: progress, and each number's result linking to its call",
        parameters=(CAMPAIGN_ID,),
        responses={200: _PAGE},
        errors={
            400: "The campaign id is not a UUID (HTML error page).",
            404: "No such campaign (HTML error page).",
        },
        error_media="html",
    ),
    Route(
        function="export_transcripts",
        method="GET",
        path="/export",
        auth="function",
        tag="export",
        summary="Anonymized transcripts of a date range, as chat-format JSONL (fine-tuning)",
        description='One line per call created in the range: {"messages": [{"role", "content"}, ...]}, '
        "tool calls included, phone numbers, emails, claim values and identifiers redacted.",
        parameters=(
            Parameter("from", "query", "First day, YYYY-MM-DD (UTC).", required=True),
            Parameter("to", "query", "Last day, included, YYYY-MM-DD (UTC).", required=True),
        ),
        responses={200: Body("The JSONL.", media_type="application/x-ndjson", schema={"type": "string"})},
        errors={400: "from or to is missing or not a date, or to is before from."},
    ),
    Route(
        function="openapi_document",
        method="GET",
        path="/openapi.json",
        auth="anonymous",
        tag="meta",
        summary="This document",
        responses={200: Body("The OpenAPI 3.1 document.", schema={"type": "object"})},
    ),
)
