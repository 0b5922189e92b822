"""HTTP options shared by the Azure SDK clients.

azure-core's aiohttp transport trusts the environment by default (``use_env_settings``): aiohttp then
looks up the proxy variables and the netrc file on every request, each time in a thread of the
default executor (two thread hand-offs per request, the largest single CPU cost of a turn under load).
The environment of a worker does not change while it runs, so it is read once here: with no proxy
variable and no netrc file there is nothing to look up, and the clients skip the lookups; with either,
they keep trusting the environment exactly as before.
"""

from __future__ import annotations

import functools
import os
import urllib.request
from pathlib import Path
from typing import Any


def _netrc_present() -> bool:
    # Where aiohttp looks (aiohttp.helpers.netrc_from_env): $NETRC, else ~/.netrc (~/_netrc on Windows).
    if os.environ.get("NETRC"):
        return True
    try:
        home = Path.home()
    except RuntimeError:  # no home directory: aiohttp finds no netrc either
        return False
    return (home / ".netrc").exists() or (home / "_netrc").exists()


@functools.cache
def environment_has_http_settings() -> bool:
    """True when the environment names a proxy (HTTP_PROXY, HTTPS_PROXY, ... or the platform's
    settings) or a netrc file: what aiohttp's ``trust_env`` would use."""
    return bool(urllib.request.getproxies()) or _netrc_present()


def client_options() -> dict[str, Any]:
    """Keyword arguments for an azure-core SDK client that passes its keywords on to its transport
    (Storage, Tables, Communication, Search)."""
    return {} if environment_has_http_settings() else {"use_env_settings": False}


def transport() -> Any:
    """A transport for an SDK client that builds a default one without passing keywords on (Cosmos
    DB): an azure-core AsyncHttpTransport, or None (the SDK's default) when the environment has HTTP
    settings to honour."""
    if environment_has_http_settings():
        return None
    from azure.core.pipeline.transport import AioHttpTransport

    return AioHttpTransport(use_env_settings=False)
