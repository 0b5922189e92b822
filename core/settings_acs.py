"""The ACS section of the settings (re-exported by core.settings): Call Automation, SMS, callbacks,
and what ACS accepts for speech (AI Services endpoint, recognition timeouts)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from core.settings_types import HttpsUrl, WholeSeconds

# Access key the local ACS emulator is started with (base64, like a real ACS key).
ACS_EMULATOR_KEY = "bG9jYWwtYWNzLWVtdWxhdG9yLWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0LTAwMDA="
# AI Services endpoint of the local stack: a reserved name that resolves nowhere (the emulator accepts it).
LOCAL_AI_SERVICES = "https://ai-services.local.invalid/"


def _e164_setting(value: str) -> str:
    # Imported here: phonenumbers' metadata load is not free and only needed when a number is set.
    from core.models.claim import normalize_e164

    return normalize_e164(value)


class AcsSettings(BaseModel):
    endpoint: str = "http://127.0.0.1:8090"
    # Empty (unset with APP_MODE=azure): Entra ID, the worker's managed identity.
    access_key: str = ACS_EMULATOR_KEY
    phone_number: str = "+15550100000"
    # Public base URL of this app, used to build callback URLs ACS can reach.
    callback_base_url: str = "http://127.0.0.1:7071"
    jwks_url: str = "http://127.0.0.1:8090/calling/keys"
    jwt_issuer: str = "https://acscallautomation.communication.azure.com"
    # ACS signs callbacks with its resource id (immutable GUID) as audience.
    jwt_audience: str = "00000000-0000-0000-0000-000000000acs"
    recording_enabled: bool = False
    # Azure AI Services account ACS speaks and recognizes through: without it on answer/create, ACS
    # refuses every text/SSML play and speech recognition of the call.
    cognitive_services_endpoint: HttpsUrl = LOCAL_AI_SERVICES

    @field_validator("phone_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return _e164_setting(value)

    # Seconds of silence after speech that ends a recognized utterance; ACS takes milliseconds
    # (endSilenceTimeoutInMs) and documents no range. Initial silence: whole seconds, at most 300.
    end_silence_timeout_s: float = Field(default=0.5, ge=0.001, le=10)
    initial_silence_timeout_s: WholeSeconds = Field(default=6.0, ge=1, le=300)
