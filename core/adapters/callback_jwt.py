"""core.ports.CallbackVerifier: the JWT that ACS signs its callbacks with, checked against its JWKS.

The JWKS is fetched once per worker and cached; an unknown key id triggers one refresh (rate-limited),
so a key rotation at ACS is picked up without a restart.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from core.errors import UnauthorizedError

if TYPE_CHECKING:
    from jwt import PyJWKSet

    from core.settings import AcsSettings

JWKS_TTL_S = 24 * 3600
JWKS_MIN_REFRESH_S = 30.0
LEEWAY_S = 60


class JwksCallbackVerifier:
    """Verifies the Bearer JWT of an ACS callback: RS256 signature by a JWKS key, issuer, audience,
    expiry."""

    async def close(self) -> None:
        self._verified.clear()

    def __init__(self, settings: AcsSettings) -> None:
        self._settings = settings
        self._keys: PyJWKSet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        # Tokens already verified, with their expiry: ACS reuses a token for many callbacks.
        self._verified: dict[str, tuple[float, dict[str, Any]]] = {}

    async def _fetch(self) -> PyJWKSet:
        import aiohttp
        from jwt import PyJWKSet

        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(self._settings.jwks_url) as response,
        ):
            response.raise_for_status()
            data: dict[str, Any] = await response.json(content_type=None)
        return PyJWKSet.from_dict(data)

    async def _key_set(self, *, refresh: bool = False) -> PyJWKSet:
        now = time.monotonic()
        stale = self._keys is None or now - self._fetched_at > JWKS_TTL_S
        if not stale and not (refresh and now - self._fetched_at > JWKS_MIN_REFRESH_S):
            assert self._keys is not None
            return self._keys
        async with self._lock:
            now = time.monotonic()
            if self._keys is None or now - self._fetched_at > (JWKS_MIN_REFRESH_S if refresh else JWKS_TTL_S):
                self._keys = await self._fetch()
                self._fetched_at = now
        assert self._keys is not None
        return self._keys

    async def verify(self, authorization: str | None) -> dict[str, Any]:
        """Return the token's claims, or raise UnauthorizedError."""
        import jwt

        if not authorization or not authorization.lower().startswith("bearer "):
            raise UnauthorizedError("missing bearer token")
        token = authorization[7:].strip()
        known = self._verified.get(token)
        if known is not None and known[0] > time.time():
            return known[1]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise UnauthorizedError("malformed token") from None
        import aiohttp

        try:
            keys = await self._key_set()
            key = _find(keys, kid)
            if key is None:
                key = _find(await self._key_set(refresh=True), kid)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError, jwt.PyJWTError) as exc:
            raise UnauthorizedError(f"signing keys unavailable: {type(exc).__name__}") from None
        if key is None:
            raise UnauthorizedError("token signed with an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise UnauthorizedError(f"invalid token: {exc}") from None
        if len(self._verified) > 1000:
            self._verified.clear()
        self._verified[token] = (float(claims["exp"]), claims)
        return claims


def _find(keys: PyJWKSet, kid: str | None) -> Any:
    for key in keys.keys:
        if kid is None or key.key_id == kid:
            return key
    return None
