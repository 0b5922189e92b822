"""The settings section of the run-time options' store (APP_CONFIGURATION__*), apart from
core.settings to keep that module small; core.settings holds it as ``Settings.app_configuration``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AppConfigurationSettings(BaseModel):
    """The Azure App Configuration store of the run-time options (core.runtime). No store configured:
    the options come from the app settings."""

    # https://<name>.azconfig.io, read with Entra ID (the Function App's identity).
    endpoint: str = ""
    # Or a connection string (Endpoint=...;Id=...;Secret=...): HMAC-signed requests (the emulator).
    connection_string: str = ""
    # Label of the keys read; empty = the null label.
    label: str = ""
    key_prefix: str = "callcenter:"
    # Key (after the prefix) whose change makes every worker reload all the options.
    sentinel_key: str = "sentinel"
    refresh_interval_s: float = Field(default=60.0, gt=0, le=86400)
    # The longest a load of the store may delay an event (the first one of a worker).
    load_timeout_s: float = Field(default=5.0, gt=0, le=60)

    @property
    def configured(self) -> bool:
        return bool(self.endpoint or self.connection_string)
