"""The hold sound of the local stack: a soft two-note chime, generated (no audio file is vendored), in
the one format ACS plays: WAV, mono, 16-bit PCM, 16 kHz (see local/acs_emulator/audio.py for the
source of that requirement).

python -m local.hold_sound out.wav          # write it
python -m local.hold_sound --upload         # put it in Azurite's "media" container (public read)
                                            # and print the URL to set as HOLD__SOUND_URL

In Azure, upload any WAV in that format to a container ACS can read (public read access on the blob,
or a SAS URL) and set HOLD__SOUND_URL to it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import struct
import wave

SAMPLE_RATE = 16_000
CONTAINER = "media"
BLOB = "hold.wav"


def hold_wav(seconds: float = 1.5, notes: tuple[float, ...] = (523.25, 659.25)) -> bytes:
    """A quiet chime: each note half the length, with a short fade in and out (no clicks)."""
    frames = io.BytesIO()
    per_note = int(SAMPLE_RATE * seconds / len(notes))
    fade = int(SAMPLE_RATE * 0.02)
    samples = bytearray()
    for frequency in notes:
        for i in range(per_note):
            envelope = min(1.0, i / fade, (per_note - i) / fade)
            value = 0.2 * envelope * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE)
            samples += struct.pack("<h", int(value * 32767))
    with wave.open(frames, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(samples))
    return frames.getvalue()


async def upload(connection_string: str, data: bytes | None = None, blob: str = BLOB) -> str:
    """Store the hold sound in the ``media`` container (created with public read access for blobs, so
    ACS can download it without a key) and return its URL."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContentSettings
    from azure.storage.blob.aio import BlobServiceClient

    async with BlobServiceClient.from_connection_string(connection_string) as service:
        container = service.get_container_client(CONTAINER)
        with contextlib.suppress(ResourceExistsError):
            await container.create_container(public_access="blob")
        client = container.get_blob_client(blob)
        await client.upload_blob(
            data if data is not None else hold_wav(),
            overwrite=True,
            content_settings=ContentSettings(content_type="audio/wav"),
        )
        return str(client.url)


def main(argv: list[str] | None = None) -> int:
    import asyncio

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", help="where to write the WAV file")
    parser.add_argument("--upload", action="store_true", help="upload it to Azurite (UseDevelopmentStorage)")
    args = parser.parse_args(argv)
    if args.path:
        with open(args.path, "wb") as out:
            out.write(hold_wav())
    if args.upload:
        print(asyncio.run(upload("UseDevelopmentStorage=true")))
    if not args.path and not args.upload:
        parser.error("give a path, --upload, or both")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
