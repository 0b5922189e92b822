"""POST /campaign: the request (JSON, or a CSV body with the options as query parameters) and its
parsing into a campaign and its numbers, every problem named by its field or its row. Pure: nothing is
stored unless the whole request is valid."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core import json_input
from core.api.call_request import E164_EXAMPLE, parse_call_request
from core.errors import InvalidInputError
from core.models import InitiateRequest, normalize_e164
from core.models.campaign import CallingHours, Campaign, CampaignNumber, zone
from core.settings import ConversationSettings
from core.settings_campaigns import CampaignSettings

MAX_BODY_BYTES = 1024 * 1024
MAX_FIELDS = 20
MAX_FIELD_VALUE = 200
MAX_PROBLEMS = 50  # a whole bad file is not echoed back: the first ones, and how many in all
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]{0,39}$")
NUMBER_COLUMN = "phone_number"
ZONE_COLUMN = "time_zone"
CAMPAIGN_ONLY = ("name", "numbers", "csv", "calling_hours", "max_concurrent_calls")
# CSV bodies take the options as query parameters (name -> the JSON field it stands for).
QUERY_OPTIONS = (
    "name",
    "task",
    "bot_name",
    "bot_company",
    "max_concurrent_calls",
    "start",
    "end",
    "time_zone",
)


class NumberRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str = Field(description="E.164, allowed by the phone policy.", examples=[E164_EXAMPLE])
    time_zone: str | None = Field(default=None, description="IANA zone of this person's calling hours.")
    fields: dict[str, str] = Field(
        default_factory=dict, description="What the bot knows about this person (added to the task)."
    )


class HoursRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: time | None = Field(default=None, description="HH:MM. Default: CAMPAIGNS__CALLING_HOURS_START.")
    end: time | None = Field(default=None, description="HH:MM. Default: CAMPAIGNS__CALLING_HOURS_END.")
    time_zone: str | None = Field(default=None, description="IANA zone. Default: CAMPAIGNS__TIME_ZONE.")
    days: list[int] | None = Field(default=None, description="ISO weekdays, 1 = Monday. Default: every day.")


class CampaignRequest(BaseModel):
    """The body of POST /campaign (application/json): numbers or csv, and what every call is for
    (the fields of POST /call but phone_number)."""

    model_config = ConfigDict(extra="allow")

    name: Annotated[str, Field(max_length=100)] = Field(default="", description="Shown in the report.")
    numbers: list[str | NumberRow] | None = Field(
        default=None, description="The numbers to call: E.164 strings or rows with their own fields."
    )
    csv: str | None = Field(
        default=None,
        description="Instead of numbers: CSV text, a header naming phone_number (and optionally "
        "time_zone and any field), or one column of numbers without a header.",
    )
    calling_hours: HoursRequest | None = Field(default=None, description="When people may be called.")
    max_concurrent_calls: int | None = Field(
        default=None, ge=1, description="Calls live at once. Default: CAMPAIGNS__MAX_CONCURRENT_CALLS."
    )


def _loc(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"]) or "body"


class _Rows:
    """The numbers as rows, with every problem named by its row."""

    def __init__(self, conversation: ConversationSettings) -> None:
        self.conversation = conversation
        self.rows: list[CampaignNumber] = []
        self.problems: list[str] = []
        self._seen: dict[str, int] = {}

    def add(self, where: str, raw: str, time_zone: str | None, fields: dict[str, str]) -> None:
        row = len(self.rows) + 1
        problems: list[str] = []
        number = ""
        try:
            number = self.conversation.phone_policy.check(normalize_e164(raw))
        except ValueError as exc:
            problems.append(str(exc))
        if number and number in self._seen:
            problems.append(f"{number} is already row {self._seen[number]}")
        if time_zone:
            try:
                zone(time_zone)
            except ValueError as exc:
                problems.append(f"time_zone: {exc}")
        if len(fields) > MAX_FIELDS:
            problems.append(f"at most {MAX_FIELDS} fields")
        for name, value in fields.items():
            if not FIELD_NAME.match(name):
                problems.append(f"field '{name[:40]}': a name of letters, digits, spaces and _ (at most 40)")
            if len(value) > MAX_FIELD_VALUE:
                problems.append(f"field '{name[:40]}': longer than {MAX_FIELD_VALUE} characters")
        self.problems += [f"row {row}{where}: {p}" for p in problems]
        self._seen.setdefault(number, row)
        fields = {k.strip(): v.strip() for k, v in fields.items() if v.strip()}
        self.rows.append(
            CampaignNumber(
                campaign_id="", row=row, phone_number=number or raw[:32], time_zone=time_zone, fields=fields
            )
        )

    def from_list(self, numbers: list[str | NumberRow]) -> None:
        for index, item in enumerate(numbers):
            if isinstance(item, str):
                self.add(f" (numbers[{index}])", item, None, {})
            else:
                self.add(f" (numbers[{index}])", item.phone_number, item.time_zone, item.fields)

    def from_csv(self, text: str) -> None:
        lines = [
            line for line in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(c.strip() for c in line)
        ]
        if not lines:
            return
        header = [cell.strip() for cell in lines[0]]
        if NUMBER_COLUMN in header:
            body = lines[1:]
            first_line = 2
        else:
            if len(header) > 1 or not header[0].startswith("+"):
                self.problems.append(
                    f"csv: the first line must be a header naming {NUMBER_COLUMN} (and optionally "
                    f"{ZONE_COLUMN} and fields), or the file one column of E.164 numbers"
                )
                return
            header, body, first_line = [NUMBER_COLUMN], lines, 1
        if len(set(header)) != len(header):
            self.problems.append("csv: a column is named twice in the header")
            return
        for offset, cells in enumerate(body):
            line = first_line + offset
            if len(cells) != len(header):
                self.problems.append(
                    f"row {len(self.rows) + 1} (line {line}): {len(cells)} columns, the header has {len(header)}"
                )
                self.rows.append(CampaignNumber(campaign_id="", row=len(self.rows) + 1, phone_number="-"))
                continue
            values = dict(zip(header, (c.strip() for c in cells), strict=True))
            number = values.pop(NUMBER_COLUMN)
            time_zone = values.pop(ZONE_COLUMN, "") or None
            self.add(f" (line {line})", number, time_zone, values)


def _csv_options(params: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    data: dict[str, Any] = {}
    problems: list[str] = []
    hours: dict[str, Any] = {}
    for name, value in params.items():
        if name == "code":  # the function key
            continue
        if name not in QUERY_OPTIONS:
            problems.append(f"{name}: unknown query parameter (known: {', '.join(QUERY_OPTIONS)})")
        elif name in ("start", "end", "time_zone"):
            hours[name] = value
        else:
            data[name] = value
    if hours:
        data["calling_hours"] = hours
    return data, problems


def _load(body: bytes, content_type: str, params: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInputError(f"body is larger than {MAX_BODY_BYTES // 1024} KiB")
    media = content_type.split(";")[0].strip().lower()
    if media == "text/csv":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError("the CSV body is not UTF-8 text") from None
        data, problems = _csv_options(params)
        data["csv"] = text
        return data, problems
    if media not in ("", "application/json"):
        raise InvalidInputError(
            f"Content-Type {media[:60]} is not supported: use application/json or text/csv"
        )
    data = json_input.loads(body or b"null")
    if not isinstance(data, dict):
        raise InvalidInputError("body must be a JSON object")
    return data, []


def _hours(request: HoursRequest | None, settings: CampaignSettings) -> CallingHours:
    given = request.model_dump(exclude_none=True) if request is not None else {}
    return CallingHours.model_validate(
        {
            "start": settings.calling_hours_start,
            "end": settings.calling_hours_end,
            "time_zone": settings.time_zone,
            **given,
        }
    )


def parse_campaign_request(
    body: bytes,
    content_type: str,
    params: dict[str, str],
    conversation: ConversationSettings,
    settings: CampaignSettings,
) -> tuple[Campaign, list[CampaignNumber]]:
    """Validate a POST /campaign request into a campaign and its numbers, or raise InvalidInputError
    listing the problems (each naming its field, or its row and where it came from)."""
    data, problems = _load(body, content_type, params)
    request = _request(data, problems)
    rows = _Rows(conversation)
    hours: CallingHours | None = None
    cap = settings.max_concurrent_calls
    if request is not None:
        if (data.get("numbers") is None) == (data.get("csv") is None):
            problems.append("numbers: give the numbers to call, or csv (one of the two)")
        rows.from_list(request.numbers or [])
        rows.from_csv(request.csv or "")
        if not rows.rows and not problems and not rows.problems:
            problems.append("numbers: the campaign has no number to call")
        if len(rows.rows) > settings.max_numbers:
            problems.append(f"numbers: at most {settings.max_numbers} ({len(rows.rows)} given)")
        problems += rows.problems
        if request.max_concurrent_calls is not None:
            cap = request.max_concurrent_calls
            if cap > settings.max_concurrent_calls_limit:
                problems.append(
                    f"max_concurrent_calls: at most {settings.max_concurrent_calls_limit} "
                    "(CAMPAIGNS__MAX_CONCURRENT_CALLS_LIMIT)"
                )
        try:
            hours = _hours(request.calling_hours, settings)
        except ValidationError as exc:
            problems += [
                f"calling_hours.{_loc(e)}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
            ]
    template = _template(data, conversation, rows, problems)
    if len(problems) > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more"]
    if problems or request is None or hours is None or template is None:
        raise InvalidInputError(f"invalid campaign request: {len(problems)} problem(s)", problems)
    campaign = Campaign(
        name=request.name.strip(),
        template=template,
        hours=hours,
        max_concurrent_calls=cap,
        total=len(rows.rows),
        zones={str(n.row): n.time_zone for n in rows.rows if n.time_zone},
    )
    numbers = [n.model_copy(update={"campaign_id": campaign.campaign_id}) for n in rows.rows]
    return campaign, numbers


def _request(data: dict[str, Any], problems: list[str]) -> CampaignRequest | None:
    """The request's campaign fields; a field that is invalid is reported and left out, so that the
    others (the numbers above all) are still checked."""
    attempt = dict(data)
    for _ in range(len(CampaignRequest.model_fields) + 1):
        try:
            return CampaignRequest.model_validate(attempt)
        except ValidationError as exc:
            problems += [f"{_loc(e)}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]} & attempt.keys()
            if not bad:
                return None
            for name in bad:
                del attempt[name]
    return None


def _template(
    data: dict[str, Any], conversation: ConversationSettings, rows: _Rows, problems: list[str]
) -> InitiateRequest | None:
    """What every call is for, validated as POST /call validates it (to the first valid number)."""
    call_fields = {k: v for k, v in data.items() if k not in CAMPAIGN_ONLY}
    if "phone_number" in call_fields:
        problems.append("phone_number: not a campaign field; give numbers or csv")
        return None
    first = next((n.phone_number for n in rows.rows if n.phone_number.startswith("+")), None)
    call_fields["phone_number"] = first or conversation.agent_phone_number
    try:
        template = parse_call_request(json.dumps(call_fields).encode(), conversation)
    except InvalidInputError as exc:
        problems += exc.problems or [str(exc)]
        return None
    for number in rows.rows:
        task = number.initiate(template, "").task
        limit = 4000
        if len(task) > limit:
            problems.append(
                f"row {number.row}: the task with this row's fields is longer than {limit} characters"
            )
    return template
