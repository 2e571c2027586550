"""Which report an issue is made from, what it compares with, its number (期数) and 文号, and the register.

* **Weekly dispatch (周调度)** on a date: the latest report on or before it; compared with the previous
  week's report (the latest on or before the report − 7 days); period the seven days ending on the report.
* **Monthly bulletin (月通报)** on a date: the latest month complete on that date — a month is complete on
  its last Friday (the weekly report day) — made from the month's last report on or before the date and
  compared with the last report of the month before; period the 1st of the month to the report. Before
  any month of the year is complete (its first weeks of reports) the current month is reported, marked interim.
* **Numbers** count within a year from a first issue the office sets (``OfficeSettings.series_start``:
  the report date of the first weekly issue and the month of the first monthly one); a year not set
  starts both series at its first stored report. Weekly: 1 + the stored report dates of the year from the
  first issue's up to the one before this. Monthly: the month − the first month + 1.
* **Register** — every issue made is stored in ``bulletins`` (:func:`register`), keyed by kind and period
  (the report date of a week, the first day of a month); a re-made issue keeps its stored number and
  文号 even when reports or settings have changed since. A number the rule gives that another stored
  issue of the series already holds is replaced by the series' highest stored number + 1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

import duckdb

from analytics import progress
from analytics.checks import check_date
from analytics.errors import DataError, InputError
from analytics.services.auth import User
from analytics.services.bulletin.office import OfficeSettings

log = logging.getLogger(__name__)

Kind = Literal["week", "month"]
KINDS: tuple[str, ...] = ("week", "month")


@dataclass(frozen=True)
class Issue:
    """One issue's dates and numbers.

    ``period`` keys the register (report date of a week, first day of a month); ``interim`` marks a
    monthly issue of a month not yet complete; ``registered`` says the number was read from the register.
    """

    kind: Kind
    year: int
    issue: int
    doc_number: str
    report_date: date
    previous_date: date | None
    period_start: date
    period: date
    plan_year: int
    interim: bool = False
    registered: bool = False

    @property
    def period_end(self) -> date:
        """The last day the issue covers: its report date."""
        return self.report_date


def check_kind(kind: object) -> Kind:
    """``kind`` itself when it is ``"week"`` or ``"month"``; else ``InputError``."""
    if kind not in KINDS:
        raise InputError(f"`kind` was {kind!r} but must be 'week' (周调度) or 'month' (月通报).")
    return kind  # type: ignore[return-value]


def doc_number(prefix: str, year: int, issue: int) -> str:
    """The 文号: ``济旧改指办〔2020〕17号``."""
    return f"{prefix}〔{year}〕{issue}号"


def last_friday(year: int, month: int) -> date:
    """The month's last Friday (the last weekly report day of the month)."""
    end = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return end - timedelta(days=(end.weekday() - progress.REPORT_WEEKDAY) % 7)


def stored_report_dates(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Every stored report date, oldest first."""
    return [r[0] for r in con.execute("SELECT DISTINCT report_date FROM progress_reports ORDER BY 1").fetchall()]


def _month_report(dates: list[date], as_of: date) -> tuple[date, bool]:
    """The report a monthly issue on ``as_of`` is made from, and whether its month is not yet complete.

    Months of the latest report's year only: a year's monthly series (and plan) starts afresh, so before its
    first month is complete the current month is reported, interim — not the last year's December.
    """
    known = [d for d in dates if d <= as_of]
    months = sorted({(d.year, d.month) for d in known if d.year == known[-1].year}, reverse=True)
    for year, month in months:
        if last_friday(year, month) <= as_of:
            return max(d for d in known if (d.year, d.month) == (year, month)), False
    return known[-1], True


def series_start(dates: list[date], year: int, office: OfficeSettings) -> tuple[date, int]:
    """The year's first weekly issue (report date) and first monthly issue (month)."""
    if year in office.series_start:
        return office.series_start[year]
    in_year = [d for d in dates if d.year == year]
    if not in_year:
        raise DataError(f"There is no report in {year}, so its bulletin series has no first issue.",
                        code="bulletin.no_report_in_year", year=year)
    return in_year[0], in_year[0].month


def rule_number(kind: Kind, report_date: date, dates: list[date], office: OfficeSettings) -> int:
    """The issue number the series rule gives the issue made from ``report_date`` (see the module docstring).

    Raises
    ------
    DataError
        ``report_date`` falls before the first issue of its year's series.
    """
    kind = check_kind(kind)
    year = report_date.year
    first_week, first_month = series_start(dates, year, office)
    if kind == "week":
        if report_date < first_week:
            raise DataError(
                f"The weekly series of {year} starts with the report of {first_week}; the report of {report_date} "
                "comes before its first issue — choose a later date or change the series' first issue.",
                code="bulletin.before_weekly_series", year=year, first=first_week, report=report_date,
            )
        return 1 + sum(1 for d in set(dates) if first_week <= d < report_date and d.year == year)
    if report_date.month < first_month:
        raise DataError(
            f"The monthly series of {year} starts in month {first_month}; month {report_date.month} comes before "
            "its first issue — choose a later date or change the series' first issue.",
            code="bulletin.before_monthly_series", year=year, first=first_month, month=report_date.month,
        )
    return report_date.month - first_month + 1


def week_number(con: duckdb.DuckDBPyConnection, report_date: date, office: OfficeSettings) -> int | None:
    """The weekly issue number the report of ``report_date`` gets (stored or not yet: a template's week).

    None when that week comes before the first issue of its year's series.
    """
    stored = con.execute("SELECT issue FROM bulletins WHERE kind = 'week' AND period = ?", [report_date]).fetchone()
    if stored is not None:
        return int(stored[0])
    dates = sorted(set(stored_report_dates(con)) | {report_date})
    try:
        return rule_number("week", report_date, dates, office)
    except DataError:
        return None


def _registered(con: duckdb.DuckDBPyConnection, kind: str, period: date) -> tuple[int, str] | None:
    row = con.execute("SELECT issue, doc_number FROM bulletins WHERE kind = ? AND period = ?", [kind, period]).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def issue_for(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    kind: Kind,
    office: OfficeSettings,
    plan_year: int | None = None,
) -> Issue:
    """The issue of ``kind`` on ``as_of``: its report, comparison report, period, number and 文号.

    Parameters
    ----------
    con
        Open project database.
    as_of
        The date the issue is made for.
    kind
        ``"week"`` (周调度) or ``"month"`` (月通报).
    office
        The office's settings (series start, 文号 prefix).
    plan_year
        Annual plan batch; default the report's year.

    Raises
    ------
    InputError
        ``kind`` unknown, ``as_of`` not a date.
    DataError
        No report on or before ``as_of``; the report falls before the year's first issue.
    """
    kind = check_kind(kind)
    as_of = check_date(as_of)
    dates = stored_report_dates(con)
    known = [d for d in dates if d <= as_of]
    if not known:
        # the same refusal the progress tables give (no report at all / none yet on that date)
        progress.reference_dates(con, as_of=as_of, plan_year=plan_year)
        raise DataError(f"There is no progress report on or before `as_of` {as_of}.")
    if kind == "week":
        target, interim = known[-1], False
    else:
        target, interim = _month_report(dates, as_of)
    refs = progress.reference_dates(con, as_of=target, plan_year=plan_year or target.year)
    report = refs.report
    previous = refs.week if kind == "week" else refs.month
    if kind == "week":
        period_start, period = report - timedelta(days=6), report
    else:
        period_start = period = report.replace(day=1)
    stored = _registered(con, kind, period)
    if stored is not None:
        number, text = stored
    else:
        number = rule_number(kind, report, dates, office)
        highest, held = con.execute(
            "SELECT max(issue), count(*) FILTER (WHERE issue = ?) FROM bulletins WHERE kind = ? AND year = ? "
            "AND period <> ?", [number, kind, report.year, period]).fetchall()[0]
        if held:
            log.warning("%s issue %d of %d is already held by another period; numbered %d", kind, number,
                        report.year, highest + 1)
            number = int(highest) + 1
        text = doc_number(office.doc_prefix, report.year, number)
    return Issue(kind=kind, year=report.year, issue=number, doc_number=text, report_date=report,
                 previous_date=previous, period_start=period_start, period=period,
                 plan_year=plan_year or report.year, interim=interim, registered=stored is not None)


def register(con: duckdb.DuckDBPyConnection, issue: Issue, *, user: User | None = None,
             now: datetime | None = None) -> Issue:
    """Store ``issue`` as made (or, when its period is already stored, record the new making time).

    The stored number and 文号 are kept; the returned issue carries them. Not an edit of the data, so not
    in the audit log (the register is its own log: first and last made, by whom).
    """
    stamp = now or datetime.now()
    con.execute(
        """INSERT INTO bulletins (kind, period, year, issue, doc_number, report_date, previous_date, first_made_at,
                                  made_at, made_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (kind, period) DO UPDATE SET report_date = excluded.report_date,
               previous_date = excluded.previous_date, made_at = excluded.made_at, made_by = excluded.made_by""",
        [issue.kind, issue.period, issue.year, issue.issue, issue.doc_number, issue.report_date, issue.previous_date,
         stamp, stamp, None if user is None else user.username],
    )
    stored = _registered(con, issue.kind, issue.period)
    if stored is None:  # pragma: no cover - the row was written just above
        raise DataError(f"The {issue.kind} issue of {issue.period} could not be registered.")
    return replace(issue, issue=stored[0], doc_number=stored[1], registered=True)
