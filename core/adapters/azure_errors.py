"""The Azure SDK errors every storage adapter shares, as the port's error: the service could not be
reached (or answered with a server error). Adapter-specific answers (409, 412, 404) are handled where
they mean something, inside this block."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from core.errors import StoreUnavailable


@contextlib.asynccontextmanager
async def unavailable_as(what: str) -> AsyncIterator[None]:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    try:
        yield
    except (ServiceRequestError, ServiceResponseError, OSError, TimeoutError) as exc:
        raise StoreUnavailable(f"{what} is unreachable: {type(exc).__name__}") from exc
    except HttpResponseError as exc:
        # Throttled (429) or timed out (408) after the SDK's own retries: as retryable as a 5xx.
        if (exc.status_code or 0) < 500 and exc.status_code not in (408, 429):
            raise
        raise StoreUnavailable(f"{what} failed: HTTP {exc.status_code}") from exc
