"""The SMS provider settings (SMS__*), apart from core.settings to keep it small: ACS SMS (the ACS
section's endpoint and number) or Twilio (its REST API for sending, its webhook for receiving)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator


class TwilioSettings(BaseModel):
    account_sid: str = Field(default="", pattern=r"^(AC[0-9a-fA-F]{32})?$", description="Account SID (AC...)")
    auth_token: str = Field(default="", description="Auth token: signs the REST calls and the webhooks")
    phone_number: str = Field(
        default="", description="The Twilio number texts are sent from (E.164); empty: ACS__PHONE_NUMBER"
    )
    api_base_url: str = Field(default="https://api.twilio.com", description="Base URL of Twilio's REST API")
    webhook_url: str = Field(
        default="",
        description="The URL configured in Twilio for incoming messages, exactly (Twilio signs it); empty: "
        "the URL the request arrived at",
    )
    timeout_s: float = Field(default=10.0, gt=0, le=60, description="Timeout of a REST call (s)")

    @field_validator("phone_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not value:
            return value
        from core.models.claim import normalize_e164

        return normalize_e164(value)

    @field_validator("api_base_url", "webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"'{value[:60]}' is not an http(s) URL")
        return value


class SmsSettings(BaseModel):
    provider: Literal["acs", "twilio"] = Field(
        default="acs", description="Who sends and receives the texts: acs (ACS SMS) or twilio"
    )
    twilio: TwilioSettings = TwilioSettings()

    @model_validator(mode="after")
    def _twilio_is_complete(self) -> SmsSettings:
        if self.provider == "twilio":
            missing = [
                name
                for name, value in (
                    ("SMS__TWILIO__ACCOUNT_SID", self.twilio.account_sid),
                    ("SMS__TWILIO__AUTH_TOKEN", self.twilio.auth_token),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"SMS__PROVIDER=twilio needs {', '.join(missing)}")
        return self
