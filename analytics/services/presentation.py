"""The presentation's slides (汇报模式): which are shown and in what order, an administrator's setting.

The slides themselves are drawn by the dashboard; here is only their list. With nothing stored the
default ``settings.PRESENTATION_SLIDES`` is shown; an administrator's list is stored in the table
``presentation_slides`` (audited) and wins, less any slide the dashboard no longer has.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import duckdb

from analytics import settings
from analytics.errors import InputError
from analytics.services.auth import User, require
from analytics.store import audit

log = logging.getLogger(__name__)


def check_slides(slides: Sequence[str], *, known: Sequence[str] = settings.PRESENTATION_SLIDES) -> list[str]:
    """``slides`` as a list, after checking it names at least one slide, only ``known`` ones, each once."""
    slides = list(slides)
    unknown = [s for s in slides if s not in known]
    if unknown:
        raise InputError(f"`slides` has {unknown!r}, which are not slides; choose from {list(known)!r}.",
                         code="presentation.unknown", slides=unknown)
    twice = sorted({s for s in slides if slides.count(s) > 1})
    if twice:
        raise InputError(f"`slides` lists {twice!r} more than once; list each slide once.",
                         code="presentation.twice", slides=twice)
    if not slides:
        raise InputError("`slides` was empty but a presentation needs at least one slide.", code="presentation.empty")
    return slides


def load_slides(con: duckdb.DuckDBPyConnection, *, known: Sequence[str] = settings.PRESENTATION_SLIDES) -> list[str]:
    """The slides in force, in order: the administrator's list (less slides not ``known``), else the default."""
    stored = [row[0] for row in con.execute("SELECT slide FROM presentation_slides ORDER BY position").fetchall()]
    kept = [s for s in stored if s in known]
    if len(kept) < len(stored):
        log.warning("presentation_slides names slides that no longer exist: %s", sorted(set(stored) - set(kept)))
    return kept or list(known)


def save_slides(con: duckdb.DuckDBPyConnection, slides: Sequence[str], *, user: User | None,
                known: Sequence[str] = settings.PRESENTATION_SLIDES) -> list[str]:
    """Store ``slides`` (in order) as the presentation's slides; administrators only, audited, all or nothing.

    The default list is stored as no list, so a later default (a new slide) reaches it.

    Raises
    ------
    PermissionDenied
        ``user`` may not change settings.
    InputError
        An empty list, an unknown slide or one listed twice (nothing is stored).
    """
    user = require(user, "configure")
    slides = check_slides(slides, known=known)
    keep = slides != list(known)
    stamp = datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM presentation_slides")
        if keep:
            con.executemany("INSERT INTO presentation_slides VALUES (?, ?, ?, ?)",
                            [[i, slide, stamp, user.username] for i, slide in enumerate(slides)])
        audit.record(con, username=user.username, action="presentation_slides", table_name="presentation_slides",
                     rows_written=len(slides) if keep else 0, detail={"slides": slides})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info("presentation slides set by %s: %s", user.username, slides)
    return slides
