"""The settings of phrase translation (TRANSLATION__*), apart from core.settings to keep it small:
fixed phrases of a language with no built-in set are translated once from English, by Azure AI
Translator when an endpoint is set, else by the conversation's model, and kept in a blob container."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class TranslationSettings(BaseModel):
    endpoint: str = Field(
        default="",
        description="Azure AI Translator endpoint (https://api.cognitive.microsofttranslator.com, or the "
        "resource's custom domain); empty: the conversation's model translates",
    )
    api_key: str = Field(default="", description="Translator key (Ocp-Apim-Subscription-Key)")
    region: str = Field(
        default="", description="Region of a regional or multi-service Translator resource (e.g. westeurope)"
    )
    container: str = Field(
        default="phrases",
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        description="Blob container of the translated phrase sets (STORAGE__* account), read by every worker",
    )
    timeout_s: float = Field(default=20.0, gt=0, le=120, description="Longest a translation may take (s)")
    retry_after_s: float = Field(
        default=60.0, ge=0, le=3600, description="A failed translation is tried again after this long (s)"
    )

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"'{value[:60]}' is not an http(s) URL")
        return value.rstrip("/")

    @property
    def uses_translator(self) -> bool:
        return bool(self.endpoint)
