from __future__ import annotations

from local.settings_doc import BEGIN, END, README, iter_described, table


def test_every_setting_is_described() -> None:
    # In local.settings_doc.DESCRIPTIONS, or the field's own description.
    undocumented = [env for env, _, description in iter_described() if not description]
    assert undocumented == []


def test_the_readme_lists_every_setting_with_its_default() -> None:
    text = README.read_text()
    inside = text.split(BEGIN, 1)[-1].split(END, 1)[0].strip()
    assert inside == table(), "README settings table is stale: run python -m local.settings_doc --write"
