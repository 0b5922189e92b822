from __future__ import annotations

import pytest

from core.models import ClaimField, ClaimFieldType, ClaimSchema, ClaimValueError
from tests.conftest import make_call


def schema() -> ClaimSchema:
    return ClaimSchema(
        fields=[
            ClaimField(name="name", type=ClaimFieldType.TEXT),
            ClaimField(name="when", type=ClaimFieldType.DATETIME),
            ClaimField(name="email", type=ClaimFieldType.EMAIL),
            ClaimField(name="phone", type=ClaimFieldType.PHONE_NUMBER),
            ClaimField(name="amount", type=ClaimFieldType.NUMBER),
            ClaimField(name="cars", type=ClaimFieldType.INTEGER),
            ClaimField(name="injured", type=ClaimFieldType.BOOLEAN),
            ClaimField(name="kind", type=ClaimFieldType.ENUM, values=["car", "home"]),
        ]
    )


def test_values_are_coerced_to_their_types() -> None:
    call = make_call(claim_schema=schema())
    stored = call.set_claim_values(
        {
            "name": " Jane Doe ",
            "when": "2026-11-20T08:30:00Z",
            "email": "Jane@Example.com",
            "phone": "+33 6 12 34 56 78",
            "amount": "1,250.50",
            "cars": 2.0,
            "injured": "no",
            "kind": "CAR",
        }
    )
    assert stored == {
        "name": "Jane Doe",
        "when": "2026-11-20T08:30:00+00:00",
        "email": "jane@example.com",
        "phone": "+33612345678",
        "amount": 1250.5,
        "cars": 2,
        "injured": False,
        "kind": "car",
    }


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("when", "next tuesday", "not an ISO 8601 date-time"),
        ("email", "jane at example", "not an email address"),
        ("phone", "0612345678", "E.164"),
        ("amount", "a lot", "not a number"),
        ("cars", 1.5, "whole number"),
        ("injured", "maybe", "expected true or false"),
        ("kind", "boat", "not one of car, home"),
        ("unknown", "x", "not a field of this claim"),
    ],
)
def test_a_wrong_value_is_rejected_with_a_reason_and_changes_nothing(
    field: str, value: object, reason: str
) -> None:
    call = make_call(claim_schema=schema())
    call.set_claim_values({"name": "Jane"})
    with pytest.raises(ClaimValueError, match=reason):
        call.set_claim_values({"amount": 10, field: value})
    assert call.claim == {"name": "Jane"}


def test_schema_rejects_bad_field_names_duplicates_and_enums_without_values() -> None:
    with pytest.raises(ValueError, match="must start with a lowercase letter"):
        ClaimField(name="Bad Name")
    with pytest.raises(ValueError, match="more than once"):
        ClaimSchema(fields=[ClaimField(name="a"), ClaimField(name="a")])
    with pytest.raises(ValueError, match="needs a non-empty 'values'"):
        ClaimField(name="kind", type=ClaimFieldType.ENUM)
