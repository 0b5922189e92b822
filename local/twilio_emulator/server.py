"""The Twilio stand-in: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` and ``GET`` of the
same list, shaped as Twilio documents them (Programmable Messaging, Message resource), and ``deliver``,
which sends a received SMS to the product's webhook the way Twilio does (a form POST signed with
X-Twilio-Signature).

What it refuses, as Twilio does (error codes of Twilio's error dictionary): no or wrong basic auth
(401, 20003), an account SID in the path that is not the authenticated one (404, 20404), a missing To
(21604), From (21603) or Body (21602), a To that is not an E.164 number (21211), a From that is not
one of the account's numbers (21606), a Body over 1,600 characters (21617). Errors are Twilio's JSON
body: ``{"code", "message", "more_info", "status"}``.

python -m local.twilio_emulator --port 8095 --account-sid AC... --auth-token ... --number +1555...
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from core.messaging.twilio_signature import signature

API = "/2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_BODY = 1600
# Public example credentials of the local stack (not secrets): a well-formed SID and token.
LOCAL_ACCOUNT_SID = "AC" + "0" * 31 + "1"
LOCAL_AUTH_TOKEN = "local-twilio-auth-token"


def _error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)


@dataclass
class TwilioEmulator:
    account_sid: str = LOCAL_ACCOUNT_SID
    auth_token: str = LOCAL_AUTH_TOKEN
    numbers: set[str] = field(default_factory=lambda: {"+15550100000"})
    messages: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    # -- REST API -------------------------------------------------------------------------------
    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(
            password, self.auth_token
        )

    def _check(self, request: web.Request) -> web.Response | None:
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if request.match_info["sid"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        return None

    async def _create(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        form = dict(parse_qsl(await request.text(), keep_blank_values=True))
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not sender:
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if not E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if sender not in self.numbers:
            return _error(
                400, 21606, f"The From phone number {sender} is not a valid, SMS-capable inbound phone number "
                "or short code for your account.",
            )  # fmt: skip
        if len(body) > MAX_BODY:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC), usegmt=True)
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{API}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"{API}/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        self.messages.append(message)
        return web.json_response(message, status=201)

    async def _list(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        uri = f"{API}/Accounts/{self.account_sid}/Messages.json"
        listed = list(reversed(self.messages))  # newest first, as Twilio lists them
        return web.json_response(
            {
                "messages": listed,
                "end": max(0, len(listed) - 1),
                "first_page_uri": f"{uri}?PageSize=50&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize=50&Page=0",
            }
        )

    # -- Twilio's side of the inbound webhook -------------------------------------------------------
    async def deliver(
        self, webhook_url: str, sender: str, body: str, *, to: str | None = None, sign_with: str | None = None
    ) -> tuple[int, str, str]:
        """POST a received SMS to the webhook as Twilio does; (status, response text, MessageSid).
        ``sign_with`` signs with another token (a forged request)."""
        sid = "SM" + secrets.token_hex(16)
        form = {
            "ToCountry": "US",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": to or next(iter(sorted(self.numbers))),
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        token = self.auth_token if sign_with is None else sign_with
        headers = {"X-Twilio-Signature": signature(webhook_url, form.items(), token)}
        async with (
            aiohttp.ClientSession() as session,
            session.post(webhook_url, data=form, headers=headers) as response,
        ):
            return response.status, await response.text(), sid

    # -- lifecycle ----------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(API + "/Accounts/{sid}/Messages.json", self._create)
        app.router.add_get(API + "/Accounts/{sid}/Messages.json", self._list)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> TwilioEmulator:
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
