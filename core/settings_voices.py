"""Settings of the bot's voices, apart from core.settings to keep that module small: the JSON form of
CONVERSATION__LANGUAGES (every voice option of a language) and the hold sound (HOLD__*)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

if TYPE_CHECKING:
    from core.models import LanguageOption


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_json_languages(raw: str) -> bool:
    return raw.lstrip().startswith("[")


def parse_json_languages(raw: str) -> list[LanguageOption]:
    """``[{"code": "fr-FR", "name": "French", "voice": "fr-FR-DeniseNeural", "spoken_names": [...],
    ...}, ...]`` as language options, or ValueError saying which item is wrong."""
    from core.models import LanguageOption

    shape = "is not a JSON list of languages ({code, name, voice, ...} objects)"
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"'{_clip(raw)}' {shape}: {exc}") from None
    if not isinstance(data, list) or not data:
        raise ValueError(f"'{_clip(raw)}' {shape}: it is empty or not a list")
    options: list[LanguageOption] = []
    for index, item in enumerate(data, start=1):
        try:
            option = LanguageOption.model_validate(item)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "(item)"
            raise ValueError(f"language {index}: {where}: {error['msg']}") from None
        if any(o.code == option.code for o in options):
            raise ValueError(f"language {option.code} is listed twice")
        options.append(option)
    return options


def language_codes(raw: str) -> list[str]:
    """The codes of a valid CONVERSATION__LANGUAGES value, in either form, without loading core.models
    for the triples form."""
    if is_json_languages(raw):
        return [option.code for option in parse_json_languages(raw)]
    return [item.split(":")[0].strip() for item in raw.split(",")]


HoldMode = Literal["filler", "sound", "both"]


class HoldSettings(BaseModel):
    """What the caller hears while the bot thinks past the answer soft timeout."""

    mode: HoldMode = Field(
        default="filler",
        description="filler: a short phrase ('One moment, please.'); sound: the hold sound; both: the phrase "
        "then the sound",
    )
    sound_url: str = Field(
        default="",
        max_length=1000,
        description="The hold sound: a WAV file (mono, 16-bit PCM, 16 kHz, as ACS plays them) that ACS "
        "downloads, e.g. a blob with public read access or a SAS URL",
    )

    @model_validator(mode="after")
    def _sound_needs_url(self) -> HoldSettings:
        if self.sound_url and not self.sound_url.startswith(("https://", "http://")):
            raise ValueError(f"HOLD__SOUND_URL '{_clip(self.sound_url)}' is not an http(s) URL")
        if self.mode != "filler" and not self.sound_url:
            raise ValueError(f"HOLD__MODE={self.mode} needs HOLD__SOUND_URL (the WAV file to play)")
        return self

    @property
    def plays_sound(self) -> bool:
        return self.mode in ("sound", "both")

    @property
    def says_filler(self) -> bool:
        return self.mode in ("filler", "both")
