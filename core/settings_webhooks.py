"""The ``WEBHOOKS__*`` settings: the URLs a company receives signed call events on (core/webhooks).

Kept beside core/settings.py (which includes this section as ``Settings.webhooks``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class WebhookSettings(BaseModel):
    urls: str = Field(
        default="",
        description="Comma-separated URLs that receive the signed events (https; http only for localhost). "
        "Empty = no webhooks.",
    )
    secret: str = Field(
        default="",
        description="Signing secret (at least 16 characters) of the HMAC-SHA256 signature; the receiver "
        "holds the same one.",
    )
    previous_secret: str = Field(
        default="",
        description="While rotating the secret: the old one. Each request is then signed with both "
        "(two v1= values), so receivers can switch at their own pace.",
    )
    queue: str = Field(default="webhooks", description="Storage queue of the deliveries (ids only).")
    max_attempts: int = Field(default=8, ge=1, le=30, description="Attempts before a delivery is given up.")
    retry_backoff_s: int = Field(
        default=30, ge=0, le=3600, description="Delay before the second attempt (s); doubles each attempt."
    )
    retry_backoff_max_s: int = Field(
        default=3600, ge=0, le=7 * 24 * 3600, description="Longest delay between attempts (s)."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=60, description="How long a receiver may take to answer.")

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",") if u.strip()):
            parts = urlsplit(url)
            local = parts.hostname in _LOCAL_HOSTS
            if parts.scheme != "https" and not (parts.scheme == "http" and local):
                raise ValueError(f"'{url[:60]}' is not an https URL (http is allowed for localhost only)")
            if not parts.hostname:
                raise ValueError(f"'{url[:60]}' has no host")
        return value

    @model_validator(mode="after")
    def _secret_with_urls(self) -> WebhookSettings:
        if self.url_list and len(self.secret) < 16:
            raise ValueError("WEBHOOKS__SECRET must be at least 16 characters when WEBHOOKS__URLS is set")
        return self

    @property
    def signing_secrets(self) -> list[str]:
        return [s for s in (self.secret, self.previous_secret) if s]

    @property
    def url_list(self) -> list[str]:
        return list(dict.fromkeys(u.strip() for u in self.urls.split(",") if u.strip()))

    def backoff_s(self, attempts: int) -> int:
        """The delay after ``attempts`` failed attempts."""
        return int(min(self.retry_backoff_s * 2 ** max(attempts - 1, 0), self.retry_backoff_max_s))
