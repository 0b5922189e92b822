"""Run-time options: every option falls back to its app setting; a bad value never replaces a good one."""

from __future__ import annotations

import logging

import pytest

from core.runtime import OPTION_NAMES, build_snapshot, from_settings
from core.settings import ConfigurationError, LlmSettings, Settings, load_settings


def test_without_a_store_every_option_is_its_app_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM__FILLER_AFTER_S", "4")
    monkeypatch.setenv("LLM__ANSWER_HARD_TIMEOUT_S", "15")
    monkeypatch.setenv("CONVERSATION__CALLBACK_WINDOW_HOURS", "0")
    monkeypatch.setenv("ACS__RECORDING_ENABLED", "true")
    snapshot = from_settings(load_settings())
    assert (snapshot.answer_soft_timeout_s, snapshot.answer_hard_timeout_s) == (4, 15)
    assert snapshot.callback_window_hours == 0 and snapshot.recording_enabled
    assert snapshot.slow_llm_for_chat is False and snapshot.default_claim_schema is None
    assert snapshot.source == "app settings"


def test_store_values_win_and_absent_keys_take_the_app_setting() -> None:
    settings = Settings()
    raw = {
        "answer_soft_timeout_s": "30",
        "answer_hard_timeout_s": "60",
        "recognition_retries": "3",
        "slow_llm_for_chat": "true",
        "default_claim_schema": '[{"name": "flavor", "type": "text"}]',
        "prompt_overrides": '{"greeting": "Hi from the store!"}',
    }
    snapshot = build_snapshot(settings, raw, from_settings(settings), source="store")
    assert (snapshot.answer_soft_timeout_s, snapshot.answer_hard_timeout_s) == (30, 60)
    assert snapshot.recognition_retries == 3 and snapshot.slow_llm_for_chat
    assert snapshot.default_claim_schema is not None
    assert [f.name for f in snapshot.default_claim_schema.fields] == ["flavor"]
    assert snapshot.overrides["greeting"] == {"*": ["Hi from the store!"]}
    assert snapshot.phone_silence_timeout_s == settings.acs.initial_silence_timeout_s
    assert snapshot.default_task == settings.conversation.default_task


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("answer_hard_timeout_s", "soon"),
        ("answer_hard_timeout_s", "-1"),
        ("recognition_retries", "99"),
        ("recording_enabled", "maybe"),
        ("default_task", ""),
        ("default_claim_schema", '[{"name": "Bad Name", "type": "colour"}]'),
        ("prompt_overrides", '{"no_such_phrase": "x"}'),
    ],
)
def test_an_invalid_value_is_rejected_logged_and_the_last_good_one_kept(
    name: str, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings()
    good = build_snapshot(
        settings,
        {"answer_hard_timeout_s": "45", "recognition_retries": "4", "default_task": "Sell cakes."},
        from_settings(settings),
        source="store",
    )
    with caplog.at_level(logging.WARNING, logger="callcenter.runtime"):
        after = build_snapshot(
            settings,
            {
                "answer_hard_timeout_s": "45",
                "recognition_retries": "4",
                "default_task": "Sell cakes.",
                name: bad,
            },
            good,
            source="store",
        )
    assert getattr(after, name) == getattr(good, name)
    assert any(name in r.getMessage() and "rejected" in r.getMessage() for r in caplog.records)


def test_a_soft_timeout_not_below_the_hard_one_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings()
    good = from_settings(settings)
    with caplog.at_level(logging.WARNING, logger="callcenter.runtime"):
        after = build_snapshot(settings, {"answer_soft_timeout_s": "90"}, good, source="store")
    assert after.answer_soft_timeout_s == good.answer_soft_timeout_s < after.answer_hard_timeout_s
    assert "not below" in caplog.text
    with pytest.raises(ValueError, match="LLM__FILLER_AFTER_S"):
        LlmSettings(filler_after_s=70, answer_hard_timeout_s=60)


def test_app_settings_that_contradict_each_other_stop_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM__ANSWER_HARD_TIMEOUT_S", "1")
    with pytest.raises(ConfigurationError, match="LLM__ANSWER_HARD_TIMEOUT_S"):
        load_settings()


def test_every_option_has_a_field() -> None:
    from core.runtime import RuntimeSnapshot

    assert set(OPTION_NAMES) <= set(RuntimeSnapshot.model_fields)
