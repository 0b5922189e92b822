from __future__ import annotations

from local.settings_doc import BEGIN, DESCRIPTIONS, END, README, iter_settings, table


def test_every_setting_is_described() -> None:
    undocumented = [env for env, _ in iter_settings() if env not in DESCRIPTIONS]
    assert undocumented == []


def test_the_readme_lists_every_setting_with_its_default() -> None:
    text = README.read_text()
    inside = text.split(BEGIN, 1)[-1].split(END, 1)[0].strip()
    assert inside == table(), "README settings table is stale: run python -m local.settings_doc --write"
