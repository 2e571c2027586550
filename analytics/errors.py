"""Domain exceptions: every one is a ``ValueError`` subclass whose message says what, expected, and fix."""

from __future__ import annotations


class JiugaiError(ValueError):
    """Base class: unusable input or state; pages show the message to the user, never a traceback."""


class InputError(JiugaiError):
    """A function argument (frame, column, CRS, option) is unusable."""


class CRSError(InputError):
    """A frame has no CRS, or a geographic one where metres are needed."""


class DataError(JiugaiError):
    """Stored data is missing or inconsistent (e.g. no progress report for the chosen week)."""


class ImportRejected(JiugaiError):
    """A file could not be imported; nothing was stored.

    ``problems`` holds the row-level report; ``kind`` names the kind of failure for the page's label
    (e.g. ``"too_large"``, ``"zip_unsafe"``, ``"encoding"``, ``"unreadable"``, ``"empty"``,
    ``"no_geometry"``, ``"crs"``, ``"mapping"``, ``"validation"``).
    """

    def __init__(self, message: str, problems: list[dict] | None = None, *, kind: str = "invalid"):
        super().__init__(message)
        self.problems = problems or []
        self.kind = kind


class PermissionDenied(JiugaiError):
    """The signed-in user (or nobody) may not perform this write."""


class SignInFailed(PermissionDenied):
    """Wrong username or password, or a disabled account."""


class SignInThrottled(SignInFailed):
    """Too many wrong passwords for this username; ``retry_after_s`` says when to try again."""

    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DatabaseLocked(JiugaiError):
    """The database file is held by another process."""
