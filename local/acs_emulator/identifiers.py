"""CommunicationIdentifierModel helpers."""

from __future__ import annotations

from typing import Any

BOT_USER_ID = "8:acs:00000000-0000-0000-0000-000000000acs_00000000-0000-0000-0000-000000000b07"


def phone(number: str) -> dict[str, Any]:
    return {"kind": "phoneNumber", "rawId": f"4:{number}", "phoneNumber": {"value": number}}


def acs_user(user_id: str) -> dict[str, Any]:
    return {"kind": "communicationUser", "rawId": user_id, "communicationUser": {"id": user_id}}


def teams_user(raw: str) -> dict[str, Any]:
    user_id = raw.split(":", 2)[-1] if raw.startswith("8:orgid:") else raw
    return {"kind": "microsoftTeamsUser", "rawId": raw, "microsoftTeamsUser": {"userId": user_id}}


def identifier(value: str) -> dict[str, Any]:
    """An identifier model from what a person types: ``+1555...`` (a phone), ``8:acs:...`` (an ACS
    user), ``8:orgid:...`` (a Teams user); anything else is kept as a raw id of unknown kind."""
    value = value.strip()
    if value.startswith("+"):
        return phone(value)
    if value.startswith("4:+"):
        return phone(value[2:])
    if value.startswith("8:acs:") or value.startswith("8:spool:"):
        return acs_user(value)
    if value.startswith("8:orgid:"):
        return teams_user(value)
    return {"kind": "unknown", "rawId": value}


def raw_id(model: dict[str, Any] | None) -> str | None:
    """The rawId of an identifier model, derived from its typed property when absent."""
    if not isinstance(model, dict):
        return None
    if isinstance(model.get("phoneNumber"), dict) and model["phoneNumber"].get("value"):
        return f"4:{model['phoneNumber']['value']}"
    if isinstance(model.get("communicationUser"), dict) and model["communicationUser"].get("id"):
        return str(model["communicationUser"]["id"])
    raw = model.get("rawId")
    return str(raw) if raw else None


def phone_number(model: dict[str, Any] | None) -> str | None:
    key = raw_id(model)
    if key and key.startswith("4:"):
        return key[2:]
    return None


def normalize(model: dict[str, Any]) -> dict[str, Any]:
    """A response-shaped identifier (kind and rawId always present)."""
    number = phone_number(model)
    if number is not None:
        return phone(number)
    key = raw_id(model) or "unknown"
    if isinstance(model.get("communicationUser"), dict):
        return acs_user(key)
    if isinstance(model.get("microsoftTeamsUser"), dict):
        return {**model, "kind": "microsoftTeamsUser", "rawId": key}
    return {"kind": model.get("kind", "unknown"), "rawId": key}
