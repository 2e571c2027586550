"""Bounded log lines: a message longer than ``settings.LOG_LINE_MAX_CHARS`` is cut before any handler sees it.

Log messages quote what users typed or uploaded (file names, usernames, values); without a bound one
request could write megabytes to the service log. :func:`install` wraps the process's log record factory
once, so every logger — ours and the libraries' — is covered, whatever handler writes the line.
"""

from __future__ import annotations

import logging

from analytics import settings


def cap(message: str, limit: int | None = None) -> str:
    """``message`` cut to ``limit`` characters (default ``settings.LOG_LINE_MAX_CHARS``), saying how much was cut."""
    limit = settings.LOG_LINE_MAX_CHARS if limit is None else limit
    if len(message) <= limit:
        return message
    return f"{message[:limit]}… [{len(message) - limit:,} more characters cut]"


def install() -> None:
    """Cut every log message of this process to ``settings.LOG_LINE_MAX_CHARS`` (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_caps_messages", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the logging module's to report
            return record
        if len(message) > settings.LOG_LINE_MAX_CHARS:
            record.msg, record.args = cap(message), ()
        return record

    setattr(factory, "_caps_messages", True)  # noqa: B010 - marks the wrapper as installed
    logging.setLogRecordFactory(factory)
