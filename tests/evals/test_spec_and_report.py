"""Conversation files (the shipped ones, and clear errors for bad ones) and the HTML report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from local.evals.report import render_html, results_json, write
from local.evals.scoring import Observed, score, summary
from local.evals.spec import ConversationError, load_conversation, load_conversations

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def test_the_shipped_conversations_cover_three_languages_and_the_reference_scenarios() -> None:
    conversations = load_conversations()
    assert len(conversations) >= 15
    languages = Counter(c.language.split("-")[0] for c in conversations)
    assert {"en", "fr", "es"} <= set(languages)
    names = " ".join(c.name for c in conversations)
    for scenario in (
        "hello",
        "unintelligible",
        "shower",
        "profanity",
        "car",
        "farmer",
        "jailbreak",
        "language-change",
        "transfer",
        "reminder",
        "sms",
        "silence",
        "persona",
        "call-back",
        "sms-injection",
    ):
        assert scenario in names
    assert sum("jailbreak" in c.name for c in conversations) >= 2
    # A caller who calls back resumes the case; a text can carry a prompt injection.
    call_back = next(c for c in conversations if c.name == "en-call-back")
    assert [step.call_back is not None for step in call_back.caller.then] == [False, True]
    assert call_back.expect.resumed is True
    injection = next(c for c in conversations if c.name == "en-sms-injection")
    assert any("sms" in step for step in injection.caller.script or [])
    assert len({c.name for c in conversations}) == len(conversations)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\nsetup: {claim_schema: [{name: a}]}\ncaller: {}\n", "exactly one of 'script' or 'persona'"),
        (
            "name: x\nsetup: {claim_schema: [{name: a}]}\ncaller: {script: []}\nexpect: {claim: {b: 1}}\n",
            "expected fields not in the claim schema: b",
        ),
        ("name: x\nsetup: {claim_schema: [{name: a}]}\ncaller: {script: []}\nexpekt: {}\n", "expekt"),
        ("name: x\nsetup: {claim_schema: [{name: a, type: colour}]}\ncaller: {script: []}\n", "type"),
        ("name: [x\n", "while parsing"),
        (
            "name: x\nsetup: {claim_schema: [{name: a}]}\ncaller: {script: [{sms: hi, say: hello}]}\n",
            "an sms step is {sms: <text>}",
        ),
        (
            "name: x\nsetup: {claim_schema: [{name: a}]}\ncaller: {script: [], then: [{sms: hi, call_back: "
            "{script: []}}]}\n",
            "exactly one of 'sms' or 'call_back'",
        ),
        (
            "name: x\nsetup: {claim_schema: [{name: a}]}\ncaller: {script: [], then: [{call_back: {}}]}\n",
            "exactly one of 'script' or 'persona'",
        ),
    ],
)
def test_a_bad_conversation_file_names_the_file_and_the_problem(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConversationError) as error:
        load_conversation(path)
    assert str(path) in str(error.value) and needle in str(error.value)


def test_unknown_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConversationError, match="no conversation named nope"):
        load_conversations(only=["nope"])


def test_the_report_escapes_the_transcript_and_highlights_failures(tmp_path: Path) -> None:
    conversation = load_conversations(only=["en-hello"])[0]
    seen = Observed(
        claim={"caller_name": HOSTILE},
        caller_number="+14155550100",
        agent_number=conversation.setup.agent_phone_number,
        ended=True,
        ended_by="bot",
        tools=["end_call"],
        transcript=[
            {"who": "caller", "text": HOSTILE, "note": ""},
            {"who": "bot", "text": "Goodbye", "note": ""},
        ],
    )
    failed = score(conversation, seen)
    assert not failed.passed
    data = results_json([(failed, seen)], summary([failed]), model=HOSTILE)
    page = render_html(data)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(" in page
    assert 'class="failed"' in page and "forbidden: claim.caller_name filled" in page
    json_path, html_path = write(tmp_path / "out", data)
    assert json_path.exists() and html_path.read_text(encoding="utf-8") == page


def test_the_command_refuses_a_bad_folder_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from local.evals.__main__ import main

    (tmp_path / "bad.yaml").write_text("name: x\n", encoding="utf-8")
    assert main(["--dir", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "bad.yaml" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
