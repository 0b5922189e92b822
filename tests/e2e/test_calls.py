"""Calls end to end, over real HTTP with the real SDKs: the emulator plays the caller."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from core.models import CallStatus, PostCallStatus
from tests.e2e.harness import CallStack, random_number

DEMO_LINES = [
    "Hello, I need to report a car accident.",
    "My name is Jane Doe.",
    "My policy number is B-12345.",
    "A truck hit my parked car on Main Street in Lyon on November 24 at 5 pm. Nobody was hurt.",
    "The repair will cost about two thousand euros.",
    "No, that's all. Thank you, goodbye.",
]


def claim_script() -> list[dict[str, Any]]:
    return [{"say": "English"}, *({"say": line} for line in DEMO_LINES)]


async def test_inbound_insurance_claim(stack: CallStack) -> None:
    stack.use_demo_rules()
    number = random_number()
    emulated = await stack.run_inbound(number, claim_script())
    said = [e["text"] for e in stack.bot_said(emulated)]
    assert "Contoso" in said[0]
    assert any("full name" in s for s in said) and any("policy number" in s for s in said)
    assert "Goodbye" in said[-1]
    ended = stack.acs.call(emulated)
    assert ended.ended_by == "bot"
    call = await stack.call_by_number(number)
    assert call.status is CallStatus.ENDED
    assert call.counters.turns >= 5
    assert call.claim["caller_name"] == "Jane Doe"
    assert call.claim["policy_number"] == "B-12345"
    assert call.claim["estimated_damage"] == 2000
    assert call.claim["injuries"] is False
    assert call.reminders and "Expert" in call.reminders[0].title
    assert call.post_call.status is PostCallStatus.ENQUEUED
    assert await stack.post_call_messages(call.call_id) == [{"call_id": call.call_id}]
    assert len(call.timing.answer_latency_ms) == call.counters.turns
    assert not stack.failed_callbacks()
    assert len(said) == len(set(said)), Counter(said).most_common(3)


async def test_outbound_call_with_custom_task_and_schema(stack: CallStack) -> None:
    number = random_number()
    stack.set_rules(
        [
            {
                "user": "(?i)(?P<flavor>chocolate|vanilla)",
                "tool_calls": [
                    {
                        "name": "update_claim",
                        "arguments": {"updates": [{"field": "flavor", "value": "{flavor}"}]},
                    }
                ],
            },
            {"tool_name": "update_claim", "tool": "Saved: flavor", "say": "Lovely. How many guests?"},
            {
                "user": "(?i)(?P<guests>\\d+) guests",
                "say": "Perfect, your cake is ordered. Goodbye!",
                "tool_calls": [
                    {
                        "name": "update_claim",
                        "arguments": {"updates": [{"field": "guests", "value": "{guests}"}]},
                    },
                    {"name": "end_call", "arguments": {}},
                ],
            },
            {"tool_name": "end_call", "say": ""},
            {"tool": ".", "say": ""},
            {"say": "Which flavor would you like?"},
        ]
    )
    stack.acs.set_script(number, [{"say": "Chocolate, please."}, {"say": "We will be 12 guests."}])
    body = {
        "phone_number": number,
        "bot_name": "Rémi",
        "bot_company": "Cake Shop",
        "task": "Take a birthday cake order: flavor and number of guests.",
        "claim_schema": [
            {"name": "flavor", "type": "enum", "values": ["chocolate", "vanilla"]},
            {"name": "guests", "type": "integer", "description": "Number of guests"},
        ],
        "languages": ["en-US"],
    }
    async with stack.session.post(stack.url("/call"), json=body, headers=stack.headers) as response:
        assert response.status == 201, await response.text()
        created = await response.json()
    assert "callback_secret" not in created
    emulated = (await stack.acs.wait_for_calls(1))[0]
    await stack.acs.wait_for_call_end(emulated.call_id, timeout=30)
    await stack.acs.drain_callbacks()
    said = [e["text"] for e in stack.bot_said(emulated.call_id)]
    assert "Rémi" in said[0] and "Cake Shop" in said[0]
    assert not any("language" in s for s in said)  # one language: no choice
    assert said[-1].endswith("Goodbye!")
    call = await stack.call_by_number(number)
    assert call.call_id == created["call_id"] and call.direction == "outbound"
    assert call.claim == {"flavor": "chocolate", "guests": 12}
    assert call.initiate.task.startswith("Take a birthday cake order")
    assert await stack.post_call_messages(call.call_id) == [{"call_id": call.call_id}]


async def test_post_call_rejects_bad_requests_naming_each_problem(stack: CallStack) -> None:
    body = {
        "phone_number": "+8613800138000",
        "agent_phone_number": "0612",
        "claim_schema": [{"name": "Bad-Name", "type": "text"}, {"name": "x", "type": "colour"}],
        "task": "",
    }
    async with stack.session.post(stack.url("/call"), json=body, headers=stack.headers) as response:
        assert response.status == 400
        problems = (await response.json())["error"]["problems"]
    text = " | ".join(problems)
    for needle in (
        "phone_number: +8613800138000 is in region CN",
        "agent_phone_number",
        "Bad-Name",
        "claim_schema",
        "task",
    ):
        assert needle in text, (needle, problems)
    async with stack.session.post(stack.url("/call"), json={"phone_number": "+14155550100"}) as response:
        assert response.status == 401  # function key required


async def test_silence_retries_then_goodbye(stack: CallStack) -> None:
    stack.use_demo_rules()
    retries = stack.container.settings.conversation.silence_retries
    emulated = await stack.run_inbound(random_number(), [{"say": "English"}, {"silence": 600}])
    said = [e["text"] for e in stack.bot_said(emulated)]
    silences = [e for e in stack.transcript(emulated) if e["kind"] == "caller_silence"]
    assert len(silences) == retries + 1
    assert any("Goodbye" in s or "goodbye" in s for s in said[-1:])
    assert stack.acs.call(emulated).ended_by == "bot"


async def test_caller_hangs_up_in_the_middle_of_a_turn(stack: CallStack) -> None:
    number = random_number()
    long_answer = " ".join(f"This is sentence number {n} of a long answer." for n in range(1, 13))
    stack.set_rules([{"say": long_answer}])
    stack.llm.tokens_per_s = 400
    emulated = await stack.run_inbound(
        number, [{"say": "English"}, {"say": "Tell me everything."}, {"hangup": True}]
    )
    assert stack.acs.call(emulated).ended_by == "caller"
    call = await stack.call_by_number(number)
    assert call.status is CallStatus.ENDED
    assert any(m.content == "Tell me everything." for m in call.messages)
    assert await stack.post_call_messages(call.call_id) == [{"call_id": call.call_id}]
    assert not stack.failed_callbacks()


def _transfer_rules() -> list[dict[str, Any]]:
    return [
        {"user": "(?i)human|agent|person", "tool_calls": [{"name": "talk_to_human", "arguments": {}}]},
        {
            "user": "(?i)goodbye",
            "say": "Goodbye then!",
            "tool_calls": [{"name": "end_call", "arguments": {}}],
        },
        {"tool_name": "end_call", "say": ""},
        {"say": "How can I help?"},
    ]


async def test_transfer_accepted(stack: CallStack) -> None:
    stack.set_rules(_transfer_rules())
    agent = stack.container.settings.conversation.agent_phone_number
    stack.acs.set_agent(agent, True)
    emulated = await stack.run_inbound(random_number(), [{"say": "English"}, {"say": "I want a human."}])
    ended = stack.acs.call(emulated)
    assert ended.ended_by == "transferred" and ended.transfer_target == agent
    said = [e["text"] for e in stack.bot_said(emulated)]
    assert "transferring you" in said[-1] or "put you through" in said[-1]
    call = await stack.call_by_number(ended.person_number)
    assert call.connection.transferred and call.status is CallStatus.ENDED


async def test_transfer_declined_apologizes_and_goes_on(stack: CallStack) -> None:
    stack.set_rules(_transfer_rules())
    stack.acs.set_agent(stack.container.settings.conversation.agent_phone_number, False)
    script = [{"say": "English"}, {"say": "Let me talk to a person."}, {"say": "OK, goodbye."}]
    emulated = await stack.run_inbound(random_number(), script)
    said = [e["text"] for e in stack.bot_said(emulated)]
    transferring = next(i for i, s in enumerate(said) if "transferring you" in s or "put you through" in s)
    assert any(w in said[transferring + 1] for w in ("sorry", "can't take", "nobody"))
    assert said[-1] == "Goodbye then!"
    assert stack.acs.call(emulated).ended_by == "bot"


async def test_language_change(stack: CallStack) -> None:
    stack.set_rules(
        [
            {
                "user": "(?i)français",
                "tool_calls": [{"name": "change_language", "arguments": {"language": "fr-FR"}}],
            },
            {"tool_name": "change_language", "say": "Bien sûr, continuons en français."},
            {
                "user": "(?i)au revoir",
                "say": "Au revoir !",
                "tool_calls": [{"name": "end_call", "arguments": {}}],
            },
            {"tool_name": "end_call", "say": ""},
            {"say": "How can I help?"},
        ]
    )
    script = [
        {"say": "English"},
        {"say": "Je préfère parler français."},
        {"say": "Merci, au revoir.", "language": "fr-FR"},
    ]
    emulated = await stack.run_inbound(random_number(), script)
    said = stack.bot_said(emulated)
    french = next(e for e in said if e["text"] == "Bien sûr, continuons en français.")
    assert french["language"] == "fr-FR" and french["voice"] == "fr-FR-DeniseNeural"
    listening = [e for e in stack.transcript(emulated) if e["kind"] == "listening"]
    assert listening[-1]["speech_language"] == "fr-FR"
    assert said[-1]["text"] == "Au revoir !" and said[-1]["language"] == "fr-FR"


async def test_language_choice_by_keypad(stack: CallStack) -> None:
    stack.use_demo_rules()
    number = random_number()
    await stack.run_inbound(number, [{"dtmf": "3"}, {"hangup": True}])
    call = await stack.call_by_number(number)
    assert call.language == "es-ES"


async def test_caller_calling_back_resumes_the_case(stack: CallStack) -> None:
    stack.use_demo_rules()
    number = random_number()
    first = await stack.run_inbound(
        number, [{"say": "English"}, {"say": DEMO_LINES[0]}, {"say": DEMO_LINES[1]}]
    )
    again = await stack.run_inbound(number, [{"say": DEMO_LINES[2]}, {"say": DEMO_LINES[5]}])
    assert first != again
    said = [e["text"] for e in stack.bot_said(again)]
    assert any(w in said[0] for w in ("Welcome back", "Hello again"))
    assert not any("Which language" in s for s in said)
    call = await stack.call_by_number(number)  # one call document for both calls
    assert call.claim["caller_name"] == "Jane Doe" and call.claim["policy_number"] == "B-12345"
    assert call.status is CallStatus.ENDED
    assert await stack.post_call_messages(call.call_id) == [{"call_id": call.call_id}] * 2


async def test_barge_in_interrupts_the_prompt(stack: CallStack) -> None:
    stack.set_rules(
        [
            {
                "user": "(?i)stop",
                "say": "Sure. Goodbye!",
                "tool_calls": [{"name": "end_call", "arguments": {}}],
            },
            {"tool_name": "end_call", "say": ""},
            {"say": "First sentence here. Second sentence here. Third sentence here."},
        ]
    )
    script = [{"say": "English"}, {"say": "Tell me."}, {"say": "Stop, please.", "barge_in": True}]
    # Speech takes time (a sentence plays for a few hundred ms), so the cut can be heard.
    stack.acs.config.speed_factor = 0.25
    emulated = await stack.run_inbound(random_number(), script)
    entries = stack.transcript(emulated)
    barged = [e for e in entries if e["kind"] == "caller_said" and e.get("barge_in")]
    assert barged and barged[0]["text"] == "Stop, please."
    said = [e["text"] for e in stack.bot_said(emulated)]
    # The caller interrupted the first sentence: the two queued after it were cut, never heard.
    assert said[-1] == "Sure. Goodbye!" and "First sentence here." in said
    assert "Third sentence here." not in said


async def test_duplicated_and_reordered_callbacks_change_nothing(stack: CallStack) -> None:
    stack.use_demo_rules()
    stack.acs.config.duplicate_callbacks = True
    stack.acs.config.out_of_order_callbacks = True
    number = random_number()
    emulated = await stack.run_inbound(number, claim_script())
    deliveries = Counter(r.label for r in stack.acs.dispatcher.records if r.kind == "callback")
    assert deliveries["Microsoft.Communication.RecognizeCompleted"] >= 2 * (len(DEMO_LINES) + 1)
    said = [e["text"] for e in stack.bot_said(emulated)]
    assert len(said) == len(set(said)), Counter(said).most_common(3)
    assert "Goodbye" in said[-1] and stack.acs.call(emulated).ended_by == "bot"
    call = await stack.call_by_number(number)
    assert call.status is CallStatus.ENDED and call.counters.turns == len(DEMO_LINES)
    assert call.claim["caller_name"] == "Jane Doe" and call.claim["estimated_damage"] == 2000
    assert len(call.reminders) == 1
    humans = [m.content for m in call.messages if m.persona == "human" and m.content]
    assert humans == DEMO_LINES
    assert await stack.post_call_messages(call.call_id) == [{"call_id": call.call_id}]
    hangups = [e for e in stack.acs.exchanges if e.method == "DELETE" or e.path.endswith(":terminate")]
    assert len(hangups) == 1


async def test_callbacks_with_bad_jwt_or_secret_are_refused(stack: CallStack) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    from core.callflow.outbound import default_initiate
    from core.models import Call, CallDirection

    settings = stack.container.settings
    call = Call(
        direction=CallDirection.INBOUND, initiate=default_initiate(random_number(), settings.conversation)
    )
    call.connection_id = "conn-auth-test"
    await stack.container.calls.create(call)
    before = await stack.container.calls.get(call.call_id)
    event = [
        {
            "id": "auth-test-event",
            "type": "Microsoft.Communication.CallConnected",
            "source": "calling/callConnections/conn-auth-test",
            "specversion": "1.0",
            "data": {"callConnectionId": "conn-auth-test"},
        }
    ]
    good_token = stack.acs.signer.token()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(good_token, options={"verify_signature": False})
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": stack.acs.signer.kid})
    wrong_audience = jwt.encode(
        {**claims, "aud": "someone-else"},
        stack.acs.signer._key,
        algorithm="RS256",
        headers={"kid": stack.acs.signer.kid},
    )
    cases = [
        (call.callback_secret, None),
        (call.callback_secret, f"Bearer {forged}"),
        (call.callback_secret, f"Bearer {wrong_audience}"),
        (call.callback_secret, "Bearer not-a-jwt"),
        ("wrong-secret", f"Bearer {good_token}"),
        (call.callback_secret[:-1], f"Bearer {good_token}"),
    ]
    for secret, authorization in cases:
        headers = {"Authorization": authorization} if authorization else {}
        url = stack.url(f"/callbacks/{call.call_id}/{secret}")
        async with stack.session.post(url, json=event, headers=headers) as response:
            assert response.status == 401, (secret, authorization, await response.text())
    after = await stack.container.calls.get(call.call_id)
    assert after == before
    assert not [e for e in stack.acs.exchanges if "conn-auth-test" in e.path]
    # The same event with a good token and secret is accepted (so nothing was claimed before).
    url = stack.url(f"/callbacks/{call.call_id}/{call.callback_secret}")
    async with stack.session.post(
        url, json=event, headers={"Authorization": f"Bearer {good_token}"}
    ) as response:
        assert response.status == 200
    claimed = await stack.container.inbox.claim(call.call_id, "auth-test-event")
    assert claimed is False


async def test_recording_starts_when_the_setting_says_so(local_stack: None) -> None:
    from tests.e2e.harness import call_stack

    async with call_stack({"ACS__RECORDING_ENABLED": "true"}) as stack:
        stack.use_demo_rules()
        number = random_number()
        script = [{"say": "English"}, {"say": DEMO_LINES[0]}, {"hangup": True}]
        emulated = await stack.run_inbound(number, script)
        recordings = [e for e in stack.transcript(emulated) if e["kind"] == "recording"]
        assert any(e.get("action") == "start" for e in recordings)
        call = await stack.call_by_number(number)
        assert call.connection.recording in ("active", "inactive")
        assert not stack.failed_callbacks()


async def test_outbound_call_not_answered(stack: CallStack) -> None:
    number = random_number()
    stack.acs.set_script(number, {"answer": False, "steps": []})
    body = {"phone_number": number, "languages": ["en-US"]}
    async with stack.session.post(stack.url("/call"), json=body, headers=stack.headers) as response:
        assert response.status == 201
    emulated = (await stack.acs.wait_for_calls(1))[0]
    await stack.acs.wait_for_call_end(emulated.call_id)
    await stack.acs.drain_callbacks()
    call = await stack.call_by_number(number)
    assert call.status is CallStatus.ENDED and "CreateCallFailed" in (call.end_reason or "")
    assert not stack.bot_said(emulated.call_id)


@pytest.mark.parametrize("concurrent", [False, True], ids=["ordered-callbacks", "concurrent-callbacks"])
async def test_words_said_while_the_bot_thinks_are_heard(stack: CallStack, concurrent: bool) -> None:
    stack.set_rules(
        [
            {"user": "(?i)bike", "say": "Your bike, noted. Anything else?"},
            {"user": "(?i)car", "say": "About your car: noted.", "delay_s": 1.5},
            {"say": "Please go on."},
        ]
    )
    stack.acs.config.concurrent_callbacks = concurrent
    script = [
        {"say": "English"},
        {"say": "My car was hit."},
        {"say": "Actually it was my bike.", "while_thinking": True},
    ]
    number = random_number()
    emulated = await stack.run_inbound(number, script)
    entries = stack.transcript(emulated)
    # The second utterance went into the recognition that listened while the model thought.
    think = [
        e
        for e in entries
        if e["kind"] == "media_completed" and str(e["operation_context"]).endswith(":think")
    ]
    assert think and think[0]["event"] == "RecognizeCompleted"
    said = [e["text"] for e in stack.bot_said(emulated)]
    if concurrent:  # delivered at once, it supersedes the turn still thinking: that one says nothing
        assert any("Your bike, noted." in s for s in said) and "About your car: noted." not in said
    # Delivered after the first turn (ordered callbacks), it is a turn of its own: kept all the same.
    call = await stack.call_by_number(number)
    contents = [m.content for m in call.messages]
    assert "My car was hit." in contents and "Actually it was my bike." in contents
    assert not stack.failed_callbacks()
