"""The hold sound over the whole call path: a WAV in blob storage (Azurite), in the format ACS plays,
downloaded and checked by the ACS emulator like ACS does; played while the model is slow, and stopped
as soon as the first sentence is ready."""

from __future__ import annotations

import uuid

from local.acs_emulator.control import EmulatorControl
from local.hold_sound import upload
from tests.e2e.harness import call_stack, random_number
from tests.e2e.test_sms_during_call import wait_for_bot_line


async def test_the_hold_sound_plays_while_the_model_is_slow_and_stops_for_the_answer(
    local_stack: None,
) -> None:
    url = await upload("UseDevelopmentStorage=true", blob=f"hold-{uuid.uuid4().hex[:8]}.wav")
    env = {
        "CONVERSATION__LANGUAGES": "en-US:English:en-US-AvaMultilingualNeural",
        "HOLD__MODE": "sound",
        "HOLD__SOUND_URL": url,
        "LLM__FILLER_AFTER_S": "0.2",
        "LLM__ANSWER_HARD_TIMEOUT_S": "10",
    }
    async with call_stack(env_overrides=env) as stack:
        stack.set_rules([{"user": "slow", "say": "Here is your answer.", "delay_s": 1.0}, {"say": "Okay."}])
        emulated = stack.acs.start_incoming_call(random_number(), interactive=True)
        async with EmulatorControl(stack.acs.base_url) as ctl:
            await wait_for_bot_line(ctl, emulated.call_id, "Contoso")  # greeted, now listening
            # From now on the media take time: the hold sound (1 s simulated) lasts 3 s, longer than
            # the model's 1 s, so the answer must cut it short.
            stack.acs.config.speed_factor = 3.0
            await ctl.say(emulated.call_id, "A slow question.")
            await wait_for_bot_line(ctl, emulated.call_id, "Here is your answer.")
            stack.acs.config.speed_factor = 0.0
            await ctl.hangup(emulated.call_id)
            await ctl.wait(emulated.call_id, "disconnected", timeout=10)
        assert not stack.failed_callbacks()
    transcript = stack.transcript(emulated.call_id)
    said = [e["text"] for e in transcript if e["kind"] == "bot_said"]
    hold = f"[audio file {url}]"
    assert said[-2:] == [hold, "Here is your answer."], said  # no filler phrase: the sound instead
    # The sound replaced the listening while the model thought, and the answer cut the sound short.
    canceled = [i for i, e in enumerate(transcript) if e["kind"] == "media_canceled"]
    parts = [transcript[i]["operation_context"].rsplit(":", 1)[-1] for i in canceled]
    assert parts == ["think", "filler"]
    answer = max(i for i, e in enumerate(transcript) if e.get("text") == "Here is your answer.")
    assert canceled[-1] < answer
