"""The weekly dispatch and monthly bulletin (周调度、月通报) written from the data, as DOCX and PDF.

:func:`build_bulletin` reads one period from the store (``analytics.progress``: ``county_progress``,
``behind_schedule``, ``weekly_series``, issue numbers) and :func:`compose` turns those frames into a
:class:`Bulletin`: title 济宁市老旧小区改造工作周调度/月通报（YYYY年第N期）, issuing office, period, a
summary whose every sentence is written from the figures (开工率, 完工率, investment and the change since
the last period), the county ranking table, the counties praised and criticised (督导评价: top three and
bottom three by the ranking indicator), and the compounds behind schedule. ``bulletin.docx.to_docx``
and ``bulletin.pdf.to_pdf`` lay it out (charts are PNG images passed in by the caller; fonts for the PDF
too — nothing here renders or probes system fonts).

Both outputs mark demo data on every page. Numbers in the document are the ``county_progress`` figures
rounded for print: rates to 0.1 percentage point, money to 0.01 万元.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, cast

import duckdb
import pandas as pd

from analytics import progress as progress_mod
from analytics import settings
from analytics.errors import InputError
from analytics.progress import RankBy

log = logging.getLogger(__name__)

Kind = Literal["week", "month"]

OFFICE = "济宁市老旧小区改造工作指挥部办公室"
KIND_NAMES: dict[str, str] = {"week": "周调度", "month": "月通报"}
SINCE: dict[str, str] = {"week": "较上周", "month": "较上月"}
INDICATOR_NAMES: dict[str, str] = {
    "start_rate_compounds": "开工率",
    "start_rate_households": "开工率（按户数）",
    "completion_rate": "完工率",
    "invest_rate": "投资完成率",
}
DEMO_MARK = "演示数据（非真实统计，不得对外报送）"
STATUS_ORDER = tuple(settings.STATUSES)
BEHIND_REASON_NAMES = {code: zh for code, (zh, _en) in progress_mod.BEHIND_REASONS.items()}

PROGRESS_COLUMNS = (
    "unit_code", "name", "kind", "planned_compounds", "planned_households", "planned_floor_area_m2",
    "planned_invest_wan", "approved", "started", "completed", "started_households", "start_rate_compounds",
    "start_rate_households", "completion_rate", "invest_done_wan", "invest_rate", "rank", "top_three",
    "bottom_three", "below_city_average",
)


@dataclass(frozen=True)
class ChartImage:
    """A chart for the document: caption (e.g. "各县区开工率、完工率") and PNG bytes."""

    caption: str
    png: bytes


@dataclass(frozen=True)
class Bulletin:
    """Everything one issue of the dispatch/bulletin says, before layout."""

    kind: Kind
    year: int
    issue: int
    as_of: date
    report_date: date
    previous_date: date | None
    period_start: date
    period_end: date
    rank_by: str
    is_demo: bool
    summary: list[str]
    praise: str
    criticism: str
    behind_summary: str
    progress: pd.DataFrame = field(repr=False)
    behind: pd.DataFrame = field(repr=False)
    series: pd.DataFrame | None = field(default=None, repr=False)
    office: str = OFFICE

    @property
    def title(self) -> str:
        """济宁市老旧小区改造工作周调度 or …月通报."""
        return f"济宁市老旧小区改造工作{KIND_NAMES[self.kind]}"

    @property
    def issue_text(self) -> str:
        """The issue line, e.g. （2020年第26期）."""
        return f"（{self.year}年第{self.issue}期）"

    @property
    def full_title(self) -> str:
        """Title and issue line together."""
        return self.title + self.issue_text

    @property
    def period_text(self) -> str:
        """The period covered, e.g. 11月1日至11月27日."""
        return f"{date_text(self.period_start)}至{date_text(self.period_end)}"

    @property
    def file_stem(self) -> str:
        """A file name without extension, e.g. ``济宁市老旧小区改造工作周调度_2020年第26期``."""
        return f"{self.title}_{self.year}年第{self.issue}期"

    @property
    def praised(self) -> list[str]:
        """Names of the units praised (top three by the ranking indicator)."""
        return list(_units(self.progress).loc[lambda f: f["top_three"], "name"])

    @property
    def criticised(self) -> list[str]:
        """Names of the units criticised (bottom three by the ranking indicator)."""
        return list(_criticised(self.progress)["name"])


# ------------------------------------------------------------------------------------------ wording


def date_text(day: date) -> str:
    """``2020年6月26日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def pct(fraction: float) -> str:
    """A fraction 0–1 as a percentage with one decimal, e.g. ``0.7794`` -> ``"77.9%"``."""
    return "—" if _missing(fraction) else f"{fraction * 100:.1f}%"


def pct_number(fraction: float) -> str:
    """Like :func:`pct` without the sign (table cells under a "(%)" header)."""
    return "—" if _missing(fraction) else f"{fraction * 100:.1f}"


def change_text(change: float, since: str) -> str:
    """A fraction-point change as words: ``"较上周提高5.9个百分点"``, ``"与上周持平"``; empty if unknown."""
    if _missing(change):
        return ""
    points = round(change * 100, 1)
    if points > 0:
        return f"{since}提高{points:.1f}个百分点"
    if points < 0:
        return f"{since}下降{-points:.1f}个百分点"
    return f"与{since[1:]}持平"


def money_text(wan: float) -> str:
    """万元 amounts in words: ``1.51亿元`` from 10,000 万元 up, else ``9,876.54万元``."""
    if _missing(wan):
        return "—"
    return f"{wan / 1e4:.2f}亿元" if abs(wan) >= 1e4 else f"{wan:,.2f}万元"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _join(names: Iterable[str]) -> str:
    return "、".join(names)


def _units(progress: pd.DataFrame) -> pd.DataFrame:
    return progress[progress["kind"] != "city"]


def _city(progress: pd.DataFrame) -> pd.Series:
    city = progress[progress["kind"] == "city"]
    if city.empty:
        raise InputError("`progress` has no city-total row (kind 'city'); pass a frame from `county_progress`.")
    return city.iloc[0]


def _criticised(progress: pd.DataFrame) -> pd.DataFrame:
    units = _units(progress)
    return units[units["bottom_three"] & ~units["top_three"]].sort_values(["rank", "unit_code"], ascending=[False, True])


def _ranked_names(units: pd.DataFrame, rank_by: str) -> str:
    return _join(f"{row['name']}（{pct(row[rank_by])}）" for _, row in units.iterrows())


def summary_sentences(progress: pd.DataFrame, *, kind: Kind, report_date: date, rank_by: str,
                      plan_year: int | None = None) -> list[str]:
    """The summary paragraphs, every figure taken from ``progress`` (a ``county_progress`` frame).

    Returns
    -------
    list of str
        Plan and status of the city; outputs (elevators, parking, chargers, facilities, pipes); the ranking.
    """
    city = _city(progress)
    since = SINCE[kind]
    suffix = "week" if kind == "week" else "month"
    year = plan_year or report_date.year
    plan = (
        f"截至{date_text(report_date)}，全市{year}年度计划改造老旧小区{int(city['planned_compounds'])}个、"
        f"{city['planned_households'] / 1e4:.2f}万户、建筑面积{city['planned_floor_area_m2'] / 1e4:.1f}万平方米，"
        f"计划总投资{money_text(city['planned_invest_wan'])}。"
    )
    parts = [
        f"已立项{int(city['approved'])}个",
        f"已开工{int(city['started'])}个、{int(city['started_households'])}户，开工率{pct(city['start_rate_compounds'])}"
        f"（按户数{pct(city['start_rate_households'])}）"
        + _comma(change_text(city[f"start_rate_compounds_chg_{suffix}"], since)),
        f"已完工{int(city['completed'])}个，完工率{pct(city['completion_rate'])}"
        + _comma(change_text(city[f"completion_rate_chg_{suffix}"], since)),
        f"累计完成投资{money_text(city['invest_done_wan'])}，投资完成率{pct(city['invest_rate'])}"
        + _comma(change_text(city[f"invest_rate_chg_{suffix}"], since)),
    ]
    status = "；".join(parts) + "。"
    if _missing(city[f"start_rate_compounds_chg_{suffix}"]):
        status += f"（本期为{year}年度首次统计，无上期数据可比。）" if kind == "week" else "（上月无数据可比。）"
    outputs = (
        f"累计加装电梯{int(city['elevators_added'])}部，新增停车位{int(city['parking_spaces'])}个、"
        f"充电设施{int(city['chargers'])}个、养老托育等服务设施{int(city['facilities_added'])}处，"
        f"改造各类管网{float(city['pipes_km']):.1f}公里。"
    )
    units = _units(progress)
    indicator = INDICATOR_NAMES[rank_by]
    top = units[units["top_three"]].sort_values(["rank", "unit_code"])
    below = units[units["below_city_average"]].sort_values(["rank", "unit_code"])
    ranking = f"按{indicator}排名，{_ranked_names(top, rank_by)}位列前三"
    bottom = _criticised(progress).sort_values(["rank", "unit_code"])
    if not bottom.empty:
        ranking += f"；{_ranked_names(bottom, rank_by)}排名后三位"
    if not below.empty:
        ranking += f"；{_join(below['name'])}共{len(below)}个县（市、区）{indicator}低于全市平均水平（{pct(city[rank_by])}）"
    else:
        ranking += f"；各县（市、区）{indicator}均不低于全市平均水平（{pct(city[rank_by])}）"
    return [plan + status, outputs, ranking + "。"]


def _comma(text: str) -> str:
    return f"，{text}" if text else ""


def evaluation_sentences(progress: pd.DataFrame, *, rank_by: str) -> tuple[str, str]:
    """督导评价: the praise sentence (top three) and the criticism sentence (bottom three)."""
    units = _units(progress)
    indicator = INDICATOR_NAMES[rank_by]
    top = units[units["top_three"]].sort_values(["rank", "unit_code"])
    if top.empty:
        praise = "本期无排名，不作通报表扬。"
    else:
        praise = f"对{indicator}位列全市前三的{_ranked_names(top, rank_by)}予以通报表扬。"
    bottom = _criticised(progress).sort_values(["rank", "unit_code"])
    if bottom.empty:
        criticism = f"各县（市、区）{indicator}相当，本期不作通报批评。"
    else:
        criticism = (f"对{indicator}排名全市后三位、进展缓慢的{_ranked_names(bottom, rank_by)}予以通报批评，"
                     "请以上县（市、区）认真查找原因，倒排工期、挂图作战，确保完成年度目标任务。")
    return praise, criticism


def behind_sentence(behind: pd.DataFrame, names: dict[str, str]) -> str:
    """How many compounds are behind schedule, why, and the one furthest behind."""
    if behind.empty:
        return "全市计划内小区均按计划节点推进，无滞后项目。"
    reasons = behind["reason"].str.split(";")
    start = int(reasons.map(lambda r: "start_overdue" in r).sum())
    completion = int(reasons.map(lambda r: "completion_overdue" in r).sum())
    kinds = []
    if start:
        kinds.append(f"{start}个超过计划开工日期仍未开工")
    if completion:
        kinds.append(f"{completion}个超过计划完工日期仍未完工")
    worst = behind.sort_values(["days_late", "compound_id"], ascending=[False, True]).iloc[0]
    return (f"全市共有{len(behind)}个小区未按计划节点推进，其中{'、'.join(kinds)}；滞后时间最长的是"
            f"{names.get(worst['unit_code'], worst['unit_code'])}{worst['name']}（{int(worst['days_late'])}天）。"
            "请有关县（市、区）督促加快推进，按期完成。")


# ------------------------------------------------------------------------------------------ tables

RANKING_HEADERS: tuple[str, ...] = (
    "排名", "县（市、区）", "计划（个）", "开工（个）", "开工率（%）", "完工（个）", "完工率（%）",
    "完成投资（万元）", "投资完成率（%）",
)
BEHIND_HEADERS: tuple[str, ...] = (
    "序号", "县（市、区）", "小区名称", "状态", "计划开工", "计划完工", "滞后（天）", "滞后原因",
)
MAX_BEHIND_ROWS = 50  # compounds behind schedule listed in a document; the rest are counted in a note


def _rank_text(rank) -> str:
    return "—" if _missing(rank) else str(int(rank))


def _rank_change_text(change) -> str:
    if _missing(change) or change == 0:
        return "—"
    return f"↑{int(change)}" if change > 0 else f"↓{int(-change)}"


def ranking_headers(kind: Kind, rank_by: str) -> list[str]:
    """Headers of the ranking table: the fixed columns, the change of the ranking indicator, rank change."""
    since = "较上周" if kind == "week" else "较上月"
    headers = [*RANKING_HEADERS, f"{INDICATOR_NAMES[rank_by]}{since}变化（百分点）"]
    if kind == "week":
        headers.append("排名变化")
    return headers


def ranking_rows(progress: pd.DataFrame, *, kind: Kind, rank_by: str) -> list[list[str]]:
    """The ranking table's cells as printed: units in rank order (ties by official order), city row last."""
    units = _units(progress).copy()
    units["_order"] = range(len(units))
    units = units.sort_values(["rank", "_order"], na_position="last")
    suffix = "week" if kind == "week" else "month"
    change_col = f"{rank_by}_chg_{suffix}" if f"{rank_by}_chg_{suffix}" in progress else None
    rows = []
    for _, row in [*units.iterrows(), (None, _city(progress))]:
        is_city = row["kind"] == "city"
        change = row[change_col] if change_col else float("nan")
        cells = [
            "—" if is_city else _rank_text(row["rank"]),
            "全市" if is_city else str(row["name"]),
            str(int(row["planned_compounds"])),
            str(int(row["started"])),
            pct_number(row["start_rate_compounds"]),
            str(int(row["completed"])),
            pct_number(row["completion_rate"]),
            f"{row['invest_done_wan']:,.2f}",
            pct_number(row["invest_rate"]),
            "—" if _missing(change) else f"{change * 100:+.1f}",
        ]
        if kind == "week":
            cells.append("—" if is_city else _rank_change_text(row.get("rank_chg_week")))
        rows.append(cells)
    return rows


def ranking_note(bulletin: Bulletin) -> str:
    """The note under the ranking table: indicator, ties, and the report the changes compare with."""
    previous = f"（{date_text(bulletin.previous_date)}）" if bulletin.previous_date else ""
    since = "上周" if bulletin.kind == "week" else "上月"
    return f"注：按{INDICATOR_NAMES[bulletin.rank_by]}排名，并列者名次相同；变化为与{since}{previous}相比。"


def behind_rows(behind: pd.DataFrame, names: dict[str, str], *, max_rows: int | None = None) -> list[list[str]]:
    """The behind-schedule table's cells, furthest behind first (``max_rows`` caps the list)."""
    frame = behind.sort_values(["days_late", "compound_id"], ascending=[False, True])
    if max_rows is not None:
        frame = frame.head(max_rows)
    rows = []
    for i, (_, row) in enumerate(frame.iterrows(), start=1):
        reasons = "；".join(BEHIND_REASON_NAMES.get(r, r) for r in str(row["reason"]).split(";") if r)
        rows.append([
            str(i), names.get(row["unit_code"], str(row["unit_code"])), str(row["name"]), str(row["status"]),
            _day(row["planned_start_date"]), _day(row["planned_completion_date"]), str(int(row["days_late"])),
            reasons,
        ])
    return rows


def _day(value) -> str:
    if _missing(value) or value is pd.NaT or (hasattr(value, "year") and pd.isna(value)):
        return "—"
    return pd.Timestamp(value).strftime("%Y-%m-%d")


# -------------------------------------------------------------------------------------- composition


def _check_kind(kind: object) -> Kind:
    if kind not in KIND_NAMES:
        raise InputError(f"`kind` was {kind!r} but must be 'week' (周调度) or 'month' (月通报).")
    return kind  # type: ignore[return-value]


def choose_rank_by(progress: pd.DataFrame) -> str:
    """开工率 while the city has compounds still to start; 完工率 once all have started (开工率 all 100 %)."""
    city = _city(progress)
    return "completion_rate" if city["start_rate_compounds"] >= 1 else "start_rate_compounds"


def compose(
    progress: pd.DataFrame,
    behind: pd.DataFrame,
    *,
    kind: Kind,
    as_of: date,
    report_date: date,
    previous_date: date | None,
    issue: int,
    rank_by: str,
    is_demo: bool,
    series: pd.DataFrame | None = None,
    plan_year: int | None = None,
) -> Bulletin:
    """A :class:`Bulletin` from a ``county_progress`` frame and a ``behind_schedule`` frame.

    Parameters
    ----------
    progress
        ``county_progress`` for the period, ranked by ``rank_by`` (contract columns).
    behind
        ``behind_schedule`` for the same ``as_of``.
    kind
        ``"week"`` (周调度: changes since the week before) or ``"month"`` (月通报: since a month before).
    as_of, report_date, previous_date
        The date asked for, the report used, and the report changes are measured against (or None).
    issue
        第N期.
    rank_by
        The indicator ``progress`` was ranked by (names the ranking and the 督导评价).
    is_demo
        Mark every page as demo data.
    series
        ``weekly_series`` of the plan year (for the trend chart), optional.
    """
    kind = _check_kind(kind)
    missing = [c for c in PROGRESS_COLUMNS if c not in progress.columns]
    if missing:
        raise InputError(f"`progress` lacks the columns {missing!r}; pass a frame from `county_progress`.")
    if rank_by not in INDICATOR_NAMES:
        raise InputError(f"`rank_by` was {rank_by!r} but must be one of {tuple(INDICATOR_NAMES)!r}.")
    if kind == "week":
        period_start = report_date - timedelta(days=6)
    else:
        period_start = report_date.replace(day=1)
    names = dict(zip(progress["unit_code"], progress["name"]))
    praise, criticism = evaluation_sentences(progress, rank_by=rank_by)
    return Bulletin(
        kind=kind, year=report_date.year, issue=int(issue), as_of=as_of, report_date=report_date,
        previous_date=previous_date, period_start=period_start, period_end=report_date, rank_by=rank_by,
        is_demo=bool(is_demo),
        summary=summary_sentences(progress, kind=kind, report_date=report_date, rank_by=rank_by, plan_year=plan_year),
        praise=praise, criticism=criticism, behind_summary=behind_sentence(behind, names),
        progress=progress, behind=behind, series=series,
    )


def build_bulletin(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    kind: Kind,
    plan_year: int | None = None,
    rank_by: RankBy | None = None,
) -> Bulletin:
    """Read one period from the store and compose its bulletin.

    Parameters
    ----------
    con
        Open project database.
    as_of
        The bulletin's date: the latest weekly report on or before it is used.
    kind
        ``"week"`` (周调度) or ``"month"`` (月通报).
    plan_year
        Annual plan batch; default ``as_of.year``.
    rank_by
        Ranking indicator; default 开工率 while compounds remain to start, then 完工率.

    Raises
    ------
    InputError
        ``kind`` or ``rank_by`` unknown, ``as_of`` not a date.
    DataError
        No progress report on or before ``as_of`` (from ``analytics.progress``).
    """
    kind = _check_kind(kind)
    if rank_by is not None and rank_by not in INDICATOR_NAMES:
        raise InputError(f"`rank_by` was {rank_by!r} but must be one of {tuple(INDICATOR_NAMES)!r} or None.")
    progress = progress_mod.county_progress(con, as_of=as_of, plan_year=plan_year,
                                            rank_by=rank_by or "start_rate_compounds")
    if rank_by is None:
        rank_by = cast(RankBy, choose_rank_by(progress))
        if rank_by != "start_rate_compounds":
            progress = progress_mod.county_progress(con, as_of=as_of, plan_year=plan_year, rank_by=rank_by)
    refs = progress_mod.reference_dates(con, as_of=as_of, plan_year=plan_year)
    behind = progress_mod.behind_schedule(con, as_of=as_of, plan_year=plan_year)
    periods = progress_mod.report_periods(con)
    issue = progress_mod.issue_number(refs.report, kind=kind, report_dates=list(periods["report_date"]))
    year = plan_year or as_of.year
    series = progress_mod.weekly_series(con, plan_year=year)
    series = series[pd.to_datetime(series["report_date"]).dt.date <= refs.report].reset_index(drop=True)
    info = dict(con.execute("SELECT key, value FROM dataset_info").fetchall())
    bulletin = compose(
        progress, behind, kind=kind, as_of=as_of, report_date=refs.report,
        previous_date=refs.week if kind == "week" else refs.month, issue=issue, rank_by=rank_by,
        is_demo=info.get("is_demo") == "true", series=series, plan_year=year,
    )
    log.info("bulletin %s: report %s, %d units, %d behind", bulletin.full_title, refs.report,
             len(_units(progress)), len(behind))
    return bulletin
