"""A local Azure App Configuration data plane (key-values, labels, ETags, filters, HMAC auth)."""

from local.appconfig_emulator.server import (
    DEFAULT_CREDENTIAL,
    DEFAULT_SECRET,
    AppConfigEmulator,
    connection_string,
    make_app,
)

DEFAULT_PORT = 8483

__all__ = [
    "DEFAULT_CREDENTIAL",
    "DEFAULT_PORT",
    "DEFAULT_SECRET",
    "AppConfigEmulator",
    "connection_string",
    "make_app",
]
