"""Twilio as the SMS provider: the request signature (Twilio's published test vectors), the sender
against the local stand-in of Twilio's REST API, and the stand-in's refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.adapters.twilio_sms import TwilioSmsSender
from core.messaging.twilio_signature import is_valid, signature
from core.settings_sms import SmsSettings, TwilioSettings
from local.twilio_emulator import TwilioEmulator

# Twilio's request-validation example (its libraries' tests): auth token 12345.
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_the_signature_is_twilios_published_example() -> None:
    assert signature(URL, PARAMS, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert signature(URL, reversed(PARAMS), "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
    assert signature(URL, repeated, "12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


@pytest.mark.parametrize(
    ("url", "params", "token", "given"),
    [
        (URL + "&x=1", PARAMS, "12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (URL, [*PARAMS[:2], ("Digits", "9999"), *PARAMS[3:]], "12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (URL, PARAMS, "other", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (URL, PARAMS, "12345", ""),
        (URL, PARAMS, "12345", None),
        (URL, PARAMS, "", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ],
)
def test_any_change_or_a_missing_signature_is_refused(
    url: str, params: list[tuple[str, str]], token: str, given: str | None
) -> None:
    assert not is_valid(url, params, token, given)


def test_twilio_needs_its_credentials() -> None:
    with pytest.raises(ValueError, match="SMS__TWILIO__ACCOUNT_SID, SMS__TWILIO__AUTH_TOKEN"):
        SmsSettings(provider="twilio")
    with pytest.raises(ValueError, match="account_sid"):
        TwilioSettings(account_sid="not-a-sid")


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioEmulator]:
    emulator = await TwilioEmulator().start()
    yield emulator
    await emulator.stop()


def sender(twilio: TwilioEmulator, token: str | None = None, number: str = "") -> TwilioSmsSender:
    settings = TwilioSettings(
        account_sid=twilio.account_sid,
        auth_token=token or twilio.auth_token,
        api_base_url=twilio.base_url,
        phone_number=number,
    )
    return TwilioSmsSender(settings, default_from="+15550100000")


async def test_an_sms_reaches_twilio_from_the_products_number(twilio: TwilioEmulator) -> None:
    sms = sender(twilio)
    try:
        assert await sms.send("+14155550100", "Your claim is registered.")
    finally:
        await sms.close()
    [message] = twilio.messages
    assert (message["to"], message["from"], message["body"], message["status"]) == (
        "+14155550100",
        "+15550100000",
        "Your claim is registered.",
        "queued",
    )
    assert message["sid"].startswith("SM") and len(message["sid"]) == 34


@pytest.mark.parametrize(
    ("token", "number", "to", "body"),
    [
        ("wrong-token", "", "+14155550100", "Hi"),  # 20003
        (None, "+15550109999", "+14155550100", "Hi"),  # 21606: not a number of the account
        (None, "", "0155", "Hi"),  # 21211
        (None, "", "+14155550100", "x" * 1601),  # 21617
    ],
)
async def test_what_twilio_refuses_is_a_failed_send_not_an_error(
    twilio: TwilioEmulator, token: str | None, number: str, to: str, body: str
) -> None:
    sms = sender(twilio, token, number)
    try:
        assert not await sms.send(to, body)
    finally:
        await sms.close()
    assert twilio.messages == []


async def test_the_stand_in_answers_as_twilio_documents(twilio: TwilioEmulator) -> None:
    url = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    auth = {"Authorization": aiohttp.encode_basic_auth(twilio.account_sid, twilio.auth_token)}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, data={"To": "+14155550100", "From": "+15550100000"}, headers=auth
        ) as response:
            assert response.status == 400
            assert (await response.json())["code"] == 21602
        async with session.post(url, data={"Body": "x"}) as response:
            assert response.status == 401 and (await response.json())["code"] == 20003
        other = url.replace(twilio.account_sid, "AC" + "f" * 32)
        async with session.post(other, data={"Body": "x"}, headers=auth) as response:
            assert response.status == 404
        data = {"To": "+14155550100", "From": "+15550100000", "Body": "Hello"}
        async with session.post(url, data=data, headers=auth) as response:
            assert response.status == 201
        async with session.get(url, headers=auth) as response:
            listed = await response.json()
    assert [m["body"] for m in listed["messages"]] == ["Hello"]


async def test_the_webhook_is_not_there_when_twilio_is_not_the_provider() -> None:
    from core.bootstrap import Services
    from core.errors import NotFoundError
    from core.messaging.twilio_inbound import handle_twilio_sms
    from core.settings import Settings

    with pytest.raises(NotFoundError):
        await handle_twilio_sms(Services(Settings()), URL, PARAMS, signature(URL, PARAMS, "12345"))
