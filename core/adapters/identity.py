"""The worker's Entra ID credential: one per worker (core.bootstrap builds it, on first need, and hands
it to every adapter that has no key), so the token cache is shared and there is one client to close.

Adapters take a ``CredentialSource``: a zero-argument callable returning the credential, called only
when the adapter has no key. A worker that uses keys everywhere (the local stack) never imports
azure-identity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

# Any: the adapters hand it to SDKs typed on azure-core's protocol; tests give a fake.
CredentialSource = Callable[[], Any]

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"


def build_credential() -> AsyncTokenCredential:
    """DefaultAzureCredential (async): the managed identity in Azure, the developer's az/azd login
    locally."""
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential()


def require(source: CredentialSource | None, what: str, key_setting: str) -> Any:
    """The credential for a client that has no key, or a clear error when none was handed over."""
    if source is None:
        raise ValueError(f"{what}: {key_setting} is empty and no Entra ID credential was given")
    return source()


def bearer_token_provider(credential: Any) -> Callable[[], Any]:
    """An OpenAI SDK token provider (async) over the shared credential."""
    from azure.identity.aio import get_bearer_token_provider

    return get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE)
