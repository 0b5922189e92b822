"""SSML for ACS text-to-speech: voice from the call's language, speaking style, rate. Pure."""

from __future__ import annotations

from xml.sax.saxutils import escape

from core.models import SpokenText

# Azure neural voices accept these mstts:express-as styles; "none" means no express-as element.
_STYLES = {"cheerful", "sad", "empathetic", "calm"}


def to_ssml(speech: SpokenText) -> str:
    text = escape(speech.text.strip(), {'"': "&quot;"})
    rate = f"{max(0.5, min(speech.rate, 2.0)):.2f}"
    body = f'<prosody rate="{rate}">{text}</prosody>'
    if speech.style in _STYLES:
        body = f'<mstts:express-as style="{speech.style}">{body}</mstts:express-as>'
    voice = escape(speech.voice, {'"': "&quot;"})
    language = escape(speech.language, {'"': "&quot;"})
    return (
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" '
        f'xmlns:mstts="https://www.w3.org/2001/mstts" xml:lang="{language}">'
        f'<voice name="{voice}">{body}</voice></speak>'
    )
