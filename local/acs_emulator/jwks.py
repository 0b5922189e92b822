"""The RSA key callbacks are signed with (RS256) and its public JWKS (GET /calling/keys)."""

from __future__ import annotations

import base64
import functools
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

TOKEN_LIFETIME_S = 15 * 60


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.cache
def _process_key() -> tuple[rsa.RSAPrivateKey, str]:
    # One key per process: generating RSA keys is slow and tests start many emulators.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048), uuid.uuid4().hex


class CallbackSigner:
    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self._key, self.kid = _process_key()

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                }
            ]
        }

    def token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now - 5,
            "exp": now + TOKEN_LIFETIME_S,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})
