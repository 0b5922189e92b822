"""POST /call: the request body as a pydantic model (its field names, types, limits, descriptions and
examples exist here only: validation, the OpenAPI document and the README use them) and its parsing
into the initiate request of a call, every problem named by field. Pure."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from core import json_input
from core.errors import InvalidInputError
from core.models import (
    ClaimField,
    ClaimSchema,
    InitiateRequest,
    LanguageOption,
    normalize_e164,
)
from core.models.claim import MAX_FIELDS
from core.settings import ConversationSettings

MAX_BODY_BYTES = 64 * 1024
E164_EXAMPLE = "+14155550100"


def _max_length(name: str) -> int:
    """The limit the call document itself puts on a field (so the request and the document agree)."""
    for constraint in InitiateRequest.model_fields[name].metadata:
        limit = getattr(constraint, "max_length", None)  # annotated_types.MaxLen
        if isinstance(limit, int):
            return limit
    raise LookupError(f"InitiateRequest.{name} has no maximum length")


MAX_LANGUAGES = _max_length("languages")


def _settings(info: ValidationInfo) -> ConversationSettings | None:
    context = info.context or {}
    settings = context.get("settings")
    return settings if isinstance(settings, ConversationSettings) else None


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a non-empty string")
    return value


def _fields_to_schema(value: Any) -> Any:
    """The list form of a claim schema is its fields."""
    return {"fields": value} if isinstance(value, list) else value


def _configured_language(code: str, info: ValidationInfo) -> str:
    settings = _settings(info)
    if settings is not None:
        known = [option.code for option in settings.language_options()]
        if code not in known:
            raise ValueError(
                f"'{code[:20]}' is not a configured language ({', '.join(known)}); "
                "give {code, name, voice} for another one"
            )
    return code


def _language_kind(value: Any) -> str:
    return "code" if isinstance(value, str) else "option"


# Tags of the two forms of a language; they appear in error locations and are left out of field names.
_LANGUAGE_TAGS = ("code", "option")

LanguageItem = Annotated[
    Annotated[
        str,
        AfterValidator(_configured_language),
        Field(description="Code of a configured language (CONVERSATION__LANGUAGES), e.g. en-US"),
        Tag("code"),  # last: the discriminator reads it from the outermost annotation
    ]
    | Annotated[LanguageOption, Tag("option")],
    Discriminator(_language_kind),
]

ClaimSchemaOrFields = Annotated[
    ClaimSchema | None,
    BeforeValidator(
        _fields_to_schema,
        json_schema_input_type=ClaimSchema | Annotated[list[ClaimField], Field(max_length=MAX_FIELDS)] | None,
    ),
]


BotName = Annotated[str, Field(min_length=1, max_length=_max_length("bot_name")), AfterValidator(_non_blank)]
BotCompany = Annotated[
    str, Field(min_length=1, max_length=_max_length("bot_company")), AfterValidator(_non_blank)
]
Task = Annotated[str, Field(min_length=1, max_length=_max_length("task")), AfterValidator(_non_blank)]


# The example of the OpenAPI document and of the README.
EXAMPLE: dict[str, Any] = {
    "phone_number": E164_EXAMPLE,
    "bot_name": "Rémi",
    "bot_company": "Cake Shop",
    "task": "Take a birthday cake order: flavor and number of guests.",
    "claim_schema": [
        {"name": "flavor", "type": "enum", "values": ["chocolate", "vanilla"]},
        {"name": "guests", "type": "integer", "description": "Number of guests"},
    ],
    "languages": ["en-US"],
}


class CallRequest(BaseModel):
    """The body of POST /call: the bot calls phone_number; every other field, absent or null, takes
    its configured value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    phone_number: str = Field(
        description="The number to call, E.164: a valid number of a region in "
        "CONVERSATION__ALLOWED_REGIONS, of a type in CONVERSATION__ALLOWED_NUMBER_TYPES.",
        examples=[E164_EXAMPLE],
    )
    bot_name: BotName | None = Field(
        default=None, description="The name the bot introduces itself with. Default: CONVERSATION__BOT_NAME."
    )
    bot_company: BotCompany | None = Field(
        default=None, description="The company the bot works for. Default: CONVERSATION__BOT_COMPANY."
    )
    task: Task | None = Field(
        default=None,
        description="What the bot must do, in plain English. Default: CONVERSATION__DEFAULT_TASK.",
    )
    claim_schema: ClaimSchemaOrFields = Field(
        default=None,
        description="Typed fields to collect: a claim schema or its list of fields. "
        "Default: the built-in insurance claim.",
    )
    claim: ClaimSchemaOrFields = Field(default=None, description="Alias of claim_schema (which wins).")
    agent_phone_number: str | None = Field(
        default=None,
        # Checked when absent too: the configured number must also pass the phone policy.
        validate_default=True,
        description="The human agent transfers go to, E.164; allowed like phone_number. "
        "Default: CONVERSATION__AGENT_PHONE_NUMBER.",
    )
    languages: list[LanguageItem] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LANGUAGES,
        description="Languages the caller may speak: codes of configured languages or "
        "{code, name, voice}. Default: CONVERSATION__LANGUAGES.",
    )
    default_language: str | None = Field(
        default=None,
        description="The language the call starts in, one of the call's languages. "
        "Default: CONVERSATION__DEFAULT_LANGUAGE if among them, else the first.",
    )

    @field_validator("phone_number", "agent_phone_number")
    @classmethod
    def _e164_and_allowed(cls, value: str | None, info: ValidationInfo) -> str | None:
        settings = _settings(info)
        if value is None:  # agent_phone_number only (phone_number is required)
            if settings is None:
                return None
            value = settings.agent_phone_number
        if not value.strip():
            raise ValueError(f"required, in E.164 format like {E164_EXAMPLE}")
        number = normalize_e164(value)
        if settings is not None:
            number = settings.phone_policy.check(number)  # NumberRefused is a ValueError: a problem
        return number


KNOWN_FIELDS = tuple(CallRequest.model_fields)

# Messages of today's API for the errors pydantic words in its own way, by (field, error type).
_MESSAGES: dict[tuple[str, str], str] = {
    ("phone_number", "missing"): f"required, in E.164 format like {E164_EXAMPLE}",
    ("phone_number", "string_type"): f"required, in E.164 format like {E164_EXAMPLE}",
    ("agent_phone_number", "string_type"): "expected a string in E.164 format",
    ("languages", "list_type"): "expected a non-empty list of language codes or {code, name, voice}",
    ("languages", "too_short"): "expected a non-empty list of language codes or {code, name, voice}",
    ("languages", "too_long"): f"at most {MAX_LANGUAGES} languages",
}


def _problem(error: ErrorDetails) -> str:
    loc = [str(part) for part in error["loc"]]
    if loc[:1] == ["languages"] and len(loc) > 2 and loc[2] in _LANGUAGE_TAGS:
        del loc[2]
    name = ".".join(loc) or "body"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{name}: unknown field (known: {', '.join(sorted(KNOWN_FIELDS))})"
    if len(loc) == 1 and (loc[0], kind) in _MESSAGES:
        return f"{name}: {_MESSAGES[(loc[0], kind)]}"
    if len(loc) == 1 and loc[0] in ("bot_name", "bot_company", "task"):
        if kind == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length")
            return f"{name}: longer than {limit} characters ({len(error['input'])})"
        if kind in ("string_type", "string_too_short"):
            return f"{name}: expected a non-empty string"
    return f"{name}: {error['msg'].removeprefix('Value error, ')}"


def _requested_codes(raw_languages: Any, languages: list[LanguageOption]) -> list[str]:
    """The language codes a body asks for, valid or not (for the default language's check)."""
    if isinstance(raw_languages, list):
        return [str(i.get("code", "")) if isinstance(i, dict) else str(i) for i in raw_languages]
    return [option.code for option in languages]


def parse_call_request(body: bytes, settings: ConversationSettings) -> InitiateRequest:
    """Validate a POST /call body into an InitiateRequest, or raise InvalidInputError listing every
    problem (each message names the field)."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInputError(f"body is larger than {MAX_BODY_BYTES // 1024} KiB")
    data = json_input.loads(body or b"null")
    if not isinstance(data, dict):
        raise InvalidInputError("body must be a JSON object")
    request: CallRequest | None = None
    problems: list[str] = []
    try:
        request = CallRequest.model_validate(data, context={"settings": settings})
    except ValidationError as exc:
        errors = [e for e in exc.errors() if e["loc"][:1] != ("default_language",)]
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")  # unknown fields first
        problems = [_problem(e) for e in errors]

    known = {option.code: option for option in settings.language_options()}
    languages: list[LanguageOption] = list(known.values())
    if request is not None and request.languages is not None:
        languages = [known[item] if isinstance(item, str) else item for item in request.languages]
    codes = _requested_codes(data.get("languages"), languages)
    default_language = data.get("default_language")
    if default_language is None:
        default_language = settings.default_language if settings.default_language in codes else ""
        default_language = default_language or (codes[0] if codes else "")
    elif not isinstance(default_language, str) or default_language not in codes:
        problems.append(f"default_language: must be one of the call's languages ({', '.join(codes)})")

    if problems or request is None:
        raise InvalidInputError(f"invalid call request: {len(problems)} problem(s)", problems)
    fields: dict[str, Any] = {
        "phone_number": request.phone_number,
        "bot_name": (request.bot_name or settings.bot_name).strip(),
        "bot_company": (request.bot_company or settings.bot_company).strip(),
        "task": (request.task or settings.default_task).strip(),
        "agent_phone_number": request.agent_phone_number,
        "languages": languages,
        "default_language": default_language,
    }
    schema = request.claim_schema or request.claim
    if schema is not None:
        fields["claim_schema"] = schema
    try:
        return InitiateRequest.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInputError("invalid call request", [_problem(e) for e in exc.errors()]) from None


def default_initiate(phone_number: str, settings: ConversationSettings) -> InitiateRequest:
    """The initiate request of an inbound call: everything from the settings."""
    return InitiateRequest(
        phone_number=phone_number,
        bot_name=settings.bot_name,
        bot_company=settings.bot_company,
        task=settings.default_task,
        agent_phone_number=settings.agent_phone_number,
        languages=settings.language_options(),
        # One of the languages: the settings are validated so at start-up.
        default_language=settings.default_language,
    )
