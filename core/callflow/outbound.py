"""Validation of POST /call: every problem named, defaults from the settings. Pure."""

from __future__ import annotations

import json
from typing import Any

import phonenumbers
from pydantic import ValidationError

from core.errors import InvalidInputError
from core.models import ClaimSchema, InitiateRequest, LanguageOption, normalize_e164
from core.settings import ConversationSettings

MAX_BODY_BYTES = 64 * 1024
_KNOWN_FIELDS = {
    "phone_number",
    "bot_name",
    "bot_company",
    "task",
    "claim",
    "claim_schema",
    "agent_phone_number",
    "languages",
    "default_language",
}


def check_country(number: str, settings: ConversationSettings, field: str) -> str | None:
    """A problem message when the number's country code is not allowed (toll-fraud guard)."""
    code = phonenumbers.parse(number, None).country_code
    allowed = settings.country_codes
    if code not in allowed:
        listed = ", ".join(f"+{c}" for c in sorted(allowed))
        return f"{field}: country code +{code} is not allowed (allowed: {listed})"
    return None


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


def _loc(error: Any, prefix: str = "") -> str:
    parts = [str(p) for p in error.get("loc", ())]
    return prefix + ".".join(parts) if parts else prefix.rstrip(".") or "body"


def parse_initiate(body: bytes, settings: ConversationSettings) -> InitiateRequest:
    """Validate a POST /call body into an InitiateRequest, or raise InvalidInputError listing every
    problem (each message names the field)."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInputError(f"body is larger than {MAX_BODY_BYTES // 1024} KiB")
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise InvalidInputError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError("body must be a JSON object")
    problems: list[str] = [
        f"{name}: unknown field (known: {', '.join(sorted(_KNOWN_FIELDS))})"
        for name in data
        if name not in _KNOWN_FIELDS
    ]

    phone = data.get("phone_number")
    if not isinstance(phone, str) or not phone.strip():
        problems.append("phone_number: required, in E.164 format like +14155550100")
    else:
        try:
            phone = normalize_e164(phone)
            problem = check_country(phone, settings, "phone_number")
            if problem:
                problems.append(problem)
        except ValueError as exc:
            problems.append(f"phone_number: {exc}")

    agent = data.get("agent_phone_number", settings.agent_phone_number)
    if not isinstance(agent, str):
        problems.append("agent_phone_number: expected a string in E.164 format")
    else:
        try:
            agent = normalize_e164(agent)
            problem = check_country(agent, settings, "agent_phone_number")
            if problem:
                problems.append(problem)
        except ValueError as exc:
            problems.append(f"agent_phone_number: {exc}")

    for name, limit in (("bot_name", 60), ("bot_company", 100), ("task", 4000)):
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}: expected a non-empty string")
        elif len(value) > limit:
            problems.append(f"{name}: longer than {limit} characters ({len(value)})")

    schema: ClaimSchema | None = None
    raw_schema = data.get("claim_schema", data.get("claim"))
    if raw_schema is not None:
        if isinstance(raw_schema, list):
            raw_schema = {"fields": raw_schema}
        try:
            schema = ClaimSchema.model_validate(raw_schema)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(
                    f"{_loc(error, 'claim_schema.')}: {error['msg'].removeprefix('Value error, ')}"
                )

    known = {o.code: o for o in settings.language_options()}
    languages: list[LanguageOption] = []
    raw_languages = data.get("languages")
    if raw_languages is not None:
        if not isinstance(raw_languages, list) or not raw_languages:
            problems.append("languages: expected a non-empty list of language codes or {code, name, voice}")
        elif len(raw_languages) > 10:
            problems.append("languages: at most 10 languages")
        else:
            for index, item in enumerate(raw_languages):
                if isinstance(item, str):
                    if item in known:
                        languages.append(known[item])
                    else:
                        problems.append(
                            f"languages.{index}: '{item[:20]}' is not a configured language "
                            f"({', '.join(known)}); give {{code, name, voice}} for another one"
                        )
                    continue
                try:
                    languages.append(LanguageOption.model_validate(item))
                except ValidationError as exc:
                    for error in exc.errors():
                        problems.append(f"{_loc(error, f'languages.{index}.')}: {error['msg']}")
    else:
        languages = list(known.values())
    default_language = data.get("default_language")
    codes = [o.code for o in languages]
    if isinstance(raw_languages, list):  # the codes asked for, valid or not, for the default's check
        codes = [str(i.get("code", "")) if isinstance(i, dict) else str(i) for i in raw_languages]
    if default_language is None:
        default_language = settings.default_language if settings.default_language in codes else ""
        default_language = default_language or (codes[0] if codes else "")
    elif not isinstance(default_language, str) or default_language not in codes:
        problems.append(f"default_language: must be one of the call's languages ({', '.join(codes)})")

    if problems:
        raise InvalidInputError(f"invalid call request: {len(problems)} problem(s)", problems)
    fields: dict[str, Any] = {
        "phone_number": phone,
        "bot_name": (data.get("bot_name") or settings.bot_name).strip(),
        "bot_company": (data.get("bot_company") or settings.bot_company).strip(),
        "task": (data.get("task") or settings.default_task).strip(),
        "agent_phone_number": agent,
        "languages": languages,
        "default_language": default_language,
    }
    if schema is not None:
        fields["claim_schema"] = schema
    try:
        return InitiateRequest.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInputError(
            "invalid call request",
            [f"{_loc(e)}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()],
        ) from None
