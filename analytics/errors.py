"""Domain exceptions: every one is a ``ValueError`` subclass whose message says what, expected, and fix.

The message is English, for developers and logs. What a user reads comes from ``code`` and ``params``:
the dashboard looks up the label ``error.<code>`` (both languages, in ``dashboard/labels/errors.py``)
and fills it with ``params``; a code without a label falls back to its class's code (``input``,
``data``, …). Codes are dotted by concern (``elevator.custom_zero``, ``progress.no_report_before``).
"""

from __future__ import annotations


class JiugaiError(ValueError):
    """Base class: unusable input or state; pages show it to the user in their language, never a traceback.

    Parameters
    ----------
    message
        One English sentence for developers and logs: what was given, what was expected, how to fix it.
    code
        What went wrong, for the user's label (default: the class's ``code``).
    **params
        Values the user's label shows (numbers, dates, codes; lists are listed).
    """

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code = code or type(self).code
        self.params = params


class InputError(JiugaiError):
    """A function argument (frame, column, CRS, option) is unusable."""

    code = "input"


class CRSError(InputError):
    """A frame has no CRS, or a geographic one where metres are needed."""

    code = "crs"


class DataError(JiugaiError):
    """Stored data is missing or inconsistent (e.g. no progress report for the chosen week)."""

    code = "data"


class ImportRejected(JiugaiError):
    """A file could not be imported; nothing was stored.

    ``problems`` holds the row-level report; ``kind`` names the kind of failure and is the code under
    ``import.`` (e.g. ``"too_large"``, ``"zip_unsafe"``, ``"encoding"``, ``"unreadable"``, ``"empty"``,
    ``"no_geometry"``, ``"crs"``, ``"mapping"``, ``"validation"``).
    """

    code = "import.invalid"

    def __init__(self, message: str, problems: list[dict] | None = None, *, kind: str = "invalid",
                 **params: object) -> None:
        super().__init__(message, code=f"import.{kind}", **params)
        self.problems = problems or []
        self.kind = kind


class PermissionDenied(JiugaiError):
    """The signed-in user (or nobody) may not perform this write."""

    code = "permission"


class SignInFailed(PermissionDenied):
    """Wrong username or password, or a disabled account."""

    code = "sign_in.failed"


class SignInThrottled(SignInFailed):
    """Too many wrong passwords for this username; ``retry_after_s`` says when to try again."""

    code = "sign_in.locked"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, seconds=retry_after_s)
        self.retry_after_s = retry_after_s


class DatabaseLocked(JiugaiError):
    """The database file is held by another process."""

    code = "db_locked"
