"""A language the caller may speak, and how the bot's voice sounds in it. Pure: no I/O.

Besides the voice name, a language can name a custom neural voice (the id of its Speech endpoint,
which ACS passes on with the play), a pronunciation lexicon (SSML ``<lexicon uri>``), the degree of
the speaking style (SSML ``styledegree``, 0.01 to 2) and the voice's audio effect (SSML ``effect`` of
``<voice>``: ``eq_telecomhp8k`` tunes it for narrowband telephone audio), and the extra names a
caller may say to choose it in the language menu ("Français", "FR").
"""

from __future__ import annotations

from typing import Literal, TypedDict

from pydantic import BaseModel, Field, field_validator

# The effects the Speech service documents for <voice effect="...">; "" leaves the voice as it is.
AudioEffect = Literal["", "eq_car", "eq_telecomhp8k"]
# A custom voice's endpoint (deployment) id, as Speech Studio shows it: a GUID.
_ENDPOINT_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class VoiceFields(TypedDict):
    """The voice settings a SpokenText carries (core.models.speech.SpokenText's fields)."""

    custom_voice_endpoint_id: str
    lexicon_url: str
    style_degree: float | None
    audio_effect: str


class LanguageOption(BaseModel):
    code: str = Field(description="BCP 47 locale, e.g. en-US", pattern=r"^[a-z]{2,3}-[A-Z]{2}$")
    name: str = Field(max_length=60)
    voice: str = Field(description="Azure neural voice name (or the custom voice's name)", max_length=100)
    custom_voice_endpoint_id: str = Field(
        default="",
        description="Endpoint id of a custom neural voice (a GUID, from Speech Studio); empty: a prebuilt voice",
        pattern=rf"^({_ENDPOINT_ID})?$",
    )
    lexicon_url: str = Field(
        default="",
        max_length=500,
        description="Pronunciation lexicon (SSML <lexicon uri>), an https URL the Speech service can read",
    )
    style_degree: float | None = Field(
        default=None, ge=0.01, le=2, description="Intensity of the speaking style (0.01 to 2; none: 1)"
    )
    audio_effect: AudioEffect = Field(
        default="eq_telecomhp8k",
        description="Audio effect of the voice: eq_telecomhp8k (telephone), eq_car, or empty for none",
    )
    spoken_names: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="More names a caller may say to choose the language (e.g. Français, FR)",
    )

    @field_validator("lexicon_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"'{value[:60]}' is not an http(s) URL")
        return value

    @field_validator("spoken_names")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value]
        if any(not name or len(name) > 60 for name in names):
            raise ValueError("every spoken name is 1 to 60 characters")
        return names

    @property
    def choice_phrases(self) -> list[str]:
        """What a caller may say to choose this language in the menu: its name, then its spoken names."""
        phrases: list[str] = []
        for phrase in (self.name, *self.spoken_names):
            if phrase.casefold() not in {p.casefold() for p in phrases}:
                phrases.append(phrase)
        return phrases

    def speech_fields(self) -> VoiceFields:
        """The voice settings a SpokenText in this language carries (see core.models.speech)."""
        return {
            "custom_voice_endpoint_id": self.custom_voice_endpoint_id,
            "lexicon_url": self.lexicon_url,
            "style_degree": self.style_degree,
            "audio_effect": self.audio_effect,
        }
