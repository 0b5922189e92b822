"""Domain errors that entry points map to responses."""


class DomainError(Exception):
    """Base of errors a caller of core can act on."""


class NotFoundError(DomainError):
    """The thing asked for does not exist."""


class InvalidInputError(DomainError):
    """The input is wrong; the message says what and why."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class UnauthorizedError(DomainError):
    """Authentication failed; nothing was changed."""


class ConcurrencyError(DomainError):
    """A conditional write kept conflicting beyond the retry budget."""
