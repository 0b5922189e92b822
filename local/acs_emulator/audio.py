"""What ACS refuses in a play source, beyond its JSON shape: the fields of a text, SSML or file source
(a 400 of the request), SSML the Speech service cannot read, and audio files it cannot play (a
PlayFailed event, as ACS reports them).

Audio files: ACS downloads the file when it plays it, and plays only WAV files of mono, 16-bit PCM
samples at 16 kHz (MicrosoftDocs/azure-docs, articles/communication-services/concepts/
troubleshooting-codes.md: "only Wave file (.wav) format is supported for audio files. The audio
content in the wave file must be mono (single-channel), 16-bit samples with a 16,000 (16 KHz) sampling
rate"). A file that cannot be downloaded fails with 8536, one in another format with 8535
(how-tos/call-automation/play-action.md, "Event codes"). Malformed SSML fails with 8565, the Speech
service's bad request (same table).
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from typing import Any

import aiohttp

from local.acs_emulator.results import AI_BAD_REQUEST, DOWNLOAD_FAILED, FILE_FORMAT_INVALID

# The properties of each source object in the contract (callautomation 2025-06-15).
SOURCE_FIELDS = {
    "file": {"uri"},
    "text": {"text", "sourceLocale", "voiceKind", "voiceName", "customVoiceEndpointId"},
    "ssml": {"ssmlText", "customVoiceEndpointId"},
}
PLAY_SOURCE_FIELDS = {"kind", "playSourceCacheId", "file", "text", "ssml"}
_SSML = "{http://www.w3.org/2001/10/synthesis}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# The one format ACS plays (see the module docstring).
PCM, CHANNELS, SAMPLE_RATE, BITS = 1, 1, 16_000, 16
MAX_FILE_BYTES = 50 * 1024 * 1024
FETCH_TIMEOUT_S = 10.0


def source_fields_problem(source: dict[str, Any], field: str) -> str | None:
    """Why ACS refuses this play source with a 400 (unknown or mistyped fields), or None. Guess: the
    contract names the properties; the service's reading of extra ones is not documented, so the
    emulator is strict about them (a typo in a voice field is caught, not silently ignored)."""
    unknown = set(source) - PLAY_SOURCE_FIELDS
    if unknown:
        return f"{field}: unknown play source field(s) {', '.join(sorted(unknown))}."
    kind = source["kind"]
    inner = source[kind]
    unknown = set(inner) - SOURCE_FIELDS[kind]
    if unknown:
        return f"{field}: unknown {kind} source field(s) {', '.join(sorted(unknown))}."
    for name in sorted(set(inner) & {"text", "ssmlText", "uri", "voiceName", "customVoiceEndpointId"}):
        if not isinstance(inner[name], str):
            return f"{field}: {kind}.{name} must be a string."
    required = {"file": "uri", "text": "text", "ssml": "ssmlText"}[kind]
    if required not in inner:
        return f"{field}: {kind}.{required} is required."
    return None


def ssml_problem(ssml: str) -> str | None:
    """Why the Speech service cannot read this SSML, or None."""
    try:
        root = ET.fromstring(ssml)
    except ET.ParseError as exc:
        return f"not well-formed XML: {exc}"
    if root.tag != f"{_SSML}speak":
        return "the root is not <speak> in the SSML namespace"
    if not root.get("version") or not root.get(_XML_LANG):
        return "<speak> needs version and xml:lang"
    voices = root.findall(f"{_SSML}voice")
    if not voices or any(not voice.get("name") for voice in voices):
        return "<speak> needs a <voice name=...>"
    for lexicon in root.iter(f"{_SSML}lexicon"):
        if not str(lexicon.get("uri", "")).startswith(("https://", "http://")):
            return "<lexicon> needs an http(s) uri"
    return None


def wav_problem(data: bytes) -> str | None:
    """Why ACS cannot play this file (it is not a mono 16-bit PCM 16 kHz WAV), or None."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return "not a RIFF WAVE file"
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        if chunk == b"fmt ":
            if size < 16 or offset + 24 > len(data):
                return "truncated fmt chunk"
            audio_format, channels, rate = struct.unpack("<HHI", data[offset + 8 : offset + 16])
            bits = struct.unpack("<H", data[offset + 22 : offset + 24])[0]
            found = (audio_format, channels, rate, bits)
            if found != (PCM, CHANNELS, SAMPLE_RATE, BITS):
                return (
                    f"format {audio_format}, {channels} channel(s), {rate} Hz, {bits} bits; ACS plays "
                    f"PCM (1), mono, {SAMPLE_RATE} Hz, {BITS} bits"
                )
            return None
        offset += 8 + size + (size % 2)
    return "no fmt chunk"


async def _download(uri: str) -> bytes | None:
    try:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(uri) as response:
            if response.status != 200:
                return None
            return await response.content.read(MAX_FILE_BYTES)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


async def play_problem(source: dict[str, Any]) -> dict[str, Any] | None:
    """The result of a PlayFailed for this source, as ACS would report it when it plays it, or None."""
    kind = source.get("kind")
    if kind == "ssml":
        return AI_BAD_REQUEST if ssml_problem(str(source["ssml"].get("ssmlText", ""))) else None
    if kind != "file":
        return None
    data = await _download(str(source["file"].get("uri", "")))
    if data is None:
        return DOWNLOAD_FAILED
    return FILE_FORMAT_INVALID if wav_problem(data) else None
