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
    """A file could not be imported; nothing was stored. ``problems`` holds the row-level report."""

    def __init__(self, message: str, problems: list[dict] | None = None):
        super().__init__(message)
        self.problems = problems or []


class PermissionDenied(JiugaiError):
    """The signed-in user (or nobody) may not perform this write."""


class DatabaseLocked(JiugaiError):
    """The database file is held by another process."""
