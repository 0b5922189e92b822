"""What the caller hears while the bot thinks past the answer soft timeout (HOLD__MODE): the filler
phrase, the hold sound (a WAV file ACS plays), or the phrase then the sound.

Both go the way of the filler (core.callflow.speaker): an interruptible prompt of a recognize with the
turn's filler context, requested in place of the listening-while-thinking. The sound is then marked
replaceable like that listening: the first sentence (or the apology) is requested with
``interruptCallMediaOperation`` and cuts it short, so the caller never waits for the end of the file.
"""

from __future__ import annotations

import dataclasses

from core.callflow.context import FlowContext
from core.callflow.speaker import Speaker
from core.models import Call


async def while_thinking(ctx: FlowContext, call: Call, speaker: Speaker) -> None:
    """The soft timeout of the turn passed without a first sentence: say or play what HOLD__MODE says."""
    hold = ctx.settings.hold
    if hold.says_filler:
        await speaker.filler(ctx.spoken(call, ctx.phrase("filler", call)))
    if hold.plays_sound:
        sound = dataclasses.replace(ctx.spoken(call, ""), audio_url=hold.sound_url)
        await speaker.filler(sound)
        # Nothing is said after it: the next sentence replaces it instead of queuing behind it.
        speaker.result.listening = True
