"""The LLM section of the settings (LLM__*): the fast pair (the conversation), the slow pair
(post-call insights), retries and the answer timeouts; apart from core.settings to keep it small,
which holds it as ``Settings.llm`` and re-exports these names."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator


class LlmEndpointSettings(BaseModel):
    provider: Literal["openai", "azure_openai"] = "openai"
    # OpenAI-compatible base URL (".../v1") or Azure OpenAI resource endpoint. Empty = not configured.
    endpoint: str = ""
    model: str = ""
    api_key: str = ""
    # Azure OpenAI only: API version; leave api_key empty to use Entra ID (azure-identity).
    api_version: str = "2024-10-21"
    timeout_s: float = Field(default=30.0, gt=0)


class LlmPairSettings(BaseModel):
    """A model and its fallback."""

    primary: LlmEndpointSettings = LlmEndpointSettings()
    fallback: LlmEndpointSettings = LlmEndpointSettings()

    @property
    def configured(self) -> bool:
        return bool(self.primary.endpoint and self.primary.model)


class LlmSettings(BaseModel):
    # The fast model and its fallback: the conversation (LLM__PRIMARY__*, LLM__FALLBACK__*).
    primary: LlmEndpointSettings = LlmEndpointSettings()
    fallback: LlmEndpointSettings = LlmEndpointSettings()
    # The slow model and its fallback: post-call insights, and the conversation when
    # slow_llm_for_chat says so. Not configured: the fast pair does it all.
    slow: LlmPairSettings = LlmPairSettings()
    slow_llm_for_chat: bool = False
    max_retries: int = Field(default=2, ge=0, le=10)
    # Answer soft timeout: played when the first sentence takes longer than this.
    filler_after_s: float = Field(default=2.0, gt=0, le=600)
    # Answer hard timeout: the caller never waits longer; the bot apologizes and listens again.
    answer_hard_timeout_s: float = Field(default=60.0, gt=0, le=600)
    history_token_budget: int = Field(default=6000, ge=500)
    max_tool_rounds: int = Field(default=4, ge=1, le=20)
    temperature: float = Field(default=0.3, ge=0, le=2)
    # First wait between retries of a transient failure; doubles each retry (with jitter), capped.
    retry_backoff_s: float = Field(default=0.5, ge=0, le=30)
    retry_backoff_max_s: float = Field(default=4.0, ge=0, le=60)

    @property
    def configured(self) -> bool:
        return bool(self.primary.endpoint and self.primary.model)

    @property
    def fast(self) -> LlmPairSettings:
        return LlmPairSettings(primary=self.primary, fallback=self.fallback)

    @model_validator(mode="after")
    def _soft_before_hard(self) -> LlmSettings:
        if self.filler_after_s >= self.answer_hard_timeout_s:
            raise ValueError(
                f"LLM__FILLER_AFTER_S ({self.filler_after_s:g}) must be below "
                f"LLM__ANSWER_HARD_TIMEOUT_S ({self.answer_hard_timeout_s:g})"
            )
        return self
