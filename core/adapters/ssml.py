"""SSML for ACS text-to-speech: voice from the call's language, speaking style and its degree, rate,
the voice's audio effect and its pronunciation lexicon. Pure.

The shape follows the Speech service's SSML reference: ``effect`` is an attribute of ``<voice>``
(``eq_telecomhp8k``, ``eq_car``), ``<lexicon uri>`` is the first child of ``<voice>``, and
``styledegree`` (0.01 to 2) an attribute of ``<mstts:express-as>``.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from core.models import SpokenText

# Azure neural voices accept these mstts:express-as styles; "none" means no express-as element.
_STYLES = {"cheerful", "sad", "empathetic", "calm"}
_EFFECTS = {"eq_car", "eq_telecomhp8k"}


def _attribute(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def to_ssml(speech: SpokenText) -> str:
    text = escape(speech.text.strip(), {'"': "&quot;"})
    rate = f"{max(0.5, min(speech.rate, 2.0)):.2f}"
    body = f'<prosody rate="{rate}">{text}</prosody>'
    if speech.style in _STYLES:
        degree = ""
        if speech.style_degree is not None:
            degree = f' styledegree="{max(0.01, min(speech.style_degree, 2.0)):.2f}"'
        body = f'<mstts:express-as style="{speech.style}"{degree}>{body}</mstts:express-as>'
    if speech.lexicon_url:
        body = f'<lexicon uri="{_attribute(speech.lexicon_url)}"/>{body}'
    effect = f' effect="{speech.audio_effect}"' if speech.audio_effect in _EFFECTS else ""
    return (
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" '
        f'xmlns:mstts="https://www.w3.org/2001/mstts" xml:lang="{_attribute(speech.language)}">'
        f'<voice name="{_attribute(speech.voice)}"{effect}>{body}</voice></speak>'
    )
