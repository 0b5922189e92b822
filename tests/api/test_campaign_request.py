"""POST /campaign bodies: JSON or CSV, every problem named by its field or its row."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.api.campaign_request import parse_campaign_request
from core.errors import InvalidInputError
from core.models.campaign import Campaign, CampaignNumber
from core.settings import ConversationSettings
from core.settings_campaigns import CampaignSettings

A, B, C = "+14155550101", "+14155550102", "+14155550103"


def parse(
    body: Any, content_type: str = "application/json", params: dict[str, str] | None = None, **settings: Any
) -> tuple[Campaign, list[CampaignNumber]]:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return parse_campaign_request(
        raw, content_type, params or {}, ConversationSettings(), CampaignSettings(**settings)
    )


def problems(body: Any, content_type: str = "application/json", **kwargs: Any) -> list[str]:
    with pytest.raises(InvalidInputError) as caught:
        parse(body, content_type, **kwargs)
    return caught.value.problems


def test_a_json_campaign_takes_the_call_fields_and_the_defaults() -> None:
    campaign, numbers = parse(
        {
            "name": "Renewals",
            "numbers": [A, {"phone_number": B, "time_zone": "Europe/Paris", "fields": {"name": "Jane"}}],
            "task": "Remind of the renewal.",
            "claim_schema": [{"name": "renews", "type": "boolean"}],
        }
    )
    assert campaign.total == 2 and campaign.max_concurrent_calls == CampaignSettings().max_concurrent_calls
    assert campaign.template.task == "Remind of the renewal."
    assert [f.name for f in campaign.template.claim_schema.fields] == ["renews"]
    assert campaign.hours.time_zone == "UTC" and f"{campaign.hours.start:%H:%M}" == "09:00"
    assert campaign.zones == {"2": "Europe/Paris"}
    assert [(n.row, n.phone_number, n.fields) for n in numbers] == [(1, A, {}), (2, B, {"name": "Jane"})]
    assert all(n.campaign_id == campaign.campaign_id for n in numbers)


def test_a_csv_body_with_a_header_and_options_in_the_query() -> None:
    campaign, numbers = parse(
        f"\ufeffphone_number,time_zone,first name\n{A},America/New_York,Ann\n\n{B},,Bob\n",
        "text/csv; charset=utf-8",
        {"task": "Say hello.", "max_concurrent_calls": "2", "start": "10:00", "end": "18:30", "code": "key"},
    )
    assert campaign.max_concurrent_calls == 2 and f"{campaign.hours.end:%H:%M}" == "18:30"
    assert campaign.template.task == "Say hello."
    assert [(n.phone_number, n.time_zone, n.fields) for n in numbers] == [
        (A, "America/New_York", {"first name": "Ann"}),
        (B, None, {"first name": "Bob"}),
    ]


def test_a_csv_without_header_is_one_column_of_numbers() -> None:
    _, numbers = parse({"csv": f"{A}\n{B}\n{C}\n"})
    assert [n.phone_number for n in numbers] == [A, B, C]


def test_every_bad_row_is_named_and_the_rest_still_checked() -> None:
    found = problems(
        {
            "numbers": [A, "0612", {"phone_number": A}, {"phone_number": B, "time_zone": "Nowhere/Land"}],
            "max_concurrent_calls": 1000,
            "calling_hours": {"start": "10:00", "end": "10:00"},
        }
    )
    assert any(p.startswith("row 2 (numbers[1]): '0612' is not in E.164") for p in found), found
    assert any(p.startswith("row 3 (numbers[2]): +14155550101 is already row 1") for p in found), found
    assert any(p.startswith("row 4 (numbers[3]): time_zone:") for p in found), found
    assert any(p.startswith("max_concurrent_calls: at most 20") for p in found), found
    assert any("calling window is empty" in p for p in found), found


def test_csv_problems_name_the_row_and_the_line() -> None:
    found = problems(f"phone_number,name\n{A},Ann\n{B}\n+1,Cy\n", "text/csv", params={"colour": "red"})
    assert any(p.startswith("row 2 (line 3): 1 columns, the header has 2") for p in found), found
    assert any(p.startswith("row 3 (line 4): '+1'") for p in found), found
    assert any(p.startswith("colour: unknown query parameter") for p in found), found
    assert problems("name,age\nAnn,3\n", "text/csv")[0].startswith("csv: the first line must be a header")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "numbers: give the numbers to call, or csv"),
        ({"numbers": [A], "csv": A}, "numbers: give the numbers to call, or csv"),
        ({"numbers": []}, "numbers: the campaign has no number to call"),
        ({"numbers": None}, "numbers: give the numbers to call, or csv"),
        ({"csv": "\n \n"}, "numbers: the campaign has no number to call"),
        ({"numbers": [A], "phone_number": A}, "phone_number: not a campaign field"),
        ({"numbers": [A], "task": ""}, "task: expected a non-empty string"),
        ({"numbers": [A], "colour": "red"}, "colour: unknown field"),
    ],
)
def test_what_the_request_is_missing_or_has_too_much(body: dict[str, Any], expected: str) -> None:
    found = problems(body)
    assert any(p.startswith(expected) for p in found), found


def test_limits_on_numbers_and_bodies() -> None:
    assert "at most 2" in problems({"numbers": [A, B, C]}, max_numbers=2)[0]
    with pytest.raises(InvalidInputError, match="not supported"):
        parse("x", "application/xml")
    with pytest.raises(InvalidInputError, match="larger than"):
        parse("+" * (1024 * 1024 + 1), "text/csv")
    many = [f"+1415555{i:04d}" for i in range(60)]
    found = problems({"numbers": [n[:-4] + "x" for n in many]})
    assert len(found) == 51 and found[-1].startswith("... and ")
