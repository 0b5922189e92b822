"""One openai SDK client for an endpoint: OpenAI-compatible (``base_url``), or Azure OpenAI with its
key or, without one, the worker's Entra ID credential. Shared by the chat model and the embeddings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.adapters.identity import CredentialSource, bearer_token_provider, require

if TYPE_CHECKING:
    from openai import AsyncOpenAI


def openai_client(
    *,
    provider: str,
    endpoint: str,
    api_key: str,
    api_version: str,
    timeout_s: float,
    max_retries: int,
    credential: CredentialSource | None,
    what: str,
    key_setting: str,
) -> AsyncOpenAI:
    if provider == "azure_openai":
        from openai import AsyncAzureOpenAI

        if api_key:
            return AsyncAzureOpenAI(
                azure_endpoint=endpoint,
                api_version=api_version,
                api_key=api_key,
                timeout=timeout_s,
                max_retries=max_retries,
            )
        return AsyncAzureOpenAI(
            azure_endpoint=endpoint,
            api_version=api_version,
            azure_ad_token_provider=bearer_token_provider(require(credential, what, key_setting)),
            timeout=timeout_s,
            max_retries=max_retries,
        )
    from openai import AsyncOpenAI

    # Local OpenAI-compatible servers need no key, but the SDK insists on one.
    return AsyncOpenAI(
        base_url=endpoint, api_key=api_key or "not-needed", timeout=timeout_s, max_retries=max_retries
    )
