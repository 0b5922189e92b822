"""The emulator refuses the audio files and SSML ACS refuses, and plays the product's voices (custom
voice endpoint, lexicon, style degree, telephone effect) through the official SDK."""

from __future__ import annotations

import io
import wave

import pytest
from azure.communication.callautomation import FileSource
from azure.communication.callautomation.aio import CallAutomationClient

from core.adapters.acs_telephony import _ssml_source
from core.models import SpokenText
from local.acs_emulator import AcsEmulator
from local.acs_emulator.audio import source_fields_problem, ssml_problem, wav_problem
from local.hold_sound import hold_wav
from tests.emulator.files import FileServer
from tests.emulator.receiver import CallbackReceiver
from tests.emulator.test_call_automation_sdk import dial, kinds

ENDPOINT_ID = "6f9a2f4c-1b2d-4c3e-8f00-0123456789ab"


def wav(channels: int = 1, rate: int = 16_000, width: int = 2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(channels)
        file.setsampwidth(width)
        file.setframerate(rate)
        file.writeframes(b"\x00" * width * channels * 1600)
    return out.getvalue()


def test_the_hold_sound_is_in_the_format_acs_plays() -> None:
    assert wav_problem(hold_wav()) is None
    with wave.open(io.BytesIO(hold_wav())) as file:
        assert (file.getnchannels(), file.getsampwidth(), file.getframerate()) == (1, 2, 16_000)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (wav(channels=2), "2 channel(s)"),
        (wav(rate=44_100), "44100 Hz"),
        (wav(rate=8_000), "8000 Hz"),
        (wav(width=1), "8 bits"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 100, "not a RIFF WAVE file"),
    ],
)
def test_files_not_in_acs_format_are_named_with_what_is_wrong(data: bytes, why: str) -> None:
    problem = wav_problem(data)
    assert problem is not None and why in problem


async def test_acs_plays_only_mono_16_bit_16_khz_wav_files(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id, conn = await dial(client, emulator, receiver, [{"silence": 100}])
    files = {"good.wav": hold_wav(), "stereo.wav": wav(channels=2), "cd.wav": wav(rate=44_100)}
    async with FileServer(files) as server:
        await conn.play_media(FileSource(url=server.url("good.wav")), operation_context="good")
        await conn.play_media(FileSource(url=server.url("stereo.wav")), operation_context="stereo")
        await conn.play_media(FileSource(url=server.url("cd.wav")), operation_context="cd")
        await conn.play_media(FileSource(url=server.url("missing.wav")), operation_context="missing")
        failed = await receiver.wait_for("PlayFailed", call_id, count=3)
    completed = await receiver.wait_for("PlayCompleted", call_id)
    assert [e["data"]["operationContext"] for e in completed] == ["good"]
    results = {e["data"]["operationContext"]: e["data"]["resultInformation"]["subCode"] for e in failed}
    assert results == {"stereo": 8535, "cd": 8535, "missing": 8536}
    heard = [e["text"] for e in kinds(emulator, call_id, "bot_said")]
    assert heard == [f"[audio file {server.url('good.wav')}]"]


async def test_the_products_voice_settings_play_and_reach_acs(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    call_id, conn = await dial(client, emulator, receiver, [{"silence": 100}])
    speech = SpokenText(
        text="Bonjour",
        voice="ContosoVoiceNeural",
        language="fr-FR",
        style="cheerful",
        custom_voice_endpoint_id=ENDPOINT_ID,
        lexicon_url="https://example.com/lexicon.xml",
        style_degree=1.5,
        audio_effect="eq_telecomhp8k",
    )
    source = _ssml_source(speech)
    assert source._to_generated().ssml.custom_voice_endpoint_id == ENDPOINT_ID
    await conn.play_media(source, operation_context="voice")
    await receiver.wait_for("PlayCompleted", call_id)
    said = kinds(emulator, call_id, "bot_said")
    assert [(e["text"], e["voice"], e["language"]) for e in said] == [
        ("Bonjour", "ContosoVoiceNeural", "fr-FR")
    ]


async def test_malformed_ssml_fails_as_a_bad_request_to_the_speech_service(
    client: CallAutomationClient, emulator: AcsEmulator, receiver: CallbackReceiver
) -> None:
    from azure.communication.callautomation import SsmlSource

    call_id, conn = await dial(client, emulator, receiver, [{"silence": 100}])
    await conn.play_media(SsmlSource(ssml_text="<speak><voice name='x'>unclosed</speak>"))
    failed = await receiver.wait_for("PlayFailed", call_id)
    assert failed[0]["data"]["resultInformation"]["subCode"] == 8565


@pytest.mark.parametrize(
    ("ssml", "why"),
    [
        ("<speak>", "not well-formed"),
        ('<speak version="1.0" xml:lang="en-US"><voice name="v">x</voice></speak>', "SSML namespace"),
        ('<speak xmlns="http://www.w3.org/2001/10/synthesis"><voice name="v">x</voice></speak>', "version"),
        (
            '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">x</speak>',
            "<voice name",
        ),
        (
            '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">'
            '<voice name="v"><lexicon uri="lexicon.xml"/>x</voice></speak>',
            "lexicon",
        ),
    ],
)
def test_ssml_the_speech_service_cannot_read_is_named(ssml: str, why: str) -> None:
    problem = ssml_problem(ssml)
    assert problem is not None and why in problem


def test_the_products_ssml_is_valid_for_the_speech_service() -> None:
    from core.adapters.ssml import to_ssml

    speech = SpokenText(
        "Hi & bye", "en-US-AvaNeural", "en-US", "calm", 1.1, "", "https://x/l.xml?a=1&b=2", 0.5, "eq_car"
    )
    ssml = to_ssml(speech)
    assert ssml_problem(ssml) is None
    assert 'effect="eq_car"' in ssml
    assert '<lexicon uri="https://x/l.xml?a=1&amp;b=2"/>' in ssml
    assert 'styledegree="0.50"' in ssml


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ({"kind": "ssml", "ssml": {"ssmlText": "<speak/>", "voiceName": "x"}}, "unknown ssml source field"),
        ({"kind": "text", "text": {"text": "hi", "customVoiceId": "x"}}, "unknown text source field"),
        ({"kind": "text", "text": {"text": "hi", "customVoiceEndpointId": 7}}, "must be a string"),
        ({"kind": "file", "file": {"url": "https://x/a.wav"}}, "unknown file source field"),
        ({"kind": "file", "file": {}}, "file.uri is required"),
        ({"kind": "text", "text": {"text": "hi"}, "voice": "x"}, "unknown play source field"),
    ],
)
def test_unknown_or_mistyped_source_fields_are_refused(source: dict[str, object], why: str) -> None:
    problem = source_fields_problem(source, "playSources")
    assert problem is not None and why in problem
