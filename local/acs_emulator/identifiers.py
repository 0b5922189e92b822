"""CommunicationIdentifierModel helpers."""

from __future__ import annotations

from typing import Any

BOT_USER_ID = "8:acs:00000000-0000-0000-0000-000000000acs_00000000-0000-0000-0000-000000000b07"


def phone(number: str) -> dict[str, Any]:
    return {"kind": "phoneNumber", "rawId": f"4:{number}", "phoneNumber": {"value": number}}


def acs_user(user_id: str) -> dict[str, Any]:
    return {"kind": "communicationUser", "rawId": user_id, "communicationUser": {"id": user_id}}


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
    return {"kind": model.get("kind", "unknown"), "rawId": key}
