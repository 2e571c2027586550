"""The office's settings for its dispatch and bulletin: 文号 prefix, distribution, 督导评价 rule, series, layout.

Defaults are in ``analytics.settings`` (``BULLETIN_*``); an administrator's changes are stored in the
``office_settings`` table (one JSON value per key) and win over the defaults. :func:`load` gives the
settings in force, :func:`save` stores an administrator's edit (checked, audited, all or nothing).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any, Literal

import duckdb

from analytics import settings
from analytics.errors import InputError
from analytics.services.auth import User, require
from analytics.store import audit

log = logging.getLogger(__name__)

RankingTables = Literal["one", "two"]
DISTRIBUTION_LABELS: tuple[str, ...] = ("报", "送", "抄送", "发")
CHINESE_NUMERALS = "零一二三四五六七八九十"


@dataclass(frozen=True)
class OfficeSettings:
    """What the office decides about its documents (defaults: ``analytics.settings.BULLETIN_*``).

    Attributes
    ----------
    doc_prefix
        机关代字 of the 文号 line: ``济旧改指办`` gives 济旧改指办〔2020〕17号.
    distribution
        The block at the end, ``(label, recipients)`` in order; label one of 报, 送, 抄送, 发.
    series_start
        Year -> (report date of the weekly series' first issue, month of the monthly series' first issue).
    praise_top_n, criticise_bottom_n
        The top N units by the ranking indicator are praised, the bottom N criticised (0: nobody).
    criticise_below_average_pp
        Units at least this many percentage points below the city's rate are criticised too (None: no).
    small_unit_compounds
        A unit with fewer compounds in its annual task is marked in the ranking.
    ranking_tables
        ``"one"`` table of counties and function zones together, or ``"two"`` (each ranked on its own).
    payment_gap_pp
        A unit whose payment rate is this many points below its investment completion rate pays slowly.
    """

    doc_prefix: str = settings.BULLETIN_DOC_PREFIX
    distribution: tuple[tuple[str, str], ...] = settings.BULLETIN_DISTRIBUTION
    series_start: dict[int, tuple[date, int]] = field(default_factory=lambda: dict(settings.BULLETIN_SERIES_START))
    praise_top_n: int = settings.BULLETIN_PRAISE_TOP_N
    criticise_bottom_n: int = settings.BULLETIN_CRITICISE_BOTTOM_N
    criticise_below_average_pp: float | None = settings.BULLETIN_CRITICISE_BELOW_AVERAGE_PP
    small_unit_compounds: int = settings.BULLETIN_SMALL_UNIT_COMPOUNDS
    ranking_tables: RankingTables = settings.BULLETIN_RANKING_TABLES  # type: ignore[assignment]
    payment_gap_pp: float = settings.BULLETIN_PAYMENT_GAP_PP

    def rule_text(self, indicator: str) -> str:
        """The 督导评价 rule in words, e.g. ``按开工率排名，前三名通报表扬，后三名通报批评``."""
        parts = [f"按{indicator}排名"]
        if self.praise_top_n:
            parts.append("第一名通报表扬" if self.praise_top_n == 1 else f"前{numeral(self.praise_top_n)}名通报表扬")
        else:
            parts.append("不作通报表扬")
        blame = []
        if self.criticise_bottom_n:
            blame.append("末位" if self.criticise_bottom_n == 1 else f"后{numeral(self.criticise_bottom_n)}名")
        if self.criticise_below_average_pp is not None:
            blame.append(f"低于全市平均{self.criticise_below_average_pp:g}个百分点及以上的")
        parts.append(("、".join(blame) + "通报批评") if blame else "不作通报批评")
        return "，".join(parts)


def numeral(n: int) -> str:
    """1–10 in Chinese numerals (三), larger numbers in digits."""
    return CHINESE_NUMERALS[n] if 0 <= n <= 10 else str(n)


# ------------------------------------------------------------------------------------------- checks
def check(office: OfficeSettings) -> OfficeSettings:
    """Raise ``InputError`` for a setting the documents cannot use; return ``office`` unchanged."""
    prefix = office.doc_prefix
    if not isinstance(prefix, str) or not prefix.strip() or len(prefix) > 20 or any(c in prefix for c in "〔〕[]\n"):
        raise InputError(f"`doc_prefix` was {prefix!r} but must be 1–20 characters without brackets, e.g. '济旧改指办'.",
                         code="office.doc_prefix", value=prefix)
    for item in office.distribution:
        if (not isinstance(item, tuple | list) or len(item) != 2 or item[0] not in DISTRIBUTION_LABELS
                or not isinstance(item[1], str) or not item[1].strip() or "\n" in item[1]):
            raise InputError(
                f"`distribution` has {item!r} but each entry must be (label, recipients) with a label of "
                f"{DISTRIBUTION_LABELS!r} and recipients on one line.",
                code="office.distribution", labels=list(DISTRIBUTION_LABELS),
            )
    for year, start in office.series_start.items():
        if (not isinstance(year, int) or len(start) != 2 or not isinstance(start[0], date)
                or start[0].year != year or start[0].weekday() != 4 or not isinstance(start[1], int)
                or not 1 <= start[1] <= 12):
            raise InputError(
                f"`series_start` for {year!r} was {start!r} but must be (a Friday of {year}, a month 1–12), "
                f"e.g. (date({year}, 6, 26), 7).",
                code="office.series_start", year=year,
            )
    for name in ("praise_top_n", "criticise_bottom_n"):
        value = getattr(office, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise InputError(f"`{name}` was {value!r} but must be a whole number from 0 to 10.",
                             code="office.top_bottom_n", value=value)
    below = office.criticise_below_average_pp
    if below is not None and (isinstance(below, bool) or not isinstance(below, int | float) or not 0 < below <= 100):
        raise InputError(f"`criticise_below_average_pp` was {below!r} but must be None or points between 0 and 100.",
                         code="office.points", value=below)
    small = office.small_unit_compounds
    if isinstance(small, bool) or not isinstance(small, int) or not 0 <= small <= 100:
        raise InputError(f"`small_unit_compounds` was {small!r} but must be a whole number from 0 to 100.",
                         code="office.small_unit", value=small)
    if office.ranking_tables not in ("one", "two"):
        raise InputError(f"`ranking_tables` was {office.ranking_tables!r} but must be 'one' or 'two'.",
                         code="office.ranking_tables", value=office.ranking_tables)
    gap = office.payment_gap_pp
    if isinstance(gap, bool) or not isinstance(gap, int | float) or not 0 < gap <= 100:
        raise InputError(f"`payment_gap_pp` was {gap!r} but must be points between 0 and 100.",
                         code="office.points", value=gap)
    return office


# ------------------------------------------------------------------------------------ JSON round trip
def _to_json(name: str, value: Any) -> str:
    if name == "series_start":
        value = {str(y): [d.isoformat(), m] for y, (d, m) in sorted(value.items())}
    elif name == "distribution":
        value = [list(item) for item in value]
    return json.dumps(value, ensure_ascii=False)


def _from_json(name: str, text: str) -> Any:
    value = json.loads(text)
    if name == "series_start":
        return {int(y): (date.fromisoformat(d), int(m)) for y, (d, m) in value.items()}
    if name == "distribution":
        return tuple((str(label), str(who)) for label, who in value)
    return value


def load(con: duckdb.DuckDBPyConnection) -> OfficeSettings:
    """The settings in force: the defaults with the administrator's stored changes applied."""
    rows = con.execute("SELECT key, value FROM office_settings").fetchall()
    names = {f.name for f in fields(OfficeSettings)}
    changes = {}
    for key, value in rows:
        if key not in names:
            log.warning("office_settings has an unknown key %r; ignored", key)
            continue
        try:
            changes[key] = _from_json(key, value)
        except (ValueError, TypeError, KeyError):
            log.warning("office_settings[%r] is unreadable; the default is used", key)
    office = replace(OfficeSettings(), **changes)
    try:
        return check(office)
    except InputError:
        log.warning("office_settings hold an unusable combination; the defaults are used")
        return OfficeSettings()


def save(con: duckdb.DuckDBPyConnection, office: OfficeSettings, *, user: User | None) -> OfficeSettings:
    """Store ``office`` as the settings in force (administrators only); values equal to a default are not kept.

    Raises
    ------
    PermissionDenied
        ``user`` may not change the office's settings.
    InputError
        A value the documents cannot use (nothing is stored).
    """
    user = require(user, "configure")
    check(office)
    default = OfficeSettings()
    stamp = datetime.now()
    changed = {f.name: getattr(office, f.name) for f in fields(OfficeSettings)
               if getattr(office, f.name) != getattr(default, f.name)}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM office_settings")
        for name, value in changed.items():
            con.execute("INSERT INTO office_settings VALUES (?, ?, ?, ?)",
                        [name, _to_json(name, value), stamp, user.username])
        audit.record(con, username=user.username, action="office_settings", table_name="office_settings",
                     rows_written=len(changed), detail={k: json.loads(_to_json(k, v)) for k, v in changed.items()})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info("office settings saved by %s: %s", user.username, sorted(changed))
    return office


def as_dict(office: OfficeSettings) -> dict[str, Any]:
    """The settings as plain values (for a form or a log)."""
    return asdict(office)


def distribution_text(office: OfficeSettings) -> str:
    """The distribution block as an administrator edits it: one ``报：…`` line per entry."""
    return "\n".join(f"{label}：{who}" for label, who in office.distribution)


def parse_distribution(text: str) -> tuple[tuple[str, str], ...]:
    """``报：市委、市政府。`` lines (a full-width or ASCII colon) -> ``(label, recipients)`` entries.

    Blank lines are skipped. Raises ``InputError`` for a line without a label of ``DISTRIBUTION_LABELS``.
    """
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        label, sep, who = line.replace(":", "：", 1).partition("：")
        if not sep or label.strip() not in DISTRIBUTION_LABELS or not who.strip():
            raise InputError(
                f"The distribution line {line!r} must start with one of {DISTRIBUTION_LABELS!r} and a colon.",
                code="office.distribution", labels=list(DISTRIBUTION_LABELS),
            )
        entries.append((label.strip(), who.strip()))
    return tuple(entries)
