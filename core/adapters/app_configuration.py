"""core.ports.RuntimeConfig over Azure App Configuration (azure-appconfiguration, async client).

The options are the keys ``<prefix><option>`` under one label. The first event of a worker loads them
all (bounded by the load timeout); afterwards the cached snapshot is served at once, and a background
task asks every refresh interval for the sentinel key with its ETag (a 304 costs nothing) and reloads
everything only when the sentinel changed: change the options, then the sentinel. A store that cannot
be read keeps the last good snapshot (the app settings until a first read worked).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from core.adapters.identity import CredentialSource, require
from core.runtime import OPTION_NAMES, RuntimeSnapshot, build_snapshot, from_settings

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger("callcenter.runtime")

_NULL_LABEL = "\0"


class AppConfigurationRuntime:
    def __init__(self, settings: Settings, credential: CredentialSource | None = None) -> None:
        self.settings = settings
        self._credential_source = credential
        self.options = settings.app_configuration
        self._snapshot = from_settings(settings, source="app settings (App Configuration not read yet)")
        self._client: Any = None
        self._loaded = False
        self._first: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._sentinel_etag: str | None = None
        self._failing = False

    # -- the port ---------------------------------------------------------------------------------

    def current(self) -> RuntimeSnapshot:
        return self._snapshot

    async def snapshot(self) -> RuntimeSnapshot:
        if not self._loaded:
            if self._first is None:
                self._first = asyncio.ensure_future(self._first_load())
            # shield: a cancelled event must not cancel the load other events wait for.
            await asyncio.shield(self._first)
        if self._timer is None or self._timer.done():
            self._timer = asyncio.ensure_future(self._refresh_every_interval())
        return self._snapshot

    async def close(self) -> None:
        for task in (self._first, self._timer):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
            self._client = None

    # -- loading ----------------------------------------------------------------------------------

    @property
    def where(self) -> str:
        if self.options.endpoint:
            return self.options.endpoint
        parts = dict(p.split("=", 1) for p in self.options.connection_string.split(";") if "=" in p)
        return parts.get("Endpoint", "(connection string)")

    def _make_client(self) -> Any:
        from azure.appconfiguration.aio import AzureAppConfigurationClient

        # Few quick retries: a worker must not stall on a store that is down (the last good values
        # serve meanwhile, and the next refresh tries again).
        retry: dict[str, Any] = {"retry_total": 1, "retry_backoff_factor": 0.2}
        if self.options.connection_string:
            return AzureAppConfigurationClient.from_connection_string(self.options.connection_string, **retry)
        credential = require(
            self._credential_source, "App Configuration", "APP_CONFIGURATION__CONNECTION_STRING"
        )
        return AzureAppConfigurationClient(self.options.endpoint, credential, **retry)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    @property
    def _label(self) -> str:
        return self.options.label or _NULL_LABEL

    async def _first_load(self) -> None:
        try:
            await asyncio.wait_for(self._load(), timeout=self.options.load_timeout_s)
            log.info("run-time options loaded from App Configuration at %s", self.where)
        except Exception as exc:
            self._failing = True
            self._snapshot = from_settings(
                self.settings, source="app settings (App Configuration unreachable)"
            )
            log.warning(
                "App Configuration at %s cannot be read (%s: %s): the run-time options come from the app "
                "settings until it answers",
                self.where,
                type(exc).__name__,
                str(exc)[:200],
            )
        finally:
            self._loaded = True

    async def _load(self) -> None:
        prefix = self.options.key_prefix
        raw: dict[str, str] = {}
        sentinel_etag: str | None = None
        sentinel = prefix + self.options.sentinel_key
        async for setting in self.client.list_configuration_settings(
            key_filter=_escape(prefix) + "*", label_filter=_escape(self._label)
        ):
            if setting.key == sentinel:
                sentinel_etag = setting.etag
            name = setting.key[len(prefix) :]
            if name in OPTION_NAMES and setting.value is not None:
                raw[name] = setting.value
        self._snapshot = build_snapshot(
            self.settings, raw, self._snapshot, source=f"App Configuration ({self.where})"
        )
        self._sentinel_etag = sentinel_etag

    async def _refresh_every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.options.refresh_interval_s)
            await self.refresh()

    async def refresh(self) -> None:
        """Reload when the sentinel changed (or when the last read failed)."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceNotFoundError

        try:
            if not self._failing:
                key = self.options.key_prefix + self.options.sentinel_key
                try:
                    found = await asyncio.wait_for(
                        self.client.get_configuration_setting(
                            key,
                            label=self.options.label or None,
                            etag=self._sentinel_etag,
                            match_condition=MatchConditions.IfModified,
                        ),
                        timeout=self.options.load_timeout_s,
                    )
                except ResourceNotFoundError:
                    found = None if self._sentinel_etag is None else "deleted"
                if found is None:
                    return  # unchanged (304), or still absent
            await asyncio.wait_for(self._load(), timeout=self.options.load_timeout_s)
            if self._failing:
                log.warning("App Configuration at %s answers again: run-time options reloaded", self.where)
            else:
                log.info("run-time options reloaded from App Configuration (the sentinel changed)")
            self._failing = False
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._failing:
                log.warning(
                    "App Configuration at %s cannot be read (%s): keeping the last good run-time options",
                    self.where,
                    type(exc).__name__,
                )
            self._failing = True


def _escape(text: str) -> str:
    """A literal for a key or label filter (``*``, ``,`` and ``\\`` are filter syntax)."""
    with contextlib.suppress(AttributeError):
        for char in ("\\", "*", ","):
            text = text.replace(char, "\\" + char)
    return text
