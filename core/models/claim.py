"""Claim schemas and typed claim values. Pure: no I/O."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import phonenumbers
from pydantic import BaseModel, Field, field_validator, model_validator

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT_LENGTH = 2000


class ClaimValueError(ValueError):
    """A claim value does not fit its field; the message says why."""


class ClaimFieldType(StrEnum):
    TEXT = "text"
    DATETIME = "datetime"
    DATE = "date"
    EMAIL = "email"
    PHONE_NUMBER = "phone_number"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ENUM = "enum"


def normalize_e164(raw: str) -> str:
    """Parse a phone number and return it in E.164, or raise ValueError saying why."""
    candidate = raw.strip()
    if not candidate.startswith("+"):
        raise ValueError(f"'{raw}' is not in E.164 format: it must start with '+' and a country code")
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"'{raw}' is not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"'{raw}' is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class ClaimField(BaseModel):
    name: str = Field(description="Identifier: lowercase letters, digits and underscores.")
    type: ClaimFieldType = ClaimFieldType.TEXT
    description: str | None = Field(default=None, max_length=500)
    # Allowed values, for type "enum" only.
    values: list[str] | None = None

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, name: str) -> str:
        if not FIELD_NAME.match(name):
            raise ValueError(
                f"field name '{name}' must start with a lowercase letter and contain only "
                "lowercase letters, digits and underscores (at most 64 characters)"
            )
        return name

    @model_validator(mode="after")
    def _enum_has_values(self) -> ClaimField:
        if self.type is ClaimFieldType.ENUM and not self.values:
            raise ValueError(f"field '{self.name}' of type enum needs a non-empty 'values' list")
        if self.type is not ClaimFieldType.ENUM and self.values:
            raise ValueError(f"field '{self.name}': 'values' is only allowed for type enum")
        return self

    def coerce(self, raw: Any) -> Any:
        """Return the JSON-ready value for this field, or raise ClaimValueError saying why."""
        if raw is None:
            return None
        try:
            return _COERCERS[self.type](self, raw)
        except ClaimValueError:
            raise
        except (ValueError, TypeError) as exc:
            raise ClaimValueError(f"{self.name}: {exc}") from None


def _text(field: ClaimField, raw: Any) -> str:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ClaimValueError(f"{field.name}: expected text, got {type(raw).__name__}")
    text = str(raw).strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise ClaimValueError(f"{field.name}: text longer than {MAX_TEXT_LENGTH} characters")
    return text


def _datetime(field: ClaimField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ClaimValueError(f"{field.name}: expected an ISO 8601 date-time string")
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ClaimValueError(
            f"{field.name}: '{raw}' is not an ISO 8601 date-time (e.g. 2026-11-25T14:30:00+01:00)"
        ) from None
    return value.isoformat()


def _date(field: ClaimField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ClaimValueError(f"{field.name}: expected an ISO 8601 date string")
    try:
        return date.fromisoformat(raw.strip()[:10] if "T" in raw else raw.strip()).isoformat()
    except ValueError:
        raise ClaimValueError(f"{field.name}: '{raw}' is not an ISO 8601 date (e.g. 2026-11-25)") from None


def _email(field: ClaimField, raw: Any) -> str:
    if not isinstance(raw, str) or not _EMAIL.match(raw.strip()):
        raise ClaimValueError(f"{field.name}: '{raw}' is not an email address")
    return raw.strip().lower()


def _phone(field: ClaimField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ClaimValueError(f"{field.name}: expected a phone number in E.164 format, like +14155550100")
    try:
        return normalize_e164(raw)
    except ValueError as exc:
        raise ClaimValueError(f"{field.name}: {exc}") from None


def _number(field: ClaimField, raw: Any) -> float | int:
    if isinstance(raw, bool):
        raise ClaimValueError(f"{field.name}: expected a number, got a boolean")
    if isinstance(raw, str):
        try:
            raw = float(raw.strip().replace(",", ""))
        except ValueError:
            raise ClaimValueError(f"{field.name}: '{raw}' is not a number") from None
    if not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ClaimValueError(f"{field.name}: expected a finite number")
    return int(raw) if float(raw).is_integer() else float(raw)


def _integer(field: ClaimField, raw: Any) -> int:
    value = _number(field, raw)
    if not float(value).is_integer():
        raise ClaimValueError(f"{field.name}: expected a whole number, got {raw}")
    return int(value)


_TRUE = {"true", "yes", "y", "1", "oui", "si", "sí"}
_FALSE = {"false", "no", "n", "0", "non"}


def _boolean(field: ClaimField, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ClaimValueError(f"{field.name}: expected true or false, got '{raw}'")


def _enum(field: ClaimField, raw: Any) -> str:
    allowed = field.values or []
    if isinstance(raw, str):
        for value in allowed:
            if value.lower() == raw.strip().lower():
                return value
    raise ClaimValueError(f"{field.name}: '{raw}' is not one of {', '.join(allowed)}")


_COERCERS = {
    ClaimFieldType.TEXT: _text,
    ClaimFieldType.DATETIME: _datetime,
    ClaimFieldType.DATE: _date,
    ClaimFieldType.EMAIL: _email,
    ClaimFieldType.PHONE_NUMBER: _phone,
    ClaimFieldType.NUMBER: _number,
    ClaimFieldType.INTEGER: _integer,
    ClaimFieldType.BOOLEAN: _boolean,
    ClaimFieldType.ENUM: _enum,
}

MAX_FIELDS = 50


class ClaimSchema(BaseModel):
    fields: list[ClaimField] = Field(default_factory=list, max_length=MAX_FIELDS)

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[ClaimField]) -> list[ClaimField]:
        seen: set[str] = set()
        for field in fields:
            if field.name in seen:
                raise ValueError(f"field name '{field.name}' appears more than once")
            seen.add(field.name)
        return fields

    def field(self, name: str) -> ClaimField:
        for field in self.fields:
            if field.name == name:
                return field
        known = ", ".join(f.name for f in self.fields) or "none"
        raise ClaimValueError(f"'{name}' is not a field of this claim (fields: {known})")

    def validate_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Coerce several values at once; all or nothing. Raises ClaimValueError listing every problem."""
        coerced: dict[str, Any] = {}
        problems: list[str] = []
        for name, raw in values.items():
            try:
                coerced[name] = self.field(name).coerce(raw)
            except ClaimValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ClaimValueError("; ".join(problems))
        return coerced

    def missing(self, values: dict[str, Any]) -> list[str]:
        return [f.name for f in self.fields if values.get(f.name) in (None, "")]


DEFAULT_CLAIM_SCHEMA = ClaimSchema(
    fields=[
        ClaimField(name="caller_name", type=ClaimFieldType.TEXT, description="Full name of the caller"),
        ClaimField(name="caller_email", type=ClaimFieldType.EMAIL, description="Email to reach the caller"),
        ClaimField(name="caller_phone", type=ClaimFieldType.PHONE_NUMBER, description="Phone number, E.164"),
        ClaimField(name="policy_number", type=ClaimFieldType.TEXT, description="Insurance policy number"),
        ClaimField(
            name="incident_datetime", type=ClaimFieldType.DATETIME, description="When the incident happened"
        ),
        ClaimField(name="incident_location", type=ClaimFieldType.TEXT, description="Where it happened"),
        ClaimField(name="incident_description", type=ClaimFieldType.TEXT, description="What happened"),
        ClaimField(
            name="estimated_damage", type=ClaimFieldType.NUMBER, description="Estimated cost in euros"
        ),
        ClaimField(name="injuries", type=ClaimFieldType.BOOLEAN, description="Was anyone hurt"),
    ]
)
