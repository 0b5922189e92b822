"""Setting types with what Azure Communication Services accepts built in (used by core.settings)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_HTTPS = re.compile(r"^https://[^/\s?#]+")


def _shown(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _https_url(value: str) -> str:
    value = value.strip()
    if not _HTTPS.match(value):
        raise ValueError(
            f"'{_shown(value)}' is not an https:// URL (e.g. https://<account>.cognitiveservices.azure.com/)"
        )
    return value


def _whole_seconds(value: float) -> float:
    # ACS takes recognizeOptions.initialSilenceTimeoutInSeconds as an integer: a fraction would be lost.
    if value != int(value):
        raise ValueError(f"{value} is not a whole number of seconds (ACS takes whole seconds)")
    return value


HttpsUrl = Annotated[str, AfterValidator(_https_url)]
WholeSeconds = Annotated[float, AfterValidator(_whole_seconds)]


def https_callback_problem(url: str) -> str | None:
    """Why ACS would refuse this callback base URL ("The field CallbackUri is invalid"), if it would."""
    if url.lower().startswith("https://"):
        return None
    return (
        f"ACS__CALLBACK_BASE_URL: '{_shown(url)}' must be an https:// URL with APP_MODE=azure "
        "(ACS posts call events only to HTTPS callback URIs)"
    )
