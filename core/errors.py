"""The product's errors: one tree, each error knowing the HTTP status an entry point answers with.

Adapters translate their SDK's errors into these, so nothing outside ``core/adapters/`` ever looks at
an SDK exception. Entry points map an error with one lookup (``error.status``)::

    ProductError                     base; 500
    ├── InvalidInputError            400  the input is wrong; ``problems`` names each field
    ├── UnauthorizedError            401  authentication failed; nothing was changed
    ├── NotFoundError                404  the thing asked for does not exist
    ├── ConcurrencyError             409  a conditional write kept conflicting
    ├── ContentFilteredError         422  the model provider's content filter refused the input
    ├── ConfigurationError           500  settings missing or invalid (raised at start-up)
    │   └── ModelNotConfiguredError  503  no chat model endpoint is configured
    └── DependencyError              502  an outside service failed
        ├── TelephonyError           502  ACS Call Automation failed; transient (5xx, timeout)
        │   ├── CallGone             410  the call no longer exists (the caller hung up); permanent
        │   └── TelephonyRefused     502  ACS refused the action (a 4xx, e.g. placing the call)
        ├── ModelUnavailable         503  every configured model failed, after retries and fallback
        └── StoreUnavailable         503  the call store, inbox or queue could not be reached
"""

from __future__ import annotations

from typing import ClassVar


class ProductError(Exception):
    """Base of every error a caller of core can act on."""

    status: ClassVar[int] = 500

    def __init__(self, message: str = "", problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


# The name earlier code used for the base.
DomainError = ProductError


class InvalidInputError(ProductError):
    """The input is wrong; the message says what and why, ``problems`` lists each one."""

    status = 400

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message, problems or [message])


class UnauthorizedError(ProductError):
    """Authentication failed; nothing was changed."""

    status = 401


class NotFoundError(ProductError):
    """The thing asked for does not exist."""

    status = 404


class ConcurrencyError(ProductError):
    """A conditional write kept conflicting beyond the retry budget."""

    status = 409


class ContentFilteredError(ProductError):
    """The model provider's content filter refused the prompt or the answer; never re-sent."""

    status = 422


class ConfigurationError(ProductError, RuntimeError):
    """Start-up configuration is missing or invalid; the message names every faulty setting."""


class ModelNotConfiguredError(ConfigurationError):
    """No chat model endpoint is configured."""

    status = 503


class DependencyError(ProductError):
    """An outside service failed."""

    status = 502


class TelephonyError(DependencyError):
    """ACS Call Automation failed. A bare TelephonyError is transient (a 5xx, a timeout, the service
    unreachable): the action may be retried. ``acs_status`` and ``acs_code`` are what ACS answered
    (HTTP status, and the ``error.code`` of its body), when it answered."""

    def __init__(
        self, message: str = "", *, acs_status: int | None = None, acs_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.acs_status = acs_status
        self.acs_code = acs_code


class CallGone(TelephonyError):
    """The call connection no longer exists (the caller hung up): not an error for the flow, whose
    CallDisconnected finalizes the call."""

    status = 410


class TelephonyRefused(TelephonyError):
    """ACS refused the action (placing, answering, playing, transferring)."""


class ModelUnavailable(DependencyError):
    """Every configured model failed, after retries and the fallback."""

    status = 503


class StoreUnavailable(DependencyError):
    """The call store, the event inbox or a queue could not be reached."""

    status = 503
