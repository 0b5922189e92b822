"""The bot's voices in the call flow: each language's voice settings reach every play, the language
menu understands every name of a language, and what the caller hears while the bot thinks (the filler
phrase, the hold sound, or both; the sound stops when the first sentence is ready)."""

from __future__ import annotations

import json

import pytest

from core.llm_settings import LlmSettings
from core.models import LanguageOption
from core.phrasebook import PHRASES
from core.settings import ConversationSettings, Settings
from core.settings_voices import HoldSettings
from tests.callflow.fakes import Rig, ScriptedAnswer, event, make_rig, speech
from tests.callflow.test_flow import connected, incoming

HOLD_URL = "https://example.blob.core.windows.net/media/hold.wav"
ENDPOINT_ID = "6f9a2f4c-1b2d-4c3e-8f00-0123456789ab"
LANGUAGES = json.dumps(
    [
        {"code": "en-US", "name": "English", "voice": "en-US-AvaMultilingualNeural"},
        {
            "code": "fr-FR",
            "name": "French",
            "voice": "ContosoFrenchNeural",
            "spoken_names": ["Français", "FR", "french"],
            "custom_voice_endpoint_id": ENDPOINT_ID,
            "lexicon_url": "https://example.com/fr.xml",
            "style_degree": 1.4,
            "audio_effect": "",
        },
    ]
)


def slow_rig(mode: str) -> Rig:
    hold = HoldSettings(mode=mode, sound_url=HOLD_URL if mode != "filler" else "")  # type: ignore[arg-type]
    settings = Settings(
        conversation=ConversationSettings(languages="en-US:English:en-US-AvaMultilingualNeural"),
        llm=LlmSettings(filler_after_s=0.05, answer_hard_timeout_s=5),
        hold=hold,
    )
    rig = make_rig(settings)
    rig.engine.answers.append(ScriptedAnswer(["Here you are.", "Anything else?"], delay_s=0.3))
    return rig


def media(rig: Rig) -> list[tuple[str, list[str], bool]]:
    """The turn's media requests: (part of the context, prompts, replaces what runs)."""
    return [
        (op.context.rsplit(":", 1)[-1], op.prompt, op.interrupt)
        for op in rig.tel.ops
        if op.kind in ("play", "listen") and op.context.startswith("turn:")
    ]


async def test_the_filler_phrase_by_default() -> None:
    rig = slow_rig("filler")
    call, conn = await connected(rig)
    await rig.send(call, speech(conn, "A slow question", "rec-1"))
    ops = media(rig)
    assert [part for part, _, _ in ops[:3]] == ["think", "filler", "0"]
    assert ops[1][1][0] in PHRASES["filler"]["en-US"] and ops[1][2]  # in place of the listening
    assert ops[2] == ("0", ["Here you are."], False)  # queued after the filler
    assert HOLD_URL not in str(ops)


async def test_the_hold_sound_plays_while_the_bot_thinks_and_stops_for_the_first_sentence() -> None:
    rig = slow_rig("sound")
    call, conn = await connected(rig)
    await rig.send(call, speech(conn, "A slow question", "rec-1"))
    ops = media(rig)
    assert ops[1:3] == [("filler", [HOLD_URL], True), ("0", ["Here you are."], True)]
    sound = next(op for op in rig.tel.ops if op.prompt == [HOLD_URL]).prompts[0]
    assert sound.audio_url == HOLD_URL


async def test_both_says_the_filler_then_plays_the_hold_sound() -> None:
    rig = slow_rig("both")
    call, conn = await connected(rig)
    await rig.send(call, speech(conn, "A slow question", "rec-1"))
    ops = media(rig)
    assert [(part, interrupt) for part, _, interrupt in ops[1:4]] == [
        ("filler", True),  # the phrase replaces the listening
        ("filler", False),  # the sound queues after the phrase
        ("0", True),  # the first sentence cuts the sound short
    ]
    assert ops[2][1] == [HOLD_URL]


async def test_a_quick_answer_hears_no_hold_sound() -> None:
    rig = slow_rig("sound")
    rig.engine.answers[0].delay_s = 0
    call, conn = await connected(rig)
    await rig.send(call, speech(conn, "A quick question", "rec-1"))
    assert HOLD_URL not in str(media(rig))


def test_a_hold_sound_mode_needs_its_url() -> None:
    with pytest.raises(ValueError, match="HOLD__SOUND_URL"):
        HoldSettings(mode="sound")
    with pytest.raises(ValueError, match="not an http"):
        HoldSettings(mode="both", sound_url="hold.wav")


async def test_the_language_menu_understands_every_name_and_the_voice_follows_the_language() -> None:
    rig = make_rig(Settings(conversation=ConversationSettings(languages=LANGUAGES)))
    call, conn = await incoming(rig)
    await rig.send(call, event("CallConnected", conn))
    menu = rig.tel.of("listen")[0]
    assert menu.phrases == [["English"], ["French", "Français", "FR"]]
    english = rig.tel.of("listen")[0].prompts[0]
    assert english.audio_effect == "eq_telecomhp8k"  # the default: telephone
    await rig.send(
        call,
        event(
            "RecognizeCompleted",
            conn,
            operationContext=menu.context,
            recognitionType="choices",
            choiceResult={"label": "fr-FR", "recognizedPhrase": "Français"},
        ),
    )
    greeting = rig.tel.ops[-1]
    assert greeting.kind == "listen" and "Bonjour" in greeting.prompt[0]
    rig.engine.answers.append(ScriptedAnswer(["Très bien."]))
    await rig.send(call, speech(conn, "Ma voiture", "rec-1"))
    said = next(op for op in rig.tel.ops if op.prompt == ["Très bien."]).prompts[0]
    assert (said.voice, said.custom_voice_endpoint_id, said.lexicon_url, said.style_degree) == (
        "ContosoFrenchNeural",
        ENDPOINT_ID,
        "https://example.com/fr.xml",
        1.4,
    )
    assert said.audio_effect == ""


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ({"custom_voice_endpoint_id": "my-voice"}, "custom_voice_endpoint_id"),
        ({"style_degree": 3}, "style_degree"),
        ({"audio_effect": "eq_phone"}, "audio_effect"),
        ({"lexicon_url": "fr.xml"}, "lexicon_url"),
        ({"spoken_names": [""]}, "spoken_names"),
    ],
)
def test_invalid_voice_settings_stop_start_up(item: dict[str, object], why: str) -> None:
    raw = json.dumps([{"code": "fr-FR", "name": "French", "voice": "fr-FR-DeniseNeural", **item}])
    with pytest.raises(ValueError, match=why):
        ConversationSettings(languages=raw, default_language="fr-FR")


def test_the_json_form_of_the_languages_keeps_their_order_and_default() -> None:
    conversation = ConversationSettings(languages=LANGUAGES, default_language="fr-FR")
    options = conversation.language_options()
    assert [o.code for o in options] == ["en-US", "fr-FR"]
    assert options[1].choice_phrases == ["French", "Français", "FR"]
    with pytest.raises(ValueError, match="not one of"):
        ConversationSettings(languages=LANGUAGES, default_language="de-DE")
    assert LanguageOption(code="de-DE", name="German", voice="v").audio_effect == "eq_telecomhp8k"
