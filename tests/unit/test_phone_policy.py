"""The toll-fraud guard: which numbers the product may call, transfer to and text."""

from __future__ import annotations

import pytest

from core.models.phone_policy import NumberRefused, PhonePolicy
from core.settings import ConfigurationError, ConversationSettings, load_settings

# The numbers issue 11 found called or texted: Caribbean +1 ranges, premium ranges, police, garbage.
REFUSED = {
    "+18765551234": "region JM",
    "+18095551234": "region DO",
    "+12844941234": "region VG",
    "+14734401234": "region GD",
    "+16499461234": "region TC",
    "+19005551234": "premium rate",
    "+449091234567": "premium rate",
    "+448712345678": "premium rate",
    "+33899123456": "premium rate",
    "+4990012345678": "not a valid number",
    "+34806123456": "premium rate",
    "+49110": "emergency number",
    "+10000000000": "not a valid number",
    "+8613800138000": "region CN",
    "+4915": "not a valid number",
    "4155550100": "not in E.164",
    "+abc": "not a phone number",
}
ALLOWED = ["+14155550100", "+16135550100", "+33612345678", "+33142685300", "+442079460000", "+34912345678",
           "+4930123456", "+18005551234"]  # fmt: skip


@pytest.fixture
def policy() -> PhonePolicy:
    return ConversationSettings().phone_policy


@pytest.mark.parametrize(("number", "why"), REFUSED.items())
def test_refused_numbers_say_why(policy: PhonePolicy, number: str, why: str) -> None:
    with pytest.raises(NumberRefused) as info:
        policy.check(number)
    assert why in str(info.value)
    assert not policy.allows(number)


@pytest.mark.parametrize("number", ALLOWED)
def test_ordinary_numbers_of_allowed_regions_pass(policy: PhonePolicy, number: str) -> None:
    assert policy.check(number) == number


def test_the_regions_and_types_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION__ALLOWED_REGIONS", "FR, jm")
    monkeypatch.setenv("CONVERSATION__ALLOWED_NUMBER_TYPES", "mobile")
    monkeypatch.setenv("CONVERSATION__AGENT_PHONE_NUMBER", "+33612345678")
    policy = load_settings().conversation.phone_policy
    assert policy.allows("+18765551234")  # Jamaica, mobile
    assert not policy.allows("+33142685300")  # France, fixed line
    assert not policy.allows("+14155550100")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONVERSATION__ALLOWED_REGIONS": "US,XX"}, "'XX' is not a region code"),
        ({"CONVERSATION__ALLOWED_NUMBER_TYPES": "mobile,premium_rate"}, "can never be allowed"),
        ({"CONVERSATION__ALLOWED_NUMBER_TYPES": "landline"}, "'landline' is not a number type"),
        (
            {"CONVERSATION__ALLOWED_REGIONS": "US", "CONVERSATION__ALLOWED_COUNTRY_CODES": "1"},
            "ALLOWED_COUNTRY_CODES is deprecated and cannot be combined",
        ),
        (
            {"CONVERSATION__AGENT_PHONE_NUMBER": "+19005551234"},
            "AGENT_PHONE_NUMBER: +19005551234 is a premium",
        ),
        ({"CONVERSATION__ALLOWED_REGIONS": "FR"}, "AGENT_PHONE_NUMBER: +14155550199 is in region US"),
    ],
)
def test_bad_policy_settings_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    assert message in str(info.value)


def test_the_deprecated_country_codes_map_to_their_main_region_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION__ALLOWED_COUNTRY_CODES", "1,33")
    policy = load_settings().conversation.phone_policy
    assert policy.regions == frozenset({"US", "FR"})
    assert not policy.allows("+18765551234")
