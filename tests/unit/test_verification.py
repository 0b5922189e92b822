"""The proof a caller gives to resume a case is checked in code, generously in form, strictly in value."""

from __future__ import annotations

import pytest

from core.models.verification import PendingResume, ResumeCheck, answer_matches, expected_answer


def pending(check: ResumeCheck, claim: dict[str, object]) -> PendingResume:
    expected = expected_answer(check, claim)
    assert expected is not None
    return PendingResume(case_id="c", check=check, expected=expected)


@pytest.mark.parametrize(
    ("answer", "ok"),
    [("It's B-12345.", True), ("b 1 2 3 4 5", True), ("B-12346", False), ("I don't know", False)],
)
def test_a_policy_number_matches_whatever_its_punctuation(answer: str, ok: bool) -> None:
    assert answer_matches(pending(ResumeCheck.POLICY_NUMBER, {"policy_number": "B-12345"}), answer) is ok


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("1980-03-04", True),
        ("04/03/1980", True),
        ("03 04 1980", True),
        ("1980", False),
        ("05/03/1980", False),
    ],
)
def test_a_date_of_birth_matches_in_any_digit_order(answer: str, ok: bool) -> None:
    assert answer_matches(pending(ResumeCheck.DATE_OF_BIRTH, {"date_of_birth": "1980-03-04"}), answer) is ok


def test_an_sms_code_is_six_random_digits() -> None:
    check = pending(ResumeCheck.SMS_CODE, {})
    assert len(check.expected) == 6 and check.expected.isdigit()
    assert answer_matches(check, f"the code is {' '.join(check.expected)}")
    assert not answer_matches(check, "123")


def test_a_case_without_the_field_or_with_a_trivial_value_cannot_be_resumed() -> None:
    assert expected_answer(ResumeCheck.POLICY_NUMBER, {}) is None
    assert expected_answer(ResumeCheck.POLICY_NUMBER, {"policy_number": "1"}) is None
