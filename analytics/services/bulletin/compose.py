"""The weekly dispatch and monthly bulletin (周调度、月通报) written from the data, as DOCX and PDF.

:func:`build_bulletin` reads one period from the store (``analytics.progress``: ``county_progress``,
``behind_schedule``, ``weekly_series``, issue numbers) and :func:`compose` turns those frames into a
:class:`Bulletin`: title 济宁市老旧小区改造工作周调度/月通报（YYYY年第N期）, issuing office, period, a
summary whose every sentence is written from the figures (开工率, 完工率, investment and the change since
the last period), the county ranking table, the counties praised and criticised (督导评价: top three and
bottom three by the ranking indicator), and the compounds behind schedule. :func:`to_docx` and
:func:`to_pdf` lay it out (charts are PNG images passed in by the caller; fonts for the PDF too — this
module renders nothing and probes no system fonts itself).

Both outputs mark demo data on every page. Numbers in the document are the ``county_progress`` figures
rounded for print: rates to 0.1 percentage point, money to 0.01 万元.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from analytics import progress as progress_mod
from analytics import settings
from analytics.errors import InputError

log = logging.getLogger(__name__)

Kind = Literal["week", "month"]
RankBy = Literal["start_rate_compounds", "start_rate_households", "completion_rate", "invest_rate"]

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

# Word fonts: East Asian face per role, with the names Word/WPS know them by on Windows (fontTable
# entries with the GB2312 charset let Word and WPS substitute a close face where one is missing).
DOCX_FONTS: dict[str, tuple[str, str]] = {
    "title": ("方正小标宋简体", "FZXiaoBiaoSong-B05S"),
    "heading": ("黑体", "SimHei"),
    "body": ("仿宋", "FangSong"),
    "table": ("宋体", "SimSun"),
}
DOCX_LATIN_FONT = "Times New Roman"

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
        return f"济宁市老旧小区改造工作{KIND_NAMES[self.kind]}"

    @property
    def issue_text(self) -> str:
        return f"（{self.year}年第{self.issue}期）"

    @property
    def full_title(self) -> str:
        return self.title + self.issue_text

    @property
    def period_text(self) -> str:
        return f"{date_text(self.period_start)}至{date_text(self.period_end)}"

    @property
    def file_stem(self) -> str:
        """A file name without extension, e.g. ``济宁市老旧小区改造工作周调度_2020年第26期``."""
        return f"{self.title}_{self.year}年第{self.issue}期"

    @property
    def praised(self) -> list[str]:
        return list(_units(self.progress).loc[lambda f: f["top_three"], "name"])

    @property
    def criticised(self) -> list[str]:
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


def _join(names: Sequence[str]) -> str:
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
        rank_by = choose_rank_by(progress)
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


# ------------------------------------------------------------------------------------------- DOCX

MAX_BEHIND_ROWS = 50


def _set_run_font(run, role: str, size_pt: float, *, bold: bool = False, color: str | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    east_asian = DOCX_FONTS[role][0]
    run.font.name = DOCX_LATIN_FONT
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), DOCX_LATIN_FONT)
    fonts.set(qn("w:hAnsi"), DOCX_LATIN_FONT)
    fonts.set(qn("w:hint"), "eastAsia")


def _add_text(container, text: str, role: str, size_pt: float, *, bold: bool = False, color: str | None = None,
              align: str | None = None, indent: bool = False, space_after_pt: float = 0, line_pt: float | None = 28):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    if line_pt:
        fmt.line_spacing = Pt(line_pt)
    fmt.space_after = Pt(space_after_pt)
    fmt.space_before = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size_pt * 2)
    if align:
        fmt.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
    _set_run_font(paragraph.add_run(text), role, size_pt, bold=bold, color=color)
    return paragraph


def _register_docx_fonts(document) -> None:
    """Declare the East Asian fonts in fontTable.xml with the GB2312 charset and their Windows names."""
    from lxml import etree

    part = next((p for p in document.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml"), None)
    if part is None:
        return
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    root = etree.fromstring(part.blob)
    known = {f.get(f"{{{ns}}}name") for f in root.findall(f"{{{ns}}}font")}
    for name, alt in DOCX_FONTS.values():
        if name in known:
            continue
        font = etree.SubElement(root, f"{{{ns}}}font", {f"{{{ns}}}name": name})
        etree.SubElement(font, f"{{{ns}}}altName", {f"{{{ns}}}val": alt})
        etree.SubElement(font, f"{{{ns}}}charset", {f"{{{ns}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{ns}}}family", {f"{{{ns}}}val": "modern" if name == "仿宋" else "auto"})
        etree.SubElement(font, f"{{{ns}}}pitch", {f"{{{ns}}}val": "variable"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number_field(paragraph) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    _set_run_font(paragraph.add_run("— "), "body", 14)
    run = paragraph.add_run()
    _set_run_font(run, "body", 14)
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)
    _set_run_font(paragraph.add_run(" —"), "body", 14)


def _docx_table(document, headers: Sequence[str], rows: Sequence[Sequence[str]], *, size_pt: float,
                widths_mm: Sequence[float]) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_row = table.rows[0]
    tr_pr = header_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    tr_pr.append(repeat)
    for cell, text in zip(header_row.cells, headers):
        cell.paragraphs[0].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_run_font(cell.paragraphs[0].add_run(text), "heading", size_pt)
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values):
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.paragraph_format.line_spacing = Pt(size_pt * 1.3)
            _set_run_font(paragraph.add_run(text), "table", size_pt)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm):
            cell.width = Mm(width)


def to_docx(bulletin: Bulletin, *, charts: Sequence[ChartImage] = (), max_behind_rows: int = MAX_BEHIND_ROWS) -> bytes:
    """The bulletin as a Word document (opens in Word and WPS), GB/T 9704 page and fonts.

    Fonts: title 方正小标宋简体, headings 黑体, body 仿宋 (三号), tables 宋体, numbers Times New Roman,
    each set as the run's East Asian font and declared in the font table with its GB2312 charset so a
    machine without one substitutes a close face. Demo data: a red mark in every page header and under
    the title.
    """
    import docx
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = docx.Document()
    _register_docx_fonts(document)
    normal = document.styles["Normal"]
    normal.font.name = DOCX_LATIN_FONT
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), DOCX_FONTS["body"][0])
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    props = document.core_properties
    props.title = bulletin.full_title
    props.author = bulletin.office
    props.subject = bulletin.period_text
    props.keywords = "演示数据" if bulletin.is_demo else "老旧小区改造"

    section = document.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    if bulletin.is_demo:
        mark = section.header.paragraphs[0]
        mark.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _set_run_font(mark.add_run(DEMO_MARK), "heading", 10.5, color="C0392B")
    footer = section.footer.paragraphs[0]
    footer.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number_field(footer)

    _add_text(document, bulletin.title, "title", 22, bold=True, color="C0392B", align="CENTER", line_pt=36)
    _add_text(document, bulletin.issue_text, "body", 16, align="CENTER", line_pt=28, space_after_pt=6)
    issuer = document.add_paragraph()
    issuer.paragraph_format.tab_stops.add_tab_stop(Mm(156), alignment=2)  # right tab at the text width
    _set_run_font(issuer.add_run(f"{bulletin.office}\t{date_text(bulletin.as_of)}"), "body", 14)
    rule = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "18"), ("space", "1"), ("color", "C0392B")):
        bottom.set(qn(f"w:{key}"), value)
    rule.append(bottom)
    issuer._p.get_or_add_pPr().append(rule)
    if bulletin.is_demo:
        _add_text(document, DEMO_MARK, "heading", 12, color="C0392B", align="CENTER", line_pt=24)
    _add_text(document, f"统计周期：{bulletin.period_text}", "body", 14, align="CENTER", line_pt=28, space_after_pt=6)

    _add_text(document, "一、总体进展", "heading", 16)
    for sentence in bulletin.summary:
        _add_text(document, sentence, "body", 16, indent=True)

    _add_text(document, "二、各县（市、区）进展排名", "heading", 16)
    headers = ranking_headers(bulletin.kind, bulletin.rank_by)
    rows = ranking_rows(bulletin.progress, kind=bulletin.kind, rank_by=bulletin.rank_by)
    widths = [10, 26, 13, 12, 13, 12, 13, 19, 14, 14, 10][: len(headers)]
    _docx_table(document, headers, rows, size_pt=9, widths_mm=widths)
    _add_text(document, ranking_note(bulletin), "body", 10.5, line_pt=18)
    for i, chart in enumerate(charts, start=1):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run().add_picture(io.BytesIO(chart.png), width=Mm(150))
        _add_text(document, f"图{i}  {chart.caption}", "heading", 10.5, align="CENTER", line_pt=18, space_after_pt=6)

    _add_text(document, "三、督导评价", "heading", 16)
    _add_text(document, f"（一）通报表扬。{bulletin.praise}", "body", 16, indent=True)
    _add_text(document, f"（二）通报批评。{bulletin.criticism}", "body", 16, indent=True)

    _add_text(document, "四、进度滞后项目", "heading", 16)
    _add_text(document, bulletin.behind_summary, "body", 16, indent=True)
    names = dict(zip(bulletin.progress["unit_code"], bulletin.progress["name"]))
    behind = behind_rows(bulletin.behind, names, max_rows=max_behind_rows)
    if behind:
        _docx_table(document, BEHIND_HEADERS, behind, size_pt=9, widths_mm=[9, 20, 26, 14, 20, 20, 12, 35])
        if len(bulletin.behind) > len(behind):
            _add_text(document, f"注：另有{len(bulletin.behind) - len(behind)}个滞后小区未列出，详见平台明细。",
                      "body", 10.5, line_pt=18)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# -------------------------------------------------------------------------------------------- PDF


# Line breaking for Chinese text (GB/T 15834 punctuation rules, simplified): these may not start a line …
NO_LINE_START = set("，。、；：？！）》」』】〕…—％%,.;:?!)]}·")
# … and these may not end one.
NO_LINE_END = set("（《「『【〔([{")
_UNBREAKABLE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.,:%+\-/]*|.", re.DOTALL)


def wrap_cjk(text: str, width: float, measure, *, first_indent: float = 0.0) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (``measure(s)`` gives a string's width).

    Numbers and Latin words stay whole ("2.60万户" never splits inside "2.60"), closing punctuation never
    starts a line and opening punctuation never ends one (it moves with its neighbour).
    """
    units: list[str] = []
    for token in _UNBREAKABLE.findall(text):
        if units and (token[0] in NO_LINE_START or units[-1][-1] in NO_LINE_END):
            units[-1] += token
        else:
            units.append(token)
    lines, current, limit = [], "", width - first_indent
    for unit in units:
        if current and measure(current + unit) > limit:
            lines.append(current)
            current, limit = unit, width
        else:
            current += unit
    if current:
        lines.append(current)
    return lines


def _unit_on_own_line(header: str) -> str:
    """"开工率（%）" -> "开工率\n（%）": a narrow header cell breaks before the unit, not inside its brackets."""
    i = header.find("（")
    return f"{header[:i]}\n{header[i:]}" if i > 1 else header


@dataclass(frozen=True)
class PdfFonts:
    """Font files for the PDF: ``regular`` for text, ``bold`` for titles and headings; (path, face index)."""

    regular: tuple[Path, int]
    bold: tuple[Path, int] | None = None


def to_pdf(bulletin: Bulletin, *, fonts: PdfFonts, charts: Sequence[ChartImage] = (),
           max_behind_rows: int = MAX_BEHIND_ROWS) -> bytes:
    """The bulletin as an A4 PDF with the CJK font(s) embedded (subset), charts as images.

    ``fonts`` name font files covering Chinese (e.g. Noto Serif CJK SC for text, Noto Sans CJK SC Bold
    for headings; a .ttc face index selects the Simplified Chinese face).
    """
    from fpdf import FPDF, FontFace

    office, demo = bulletin.office, bulletin.is_demo

    class _Doc(FPDF):
        def header(self):
            if demo:
                self.set_font("cjk", "B", 9)
                self.set_text_color(192, 57, 43)
                self.set_y(18)
                self.cell(0, 6, DEMO_MARK, align="R")
                self.set_text_color(0, 0, 0)
            self.set_xy(self.l_margin, self.t_margin)

        def footer(self):
            self.set_y(-25)
            self.set_font("cjk", "", 11)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = _Doc(orientation="P", unit="mm", format="A4")
    regular_path, regular_index = fonts.regular
    bold_path, bold_index = fonts.bold or fonts.regular
    pdf.add_font("cjk", "", str(regular_path), collection_font_number=regular_index)
    pdf.add_font("cjk", "B", str(bold_path), collection_font_number=bold_index)
    pdf.set_margins(28, 30, 26)
    pdf.set_auto_page_break(True, margin=30)
    pdf.set_title(bulletin.full_title)
    pdf.set_author(office)
    pdf.set_subject(bulletin.period_text)
    pdf.set_lang("zh-CN")
    pdf.set_creator(office)
    pdf.add_page()

    def heading(text: str) -> None:
        pdf.ln(2)
        pdf.set_font("cjk", "B", 15)
        pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")

    def paragraph(text: str, size: float = 14, line: float = 8.5) -> None:
        pdf.set_font("cjk", "", size)
        indent = 2 * pdf.get_string_width("\u3000")
        for i, text_line in enumerate(wrap_cjk(text, pdf.epw, pdf.get_string_width, first_indent=indent)):
            pdf.set_x(pdf.l_margin + (indent if i == 0 else 0))
            pdf.cell(0, line, text_line, new_x="LMARGIN", new_y="NEXT")

    def table(headers, rows, widths, size=8.5) -> None:
        pdf.set_font("cjk", "", size)
        with pdf.table(col_widths=widths, text_align="CENTER", line_height=size * 0.55,
                       headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
                       first_row_as_headings=True, repeat_headings=1) as tbl:
            for values in [[_unit_on_own_line(h) for h in headers], *rows]:
                row = tbl.row()
                for value in values:
                    row.cell(value)

    pdf.set_font("cjk", "B", 21)
    pdf.set_text_color(192, 57, 43)
    pdf.multi_cell(0, 12, bulletin.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", "", 15)
    pdf.multi_cell(0, 9, bulletin.issue_text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", "", 12)
    pdf.cell(pdf.epw / 2, 7, office)
    pdf.cell(pdf.epw / 2, 7, date_text(bulletin.as_of), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(192, 57, 43)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.l_margin + pdf.epw, pdf.get_y() + 1)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.ln(4)
    if demo:
        pdf.set_font("cjk", "B", 11)
        pdf.set_text_color(192, 57, 43)
        pdf.multi_cell(0, 7, DEMO_MARK, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", "", 12)
    pdf.multi_cell(0, 7, f"统计周期：{bulletin.period_text}", align="C", new_x="LMARGIN", new_y="NEXT")

    heading("一、总体进展")
    for sentence in bulletin.summary:
        paragraph(sentence)

    heading("二、各县（市、区）进展排名")
    headers = ranking_headers(bulletin.kind, bulletin.rank_by)
    widths = [9, 24, 11, 11, 12, 11, 12, 18, 14, 20, 14][: len(headers)]
    table(headers, ranking_rows(bulletin.progress, kind=bulletin.kind, rank_by=bulletin.rank_by), widths)
    pdf.set_font("cjk", "", 9)
    pdf.multi_cell(0, 5.5, ranking_note(bulletin), new_x="LMARGIN", new_y="NEXT")
    for i, chart in enumerate(charts, start=1):
        pdf.ln(2)
        pdf.image(io.BytesIO(chart.png), w=pdf.epw)
        pdf.set_font("cjk", "B", 10)
        pdf.multi_cell(0, 6, f"图{i}  {chart.caption}", align="C", new_x="LMARGIN", new_y="NEXT")

    heading("三、督导评价")
    paragraph(f"（一）通报表扬。{bulletin.praise}")
    paragraph(f"（二）通报批评。{bulletin.criticism}")

    heading("四、进度滞后项目")
    paragraph(bulletin.behind_summary)
    names = dict(zip(bulletin.progress["unit_code"], bulletin.progress["name"]))
    behind = behind_rows(bulletin.behind, names, max_rows=max_behind_rows)
    if behind:
        table(BEHIND_HEADERS, behind, [9, 20, 26, 12, 19, 19, 12, 39])
        if len(bulletin.behind) > len(behind):
            pdf.set_font("cjk", "", 9)
            pdf.multi_cell(0, 5.5, f"注：另有{len(bulletin.behind) - len(behind)}个滞后小区未列出，详见平台明细。",
                           new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
