"""What one issue of the weekly dispatch or monthly bulletin (周调度、月通报) says, in the office's own form.

:func:`build_bulletin` reads one period from the store (``issues`` for the report, comparison report,
number and 文号; ``facts`` for the figures) and :func:`compose` writes the :class:`Bulletin`: the title
济宁市老旧小区改造工作周调度/月通报（YYYY年第N期）, the 文号 line, issuing office and date, period, then five
sections, each sentence written from the figures —

* 一、总体进展 — the year's task (compounds, households, floor area, investment), what has been approved,
  started and completed (compounds, households, floor area, rates, change since the last period), new
  starts and completions in the period, and the outputs;
* 二、各县（市、区）进展排名 — who leads and who trails, the ranking table(s) (task, started and completed
  compounds and households, rates, change, rank change), the charts, and the 督导评价 (通报表扬 the fast,
  通报批评 the slow, by the office's rule);
* 三、资金支付 — money allocated, received and paid, the payment rate beside the investment completion
  rate, per unit; then each case of money out of order (paid above received …) named, or a sentence that
  there is none;
* 四、存在问题 — units below the city average, compounds behind schedule, overdue supervision findings,
  units paying far behind their works (only the problems there are);
* 五、下步工作要求 — what each named unit must do and by when (the next issue's report date, the task's
  planned dates; the units with money out of order verify it);

and the distribution block (报/送/发). The document is a list of :class:`Block` (headings, paragraphs,
tables, the charts' place); ``docx``, ``pdf`` and ``html`` lay the same blocks out, so the preview on the
page is the file. Figures are the ``county_progress`` ones rounded for print: rates to 0.1 percentage
point, money to 0.01 万元. Units are always listed through ``progress.ranking_order`` (rank, ties in the
official order) or in the official order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from analytics import progress as progress_mod
from analytics import settings
from analytics import units as units_mod
from analytics.cells import is_missing
from analytics.errors import InputError
from analytics.progress import RankBy
from analytics.services.auth import User
from analytics.services.bulletin import facts as facts_mod
from analytics.services.bulletin import issues as issues_mod
from analytics.services.bulletin import office as office_mod
from analytics.services.bulletin.facts import Facts
from analytics.services.bulletin.issues import Issue, Kind, check_kind
from analytics.services.bulletin.office import OfficeSettings, numeral

log = logging.getLogger(__name__)

OFFICE = "济宁市老旧小区改造工作指挥部办公室"
KIND_NAMES: dict[str, str] = {"week": "周调度", "month": "月通报"}
PERIOD_WORD: dict[str, str] = {"week": "周", "month": "月"}
INDICATOR_NAMES: dict[str, str] = {
    "start_rate_compounds": "开工率",
    "start_rate_households": "开工率（按户数）",
    "completion_rate": "完工率",
    "invest_rate": "投资完成率",
}
DEMO_MARK = "演示数据（非真实统计，不得对外报送）"
SMALL_MARK = "※"
NO_TASK = "无年度任务"
MISSING = "—"
SECTION_TITLES: tuple[str, ...] = ("一、总体进展", "二、各县（市、区）进展排名", "三、资金支付", "四、存在问题",
                                   "五、下步工作要求")
BEHIND_REASON_NAMES = {code: zh for code, (zh, _en) in progress_mod.BEHIND_REASONS.items()}
PROGRESS_COLUMNS = (
    "unit_code", "name", "kind", "planned_compounds", "planned_households", "planned_floor_area_m2",
    "planned_invest_wan", "approved", "started", "completed", "started_households", "completed_households",
    "started_floor_area_m2", "completed_floor_area_m2", "start_rate_compounds", "start_rate_households",
    "completion_rate", "invest_done_wan", "invest_rate", "rank",
)


# ------------------------------------------------------------------------------------------ the model
@dataclass(frozen=True)
class Column:
    r"""A table column as printed.

    ``label`` ("\n" marks where the header may break); the upper header it shares with its neighbours
    (``group``; None: the label spans both header rows); alignment of its cells; whether its cells may
    break over lines (``wrap``: free text such as a reason; never unit names or numbers).
    """

    label: str
    group: str | None = None
    align: Literal["left", "center", "right"] = "center"
    wrap: bool = False


@dataclass(frozen=True)
class Table:
    """A table as printed: every cell is text.

    ``spans``: row index -> first column of a cell that runs to the row's end (e.g. 无年度任务);
    ``bold_rows``: rows set in bold (the city total); ``caption`` above, ``note`` below.
    """

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    note: str = ""
    spans: dict[int, int] = field(default_factory=dict)
    bold_rows: frozenset[int] = frozenset()

    @property
    def headers(self) -> list[str]:
        """The lower header of each column, one line (what a reader of the table sees over the column)."""
        return [c.label.replace("\n", "") for c in self.columns]

    @property
    def has_groups(self) -> bool:
        """True when the header has two rows."""
        return any(c.group for c in self.columns)


BlockKind = Literal["heading", "paragraph", "table", "charts"]


@dataclass(frozen=True)
class Block:
    """One piece of the document.

    A heading, a paragraph (``lead`` is its (一) lead-in, set in the subheading font), a table, or the
    place of the charts.
    """

    kind: BlockKind
    text: str = ""
    lead: str = ""
    table: Table | None = None

    @property
    def full_text(self) -> str:
        """Lead-in and text together, as read."""
        return self.lead + self.text


@dataclass(frozen=True)
class ChartImage:
    """A chart for the document: caption (e.g. "各县区开工率、完工率") and PNG bytes."""

    caption: str
    png: bytes


@dataclass(frozen=True)
class Bulletin:
    """Everything one issue says, before layout: its header, ``blocks`` and the figures they came from."""

    issue: Issue
    rank_by: str
    is_demo: bool
    blocks: tuple[Block, ...]
    praised: tuple[str, ...]
    criticised: tuple[str, ...]
    rule: str
    distribution: tuple[tuple[str, str], ...]
    facts: Facts = field(repr=False)
    as_of: date | None = None
    office: str = OFFICE

    # header --------------------------------------------------------------------------------------
    @property
    def kind(self) -> Kind:
        """``"week"`` or ``"month"``."""
        return self.issue.kind

    @property
    def year(self) -> int:
        """The year of the series."""
        return self.issue.year

    @property
    def number(self) -> int:
        """第N期."""
        return self.issue.issue

    @property
    def report_date(self) -> date:
        """The report the issue is made from."""
        return self.issue.report_date

    @property
    def previous_date(self) -> date | None:
        """The report the changes compare with."""
        return self.issue.previous_date

    @property
    def date(self) -> date:
        """The date the issue is dated: its report date."""
        return self.issue.report_date

    @property
    def title(self) -> str:
        """济宁市老旧小区改造工作周调度 or …月通报."""
        return f"济宁市老旧小区改造工作{KIND_NAMES[self.kind]}"

    @property
    def issue_text(self) -> str:
        """The issue line, e.g. （2020年第26期）."""
        return f"（{self.year}年第{self.number}期）"

    @property
    def doc_number(self) -> str:
        """The 文号, e.g. 济旧改指办〔2020〕26号."""
        return self.issue.doc_number

    @property
    def full_title(self) -> str:
        """Title and issue line together."""
        return self.title + self.issue_text

    @property
    def period_text(self) -> str:
        """The period covered, e.g. 2020年11月1日至2020年11月27日."""
        return f"{date_text(self.issue.period_start)}至{date_text(self.issue.period_end)}"

    @property
    def file_stem(self) -> str:
        """A file name without extension, e.g. ``济宁市老旧小区改造工作周调度_2020年第26期``."""
        return f"{self.title}_{self.year}年第{self.number}期"

    @property
    def progress(self) -> pd.DataFrame:
        """The ``county_progress`` frame the issue was written from."""
        return self.facts.progress

    @property
    def tables(self) -> list[Table]:
        """Every table, in document order."""
        return [b.table for b in self.blocks if b.kind == "table" and b.table is not None]

    @property
    def headings(self) -> list[str]:
        """The section headings (一、… 五、)."""
        return [b.text for b in self.blocks if b.kind == "heading"]

    def section(self, title: str) -> list[Block]:
        """The blocks under the heading ``title`` (up to the next heading)."""
        out, inside = [], False
        for block in self.blocks:
            if block.kind == "heading":
                inside = block.text == title
            elif inside:
                out.append(block)
        return out

    @property
    def distribution_lines(self) -> list[str]:
        """The distribution block as printed: ``报：…``."""
        return [f"{label}：{who}" for label, who in self.distribution]

    @property
    def printed_line(self) -> str:
        """The last line: the office and the date it issued the document (印发)."""
        return f"{self.office}{' ' * 4}{date_text(self.date)}印发"


# -------------------------------------------------------------------------------------------- wording
def date_text(day: date) -> str:
    """``2020年6月26日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def pct(fraction: float) -> str:
    """A fraction 0–1 as a percentage with one decimal, e.g. ``0.7794`` -> ``"77.9%"``."""
    return MISSING if is_missing(fraction) else f"{fraction * 100:.1f}%"


def pct_number(fraction: float) -> str:
    """Like :func:`pct` without the sign (table cells under a "（%）" header)."""
    return MISSING if is_missing(fraction) else f"{fraction * 100:.1f}"


def points(fraction: float) -> str:
    """A change in fraction points as signed percentage points: ``+5.0``."""
    return MISSING if is_missing(fraction) else f"{fraction * 100:+.1f}"


def change_text(change: float, since: str) -> str:
    """A fraction-point change as words: ``"较上周提高5.9个百分点"``, ``"与上周持平"``; empty if unknown."""
    if is_missing(change):
        return ""
    pts = round(change * 100, 1)
    if pts > 0:
        return f"{since}提高{pts:.1f}个百分点"
    if pts < 0:
        return f"{since}下降{-pts:.1f}个百分点"
    return f"与{since[1:]}持平"


def money_text(wan: float) -> str:
    """万元 amounts in words: ``1.51亿元`` from 10,000 万元 up, else ``9,876.54万元``."""
    if is_missing(wan):
        return MISSING
    return f"{wan / 1e4:.2f}亿元" if abs(wan) >= 1e4 else f"{wan:,.2f}万元"


def money_cell(wan: float) -> str:
    """万元 in a table cell: ``13,837.42``."""
    return MISSING if is_missing(wan) else f"{wan:,.2f}"


def area_text(m2: float) -> str:
    """m² in words, in 万平方米 with one decimal."""
    return f"{m2 / 1e4:.1f}万平方米"


def _join(names: Iterable[str]) -> str:
    return "、".join(names)


def _comma(text: str) -> str:
    return f"，{text}" if text else ""


def _rank_change_text(change: float) -> str:
    if is_missing(change) or change == 0:
        return MISSING
    return f"↑{int(change)}" if change > 0 else f"↓{int(-change)}"


# ---------------------------------------------------------------------------------- money out of order
# ``funding.FLOW_ORDER_CHECKS`` -> (what exceeds what, what to verify), Chinese then English.
ORDER_CHECK_WORDS: dict[str, tuple[str, str, str, str]] = {
    "allocated_over_planned": ("下达资金超过计划资金", "资金下达文件", "allocated exceeds planned",
                               "the allocation documents"),
    "received_over_allocated": ("到位资金超过下达资金", "资金到位凭证", "received exceeds allocated", "the receipts"),
    "paid_over_received": ("已支付资金超过到位资金", "拨付凭证", "paid exceeds received", "the payment vouchers"),
}


def _order_subject(problem: dict, unit: str | None, lang: str) -> str:
    """Who the money belongs to: unit, plan year and compound (or project), or the record's unknown id."""
    zh = lang == "zh"
    year = problem.get("plan_year")
    year = None if is_missing(year) else int(year)  # type: ignore[arg-type]
    if not is_missing(problem.get("compound_id")):
        what, known, ident = "compound", problem.get("compound_name"), problem["compound_id"]
    else:
        what, known, ident = "project", problem.get("project_name"), problem.get("project_id")
    if is_missing(known):
        if zh:
            listed = "小区名录中无此小区" if what == "compound" else "项目库中无此项目"
            return f"{unit or ''}资金记录所列{'小区' if what == 'compound' else '项目'}{ident}（{listed}）"
        return f"{what} {ident} of the money records (not in the {what} list)"
    if zh:
        return f"{unit or ''}{f'{year}年度' if year else ''}{known}"
    where = ", ".join(v for v in (unit, f"{year} plan" if year else None) if v)
    return f"{'project ' if what == 'project' else ''}{known}" + (f" ({where})" if where else "")


def _ranked_cases(problems: pd.DataFrame, progress: pd.DataFrame) -> pd.DataFrame:
    """``problems`` with units in ranking order (``progress.ranking_order``), others after, no unit last."""
    ranked = list(progress_mod.ranking_order(_units(progress))["unit_code"])
    position = {code: i for i, code in enumerate(ranked)}
    keys = [len(ranked) + 1 if is_missing(u) else position.get(u, len(ranked)) for u in problems["unit_code"]]
    return problems.iloc[np.argsort(np.asarray(keys, dtype=float), kind="stable")]


def money_order_lines(problems: pd.DataFrame, progress: pd.DataFrame, *, lang: Literal["zh", "en"] = "zh",
                      unit_names: dict[str, str] | None = None) -> list[str]:
    """One short sentence per case of money out of order, units in ranking order (``progress.ranking_order``).

    E.g. ``任城区2024年度造纸厂南家属院已支付资金超过到位资金361.79万元（中央补助资金等9个资金渠道），请核实拨付凭证。``
    The wording of the bulletin's 三、资金支付 and of the progress page, in ``lang``.

    Parameters
    ----------
    problems
        ``analytics.funding.flow_order_problems`` (a unit's cases in its order: the largest excess first).
    progress
        A ``county_progress`` frame: its units' ranking order (ties in the official order) orders the cases;
        units not in it follow in ``problems``' order, money of no known unit last.
    lang
        ``"zh"`` or ``"en"``.
    unit_names
        Unit code -> name; default the names in ``progress`` (``name``, or ``name_en`` in English).
    """
    if lang not in ("zh", "en"):
        raise InputError(f"`lang` was {lang!r} but must be 'zh' or 'en'.")
    if unit_names is None:
        column = "name_en" if lang == "en" and "name_en" in progress.columns else "name"
        unit_names = dict(zip(progress["unit_code"], progress[column]))
    lines = []
    for problem in _ranked_cases(problems, progress).to_dict("records"):
        code = problem.get("unit_code")
        unit = None if is_missing(code) else unit_names.get(code, code)
        subject = _order_subject(problem, unit, lang)
        zh_words, zh_check, en_words, en_check = ORDER_CHECK_WORDS[problem["check"]]
        sources = [settings.FUNDING_SOURCES.get(s, (s, s))[0 if lang == "zh" else 1] for s in problem["sources"]]
        if lang == "zh":
            which = _join(sources) if len(sources) <= 3 else f"{sources[0]}等{len(sources)}个资金渠道"
            lines.append(f"{subject}{zh_words}{money_text(problem['excess_wan'])}（{which}），请核实{zh_check}。")
        else:
            which = ", ".join(sources) if len(sources) <= 3 else f"{sources[0]} and {len(sources) - 1} other sources"
            lines.append(f"{subject}: {en_words} by {problem['excess_wan']:,.2f} (10k yuan) in {which}; "
                         f"check {en_check}.")
    return lines


# -------------------------------------------------------------------------------------- units, ranking
def _units(progress: pd.DataFrame) -> pd.DataFrame:
    return progress[progress["kind"] != "city"]


def _city(progress: pd.DataFrame) -> pd.Series:
    city = progress[progress["kind"] == "city"]
    if city.empty:
        raise InputError("`progress` has no city-total row (kind 'city'); pass a frame from `county_progress`.")
    return city.iloc[0]


def _has_task(units: pd.DataFrame) -> pd.Series:
    return units["planned_compounds"].fillna(0) > 0


@dataclass(frozen=True)
class Group:
    """Units ranked together: all units (one table) or counties / function zones (two tables)."""

    label: str
    units: pd.DataFrame  # the group's rows, ``rank`` recomputed within the group when split


def ranking_groups(progress: pd.DataFrame, *, rank_by: str, tables: str) -> list[Group]:
    """The ranking's groups: one of all units, or counties and zones each ranked on its own (``tables="two"``)."""
    units = _units(progress)
    if tables != "two" or units["kind"].nunique() < 2:
        return [Group("", units)]
    groups = []
    for kind, label in (("county", "县（市、区）"), ("zone", "功能区")):
        part = units[units["kind"] == kind].copy()
        part["rank"] = progress_mod.rank_values(part[rank_by].where(_has_task(part)))
        groups.append(Group(label, part))
    return groups


def evaluate(units: pd.DataFrame, *, rank_by: str, city_value: float, office: OfficeSettings) -> tuple[list[str], list[str]]:
    """督导评价 by the office's rule: the codes praised and criticised, each in ranking order.

    Praised: rank ≤ ``praise_top_n`` unless tied with the worst. Criticised: fewer than
    ``criticise_bottom_n`` units strictly worse, or at least ``criticise_below_average_pp`` points below
    ``city_value``; never one tied with the best or also praised. Units without a rate are left out.
    """
    ranked = units[units[rank_by].notna() & units["rank"].notna()]
    if ranked.empty:
        return [], []
    v = ranked[rank_by].astype(float).round(12)
    best, worst = v.max(), v.min()
    worse_count = v.map(lambda x: int((v < x).sum()))
    praised = (ranked["rank"] <= office.praise_top_n) & (v > worst)
    bottom = (worse_count < office.criticise_bottom_n) & (v < best)
    if office.criticise_below_average_pp is not None and not is_missing(city_value):
        gap = (round(city_value, 12) - v) * 100
        bottom |= (gap >= office.criticise_below_average_pp - 1e-9) & (v < best)
    criticised = bottom & ~praised
    order = progress_mod.ranking_order(ranked)
    return list(order.loc[praised[order.index], "unit_code"]), list(order.loc[criticised[order.index], "unit_code"])


def top_text(ranked: pd.DataFrame, *, rank_by: str, n_top: int) -> str:
    """Name the top units: ``甲区（90.0%）、乙区（80.0%）、丙区（70.0%）位列前三``.

    When ties put more than ``n_top`` units in, they are all listed and the tied ones named
    (``…位列前三（丙区、丁区并列第三）``): four names under 前三 are never left unexplained.

    ``ranked`` holds ``unit_code``, ``name``, ``rank`` and ``rank_by``, in the ranking's order.
    """
    top = ranked[ranked["rank"] <= n_top]
    text = f"{_named_values(ranked, list(top['unit_code']), rank_by)}位列{_top_words(n_top)}"
    if len(top) <= n_top:
        return text
    counts = top["rank"].value_counts()
    tied = [
        f"{_join(top.loc[top['rank'] == r, 'name'])}并列{_top_words(1) if r == 1 else '第' + numeral(int(r))}"
        for r in sorted(counts[counts > 1].index)
    ]
    return text + (f"（{'；'.join(tied)}）" if tied else "")


def _top_words(n: int) -> str:
    """位列第一 / 位列前三."""
    return "第一" if n == 1 else f"前{numeral(n)}"


def _bottom_words(n: int) -> str:
    """排名末位 / 排名后三位."""
    return "排名末位" if n == 1 else f"排名后{numeral(n)}位"


def _names(frame: pd.DataFrame, codes: Sequence[str]) -> list[str]:
    names = dict(zip(frame["unit_code"], frame["name"]))
    return [names[c] for c in codes]


def _named_values(frame: pd.DataFrame, codes: Sequence[str], column: str) -> str:
    rows = frame.set_index("unit_code")
    return _join(f"{rows.at[c, 'name']}（{pct(rows.at[c, column])}）" for c in codes)


def choose_rank_by(progress: pd.DataFrame) -> str:
    """开工率 while the city has compounds still to start; 完工率 once all have started (开工率 all 100 %)."""
    city = _city(progress)
    return "completion_rate" if city["start_rate_compounds"] >= 1 else "start_rate_compounds"


# ---------------------------------------------------------------------------------------- the tables
def _count(value: float) -> str:
    return MISSING if is_missing(value) else str(int(value))


def ranking_table(group: Group, progress: pd.DataFrame, previous: pd.DataFrame | None, *, kind: Kind,
                  rank_by: str, office: OfficeSettings, with_city: bool, caption: str) -> Table:
    """One ranking table: rank, unit, task, started, completed (compounds, households, rates), change, rank change.

    Units in ranking order (``progress.ranking_order``); units without a task last, printed 无年度任务;
    units whose task has fewer than ``office.small_unit_compounds`` compounds marked ※; the city row last.
    """
    since = "较上周" if kind == "week" else "较上月"
    indicator = INDICATOR_NAMES[rank_by]
    columns = [
        Column("排名"), Column(group.label or "县（市、区）", align="left"),
        Column("小区\n（个）", "年度任务"), Column("户数\n（户）", "年度任务"),
        Column("小区\n（个）", "已开工"), Column("户数\n（户）", "已开工"), Column("开工率\n（%）", "已开工"),
        Column("小区\n（个）", "已完工"), Column("户数\n（户）", "已完工"), Column("完工率\n（%）", "已完工"),
    ]
    extra = {"start_rate_households": "开工率按户\n（%）", "invest_rate": "投资完成\n率（%）"}.get(rank_by)
    if extra:
        columns.append(Column(extra))
    short = {"start_rate_compounds": "开工率", "start_rate_households": "按户开工率", "completion_rate": "完工率",
             "invest_rate": "投资完成率"}[rank_by]
    columns += [Column("百分点", f"{short}{since}\n变化"), Column("名次", f"{short}{since}\n变化")]

    before = None if previous is None else previous.set_index("unit_code")
    prev_rank = None
    if before is not None:
        prev_units = before[before["kind"] != "city"]
        if group.label:
            prev_units = prev_units[prev_units["kind"] == group.units["kind"].iloc[0]]
        prev_rank = progress_mod.rank_values(prev_units[rank_by].where(prev_units["planned_compounds"] > 0))
    ordered = progress_mod.ranking_order(pd.concat([group.units, progress[progress["kind"] == "city"]]))
    with_task = ordered[(ordered["kind"] == "city") | _has_task(ordered)]
    without = ordered[(ordered["kind"] != "city") & ~_has_task(ordered)]
    rows: list[tuple[str, ...]] = []
    spans: dict[int, int] = {}
    bold: set[int] = set()
    for _, row in with_task.iterrows():
        is_city = row["kind"] == "city"
        if is_city and not with_city:
            continue
        small = (not is_city) and 0 < row["planned_compounds"] < office.small_unit_compounds
        change = np.nan if before is None or row["unit_code"] not in before.index else (
            row[rank_by] - before.at[row["unit_code"], rank_by])
        rank_change = np.nan
        if prev_rank is not None and not is_city and row["unit_code"] in prev_rank.index:
            rank_change = prev_rank[row["unit_code"]] - row["rank"]
        cells = [
            MISSING if is_city else _count(row["rank"]),
            "全市" if is_city else f"{row['name']}{SMALL_MARK if small else ''}",
            _count(row["planned_compounds"]), _count(row["planned_households"]),
            _count(row["started"]), _count(row["started_households"]), pct_number(row["start_rate_compounds"]),
            _count(row["completed"]), _count(row["completed_households"]), pct_number(row["completion_rate"]),
        ]
        if extra:
            cells.append(pct_number(row[rank_by]))
        cells += [points(change), MISSING if is_city else _rank_change_text(rank_change)]
        if is_city:
            bold.add(len(rows))
        rows.append(tuple(cells))
    city_row = [r for r in rows if r[1] == "全市"]
    rows = [r for r in rows if r[1] != "全市"]
    for _, row in without.iterrows():
        spans[len(rows)] = 2
        rows.append(tuple([MISSING, str(row["name"]), NO_TASK] + [""] * (len(columns) - 3)))
    if city_row:
        bold = {len(rows)}
        rows.append(city_row[0])
    else:
        bold = set()
    notes = [f"按{indicator}排名，并列者名次相同，按行政区划顺序排列"]
    notes.append("变化为与" + ("上周" if kind == "week" else "上月") + "相比" if previous is not None
                 else "本期为首次统计，无上期数据可比")
    if any(SMALL_MARK in r[1] for r in rows):
        notes.append(f"{SMALL_MARK}年度任务不足{office.small_unit_compounds}个小区的单位，比率仅供参考")
    return Table(tuple(columns), tuple(rows), caption=caption, note="注：" + "；".join(notes) + "。",
                 spans=spans, bold_rows=frozenset(bold))


BEHIND_COLUMNS: tuple[Column, ...] = (
    Column("序号"), Column("县（市、区）", align="left"), Column("小区名称", align="left", wrap=True),
    Column("状态"), Column("计划开工"), Column("计划完工"), Column("滞后\n（天）"),
    Column("滞后原因", align="left", wrap=True),
)


def _day(value: pd.Timestamp | date | None) -> str:
    if value is None or pd.isna(value):
        return MISSING
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def behind_table(behind: pd.DataFrame, names: dict[str, str], *, max_rows: int, caption: str) -> Table:
    """The compounds behind schedule, furthest behind first (at most ``max_rows``; the rest counted in the note)."""
    frame = behind.sort_values(["days_late", "compound_id"], ascending=[False, True])
    shown = frame.head(max_rows)
    rows = []
    for i, (_, row) in enumerate(shown.iterrows(), start=1):
        reasons = "；".join(BEHIND_REASON_NAMES.get(r, r) for r in str(row["reason"]).split(";") if r)
        rows.append((str(i), names.get(row["unit_code"], str(row["unit_code"])), str(row["name"]), str(row["status"]),
                     _day(row["planned_start_date"]), _day(row["planned_completion_date"]), str(int(row["days_late"])),
                     reasons))
    note = f"注：另有{len(frame) - len(shown)}个滞后小区未列出，详见平台明细。" if len(frame) > len(shown) else ""
    return Table(BEHIND_COLUMNS, tuple(rows), caption=caption, note=note)


PAYMENT_TABLE_COLUMNS: tuple[Column, ...] = (
    Column("县（市、区）", align="left"), Column("计划投资\n（万元）", align="right"),
    Column("下达\n（万元）", "资金", "right"), Column("到位\n（万元）", "资金", "right"),
    Column("已支付\n（万元）", "资金", "right"), Column("支付率\n（%）"), Column("投资完成\n率（%）"),
)


def payment_table(payments: pd.DataFrame, progress: pd.DataFrame, *, caption: str) -> Table:
    """Money per unit in the official order, the city last: planned, allocated, received, paid, rates."""
    pay = payments.set_index("unit_code")
    rows: list[tuple[str, ...]] = []
    bold: set[int] = set()
    for _, unit in progress.iterrows():
        code = unit["unit_code"]
        if code not in pay.index:
            continue
        p = pay.loc[code]
        is_city = unit["kind"] == "city"
        if is_city:
            bold.add(len(rows))
        rows.append(("全市" if is_city else str(unit["name"]), money_cell(p["planned_invest_wan"]),
                     money_cell(p["allocated_wan"]), money_cell(p["received_wan"]), money_cell(p["paid_wan"]),
                     pct_number(p["payment_rate"]), pct_number(unit["invest_rate"])))
    return Table(PAYMENT_TABLE_COLUMNS, tuple(rows), caption=caption,
                 note="注：支付率为已支付资金占计划总投资的比例，投资完成率为已完成投资占计划总投资的比例。",
                 bold_rows=frozenset(bold))


# ----------------------------------------------------------------------------------------- sections
@dataclass
class _Writer:
    """Sections in order; numbers the tables (表1, 表2 …)."""

    blocks: list[Block] = field(default_factory=list)
    n_tables: int = 0

    def heading(self, text: str) -> None:
        self.blocks.append(Block("heading", text))

    def para(self, text: str, lead: str = "") -> None:
        self.blocks.append(Block("paragraph", text, lead))

    def table(self, make) -> None:  # make(caption) -> Table
        self.n_tables += 1
        self.blocks.append(Block("table", table=make(f"表{self.n_tables}")))

    def charts(self) -> None:
        self.blocks.append(Block("charts"))


def _next_issue_date(issue: Issue) -> date:
    """The report date of the next issue: a week on (week), the next month's last Friday (month)."""
    if issue.kind == "week":
        return issue.report_date + timedelta(days=7)
    year, month = issue.report_date.year + issue.report_date.month // 12, issue.report_date.month % 12 + 1
    return issues_mod.last_friday(year, month)


def _overview(w: _Writer, f: Facts, issue: Issue) -> None:
    city = _city(f.progress)
    word = PERIOD_WORD[issue.kind]
    since = f"较上{word}"
    suffix = issue.kind
    w.heading(SECTION_TITLES[0])
    w.para(f"截至{date_text(issue.report_date)}，全市{issue.plan_year}年度计划改造老旧小区{int(city['planned_compounds'])}个、"
           f"{city['planned_households'] / 1e4:.2f}万户、建筑面积{area_text(city['planned_floor_area_m2'])}，"
           f"计划总投资{money_text(city['planned_invest_wan'])}。")
    parts = [
        f"已立项{int(city['approved'])}个",
        f"已开工{int(city['started'])}个、{int(city['started_households'])}户、{area_text(city['started_floor_area_m2'])}，"
        f"开工率{pct(city['start_rate_compounds'])}（按户数{pct(city['start_rate_households'])}）"
        + _comma(change_text(city[f"start_rate_compounds_chg_{suffix}"], since)),
        f"已完工{int(city['completed'])}个、{int(city['completed_households'])}户、"
        f"{area_text(city['completed_floor_area_m2'])}，完工率{pct(city['completion_rate'])}"
        + _comma(change_text(city[f"completion_rate_chg_{suffix}"], since)),
        f"累计完成投资{money_text(city['invest_done_wan'])}，投资完成率{pct(city['invest_rate'])}"
        + _comma(change_text(city[f"invest_rate_chg_{suffix}"], since)),
    ]
    w.para("；".join(parts) + "。")
    if f.previous is None:
        w.para(f"本期为{issue.plan_year}年度首次统计，无上期数据可比。")
    else:
        before = _city(f.previous)
        new_started = int(city["started"] - before["started"])
        new_started_hh = int(city["started_households"] - before["started_households"])
        new_done = int(city["completed"] - before["completed"])
        new_done_hh = int(city["completed_households"] - before["completed_households"])
        since = date_text(f.previous.attrs.get("report_date") or issue.previous_date or issue.report_date)
        if new_started or new_done:
            w.para(f"本{word}（{since}以来）新增开工{new_started}个小区、{new_started_hh}户，"
                   f"新增完工{new_done}个小区、{new_done_hh}户。")
        else:
            w.para(f"本{word}（{since}以来）无新增开工、完工小区。")
    outputs = [int(city[c]) if not is_missing(city[c]) else 0 for c in progress_mod.OUTCOME_COUNTS]
    pipes = 0.0 if is_missing(city["pipes_km"]) else float(city["pipes_km"])
    w.para(f"累计加装电梯{outputs[0]}部，新增停车位{outputs[1]}个、充电设施{outputs[2]}个、养老托育等服务设施"
           f"{outputs[3]}处，改造各类管网{pipes:.1f}公里。")


def _ranking(w: _Writer, f: Facts, issue: Issue, *, rank_by: str, office: OfficeSettings,
             groups: list[Group]) -> tuple[list[str], list[str]]:
    city = _city(f.progress)
    indicator = INDICATOR_NAMES[rank_by]
    w.heading(SECTION_TITLES[1])
    praised: list[str] = []
    criticised: list[str] = []
    sentences = []
    for group in groups:
        units = group.units[_has_task(group.units)]
        if units.empty:
            continue
        good, bad = evaluate(units, rank_by=rank_by, city_value=city[rank_by], office=office)
        praised += good
        criticised += bad
        ranked = progress_mod.ranking_order(units)
        n_top = min(office.praise_top_n or 3, len(ranked))
        lead = f"{group.label}中，" if group.label else ""
        text = f"{lead}按{indicator}排名，{top_text(ranked, rank_by=rank_by, n_top=n_top)}"
        if bad:
            text += f"，{_named_values(units, bad, rank_by)}排名靠后"
        sentences.append(text)
    below = progress_mod.ranking_order(_units(f.progress))
    below = below[below[rank_by].astype(float).round(12) < round(float(city[rank_by]), 12)] \
        if not is_missing(city[rank_by]) else below.iloc[0:0]
    summary = "；".join(sentences)
    if len(below):
        summary += f"；{_join(below['name'])}共{len(below)}个单位{indicator}低于全市平均水平（{pct(city[rank_by])}）。"
    else:
        summary += f"；各单位{indicator}均不低于全市平均水平（{pct(city[rank_by])}）。"
    w.para(summary)
    for i, group in enumerate(groups):
        title = f"{group.label or '各县（市、区）'}老旧小区改造进展排名"
        w.table(lambda caption, group=group, i=i, title=title: ranking_table(
            group, f.progress, f.previous, kind=issue.kind, rank_by=rank_by, office=office,
            with_city=i == 0, caption=f"{caption}  {title}"))
    w.charts()
    if praised:
        w.para(f"对{indicator}位列{'各组' if len(groups) > 1 else '全市'}{_top_words(office.praise_top_n)}的"
               f"{_named_values(f.progress, praised, rank_by)}予以通报表扬。", lead="（一）通报表扬。")
    else:
        w.para("本期无符合表扬条件的单位，不作通报表扬。", lead="（一）通报表扬。")
    if criticised:
        reasons = []
        if office.criticise_bottom_n:
            reasons.append(_bottom_words(office.criticise_bottom_n))
        if office.criticise_below_average_pp is not None:
            reasons.append(f"低于全市平均{office.criticise_below_average_pp:g}个百分点及以上")
        w.para(f"对{indicator}{'或'.join(reasons)}、进展缓慢的{_named_values(f.progress, criticised, rank_by)}"
               f"予以通报批评。请以上单位认真查找原因，倒排工期、挂图作战，确保完成年度目标任务。",
               lead="（二）通报批评。")
    else:
        w.para(f"各单位{indicator}相当，本期不作通报批评。", lead="（二）通报批评。")
    return praised, criticised


def _payments(w: _Writer, f: Facts, issue: Issue, *, max_items: int) -> pd.DataFrame | None:
    w.heading(SECTION_TITLES[2])
    if f.payments is None:
        w.para(f"截至{date_text(issue.report_date)}，{issue.plan_year}年度改造项目尚无资金下达、到位和支付记录，"
               "请各县（市、区）及时报送资金拨付情况。")
        _money_order(w, f, issue, max_items=max_items)
        return None
    pay = f.payments.set_index("unit_code")
    city = pay.loc[settings.CITY_UNIT_CODE]
    works = _city(f.progress)
    word = PERIOD_WORD[issue.kind]
    period = (f"本{word}新增支付{money_text(city['paid_in_period_wan'])}" if issue.previous_date is not None
              else "本期为首次统计")
    w.para(f"截至{date_text(issue.report_date)}，全市{issue.plan_year}年度改造项目累计下达资金"
           f"{money_text(city['allocated_wan'])}、到位{money_text(city['received_wan'])}、已支付"
           f"{money_text(city['paid_wan'])}，资金支付率{pct(city['payment_rate'])}，同期投资完成率"
           f"{pct(works['invest_rate'])}；{period}。")
    w.table(lambda caption: payment_table(f.payments, f.progress, caption=f"{caption}  各县（市、区）资金支付情况"))
    _money_order(w, f, issue, max_items=max_items)
    return f.payments


def _money_order(w: _Writer, f: Facts, issue: Issue, *, max_items: int) -> None:
    """Each case of money out of order named (unit, compound or project, which stage exceeds which, by how much)."""
    if f.money_order is None:
        return
    scope = f"截至{date_text(issue.report_date)}，全市{issue.plan_year}年度及以前年度改造项目"
    if f.money_order.empty:
        w.para(f"经核查，{scope}资金下达、到位、支付均未超过上一环节，资金拨付顺序正常。")
        return
    lines = money_order_lines(f.money_order, f.progress)
    w.para(f"经核查，{scope}有{len(lines)}处资金拨付顺序异常：")
    for i, line in enumerate(lines[:max_items], start=1):
        w.para(f"{i}.{line}")
    if len(lines) > max_items:
        w.para(f"另有{len(lines) - max_items}处未列出，详见平台资金支付明细。")


def _slow_payers(f: Facts, office: OfficeSettings) -> pd.DataFrame:
    """Units whose payment rate is at least ``payment_gap_pp`` points below their investment completion rate."""
    if f.payments is None:
        return f.progress.iloc[0:0].assign(payment_rate=[])
    units = _units(f.progress).merge(f.payments[["unit_code", "payment_rate"]], on="unit_code", how="inner")
    gap = (units["invest_rate"] - units["payment_rate"]) * 100
    return units[gap.round(9) >= office.payment_gap_pp]


def _problems(w: _Writer, f: Facts, issue: Issue, *, rank_by: str, office: OfficeSettings,
              max_behind_rows: int) -> dict[str, pd.DataFrame]:
    city = _city(f.progress)
    indicator = INDICATOR_NAMES[rank_by]
    names = dict(zip(f.progress["unit_code"], f.progress["name"]))
    w.heading(SECTION_TITLES[3])
    found: dict[str, pd.DataFrame] = {}
    items: list[tuple[str, str, object]] = []  # (lead, text, table maker or None)
    units = progress_mod.ranking_order(_units(f.progress))
    units = units[_has_task(units)]
    if not is_missing(city[rank_by]):
        below = units[units[rank_by].astype(float).round(12) < round(float(city[rank_by]), 12)]
        if len(below):
            found["below"] = below
            worst = below.iloc[-1]
            items.append(("部分单位进度低于全市平均。",
                          f"{_named_values(below, list(below['unit_code']), rank_by)}共{len(below)}个单位{indicator}"
                          f"低于全市平均水平（{pct(city[rank_by])}），其中{worst['name']}低于全市平均"
                          f"{(city[rank_by] - worst[rank_by]) * 100:.1f}个百分点。", None))
    if len(f.behind):
        found["behind"] = f.behind
        reasons = f.behind["reason"].str.split(";")
        start = int(reasons.map(lambda r: "start_overdue" in r).sum())
        completion = int(reasons.map(lambda r: "completion_overdue" in r).sum())
        kinds = []
        if start:
            kinds.append(f"{start}个超过计划开工日期仍未开工")
        if completion:
            kinds.append(f"{completion}个超过计划完工日期仍未完工")
        per_unit = f.behind.groupby("unit_code").size()
        order = [c for c in f.progress["unit_code"] if c in per_unit.index]
        worst = f.behind.sort_values(["days_late", "compound_id"], ascending=[False, True]).iloc[0]
        items.append(("部分项目进度滞后。",
                      f"全市共有{len(f.behind)}个小区未按计划节点推进，其中{'、'.join(kinds)}，分布在"
                      f"{_join(f'{names.get(c, c)}（{per_unit[c]}个）' for c in order)}；滞后时间最长的是"
                      f"{names.get(worst['unit_code'], worst['unit_code'])}{worst['name']}（{int(worst['days_late'])}天）。",
                      lambda caption: behind_table(f.behind, names, max_rows=max_behind_rows,
                                                   caption=f"{caption}  进度滞后项目")))
    overdue = f.findings[f.findings["days_overdue"].fillna(0) > 0]
    if len(overdue):
        found["findings"] = overdue
        per_unit = overdue.groupby("unit_code").size()
        order = [c for c in f.progress["unit_code"] if c in per_unit.index] + \
            sorted(c for c in per_unit.index if c not in set(f.progress["unit_code"]))
        worst = overdue.iloc[0]
        items.append(("督导发现问题整改超期。",
                      f"截至{date_text(issue.report_date)}，督导发现问题尚有{len(f.findings)}个未整改销号，其中"
                      f"{len(overdue)}个已超过整改期限：{_join(f'{names.get(c, c)}{per_unit[c]}个' for c in order)}；"
                      f"超期最长的是{names.get(worst['unit_code'], worst['unit_code'])}“{worst['description']}”"
                      f"（{worst['category']}，超期{int(worst['days_overdue'])}天）。", None))
    slow = _slow_payers(f, office)
    if len(slow):
        found["payments"] = slow
        items.append(("资金支付滞后于工程进度。",
                      _join(f"{r['name']}（支付率{pct(r['payment_rate'])}、投资完成率{pct(r['invest_rate'])}）"
                            for _, r in slow.iterrows())
                      + f"资金支付率低于投资完成率{office.payment_gap_pp:g}个百分点以上，存在资金拨付不及时的问题。",
                      None))
    if not items:
        w.para("本期各单位进展均不低于全市平均水平，无滞后项目、超期未整改问题和资金支付明显滞后的情况。")
    for i, (lead, text, make) in enumerate(items, start=1):
        w.para(text, lead=f"（{numeral(i)}）{lead}")
        if make is not None:
            w.table(make)
    return found


def _requirements(w: _Writer, f: Facts, issue: Issue, *, rank_by: str, criticised: list[str],
                  found: dict[str, pd.DataFrame]) -> None:
    city = _city(f.progress)
    names = dict(zip(f.progress["unit_code"], f.progress["name"]))
    indicator = INDICATOR_NAMES[rank_by]
    next_date = _next_issue_date(issue)
    next_text = f"下期{KIND_NAMES[issue.kind]}（{date_text(next_date)}）前"
    order = list(f.progress["unit_code"])
    w.heading(SECTION_TITLES[4])
    items: list[tuple[str, str]] = []
    if "behind" in found:
        behind = found["behind"]
        late_start = behind[behind["reason"].str.contains("start_overdue")].groupby("unit_code").size()
        late_done = behind[behind["reason"].str.contains("completion_overdue")].groupby("unit_code").size()
        parts = []
        if len(late_start):
            parts.append(_join(f"{names.get(c, c)}（{late_start[c]}个）" for c in order if c in late_start.index)
                         + f"要对超过计划开工日期仍未开工的小区倒排工期，于{next_text}全部开工")
        if len(late_done):
            parts.append(_join(f"{names.get(c, c)}（{late_done[c]}个）" for c in order if c in late_done.index)
                         + f"要对超过计划完工日期仍未完工的小区制定赶工计划，于{next_text}报送完工时间表")
        items.append(("加快滞后项目进度。", "；".join(parts) + "。"))
    if "below" in found:
        below = found["below"]
        items.append(("追赶全市平均进度。",
                      f"{_join(below['name'])}要对照年度任务查找差距，力争于{next_text}{indicator}"
                      f"达到全市平均水平（{pct(city[rank_by])}）。"))
    if "findings" in found:
        per_unit = found["findings"].groupby("unit_code").size()
        units = [c for c in order if c in per_unit.index] + sorted(c for c in per_unit.index if c not in set(order))
        items.append(("限期整改督导问题。",
                      _join(f"{names.get(c, c)}（{per_unit[c]}个）" for c in units)
                      + f"要对超过整改期限的督导问题逐项整改，于{next_text}完成整改并销号。"))
    if "payments" in found:
        items.append(("加快资金拨付。",
                      f"{_join(found['payments']['name'])}要加快资金拨付，于{next_text}将资金支付进度提高到与工程进度相匹配。"))
    if f.money_order is not None and len(f.money_order):
        cases = _ranked_cases(f.money_order, f.progress)
        codes = list(dict.fromkeys(c for c in cases["unit_code"] if not is_missing(c)))
        if codes:
            items.append(("核实资金拨付记录。",
                          f"{_join(names.get(c, c) for c in codes)}要对资金拨付顺序异常的项目逐笔核实拨付凭证，"
                          f"于{next_text}更正有关记录或说明原因。"))
    if criticised:
        items.append(("落实整改责任。",
                      f"被通报批评的{_join(names[c] for c in criticised)}要于{date_text(issue.report_date + timedelta(days=7))}"
                      "前向市老旧小区改造工作指挥部办公室书面报告原因及整改措施。"))
    remaining_start = int(city["planned_compounds"] - city["started"])
    remaining_done = int(city["planned_compounds"] - city["completed"])
    year_end = date(issue.plan_year, 12, 31)
    if remaining_start or remaining_done:
        parts = []
        if remaining_start:
            parts.append(f"剩余{remaining_start}个小区于{date_text(f.progress.attrs.get('last_planned_start') or year_end)}前全部开工")
        if remaining_done:
            parts.append(f"{remaining_done}个小区于{date_text(f.progress.attrs.get('last_planned_completion') or year_end)}前全部完工")
        items.append(("确保完成年度任务。",
                      f"各县（市、区）要对照{issue.plan_year}年度目标任务，确保" + "、".join(parts) + "。"))
    else:
        items.append(("做好竣工验收和长效管理。",
                      f"{issue.plan_year}年度改造任务已全部完工，各县（市、区）要及时组织竣工验收，建立物业管理长效机制。"))
    for i, (lead, text) in enumerate(items, start=1):
        w.para(text, lead=f"（{numeral(i)}）{lead}")


# -------------------------------------------------------------------------------------- composition
def _check_progress(progress: pd.DataFrame) -> None:
    missing = [c for c in PROGRESS_COLUMNS if c not in progress.columns]
    if missing:
        raise InputError(f"`progress` lacks the columns {missing!r}; pass a frame from `county_progress`.")
    _city(progress)


def compose(
    facts: Facts,
    issue: Issue,
    *,
    rank_by: str,
    is_demo: bool,
    office: OfficeSettings | None = None,
    as_of: date | None = None,
    max_behind_rows: int = settings.BULLETIN_MAX_BEHIND_ROWS,
    max_order_items: int = settings.BULLETIN_MAX_ORDER_ITEMS,
) -> Bulletin:
    """A :class:`Bulletin` from the figures of one period (pure: nothing is read or stored).

    Parameters
    ----------
    facts
        The period's figures (``facts.progress`` ranked by ``rank_by``).
    issue
        Its report, comparison report, number and 文号 (``issues.issue_for``).
    rank_by
        The ranking indicator (names the ranking and the 督导评价).
    is_demo
        Mark every page as demo data.
    office
        The office's settings (default: ``analytics.settings``).
    as_of
        The date asked for (kept for the record; the document is dated by its report).
    max_behind_rows
        Compounds listed in the behind-schedule table.
    max_order_items
        Cases of money out of order named in 三、资金支付 (the rest are counted).

    Raises
    ------
    InputError
        ``rank_by`` unknown, ``facts.progress`` lacks the ``county_progress`` columns or its city row.
    """
    office = office or OfficeSettings()
    check_kind(issue.kind)
    if rank_by not in INDICATOR_NAMES:
        raise InputError(f"`rank_by` was {rank_by!r} but must be one of {tuple(INDICATOR_NAMES)!r}.")
    _check_progress(facts.progress)
    groups = ranking_groups(facts.progress, rank_by=rank_by, tables=office.ranking_tables)
    w = _Writer()
    _overview(w, facts, issue)
    praised, criticised = _ranking(w, facts, issue, rank_by=rank_by, office=office, groups=groups)
    _payments(w, facts, issue, max_items=max_order_items)
    found = _problems(w, facts, issue, rank_by=rank_by, office=office, max_behind_rows=max_behind_rows)
    _requirements(w, facts, issue, rank_by=rank_by, criticised=criticised, found=found)
    names = dict(zip(facts.progress["unit_code"], facts.progress["name"]))
    return Bulletin(
        issue=issue, rank_by=rank_by, is_demo=bool(is_demo), blocks=tuple(w.blocks),
        praised=tuple(names[c] for c in praised), criticised=tuple(names[c] for c in criticised),
        rule=office.rule_text(INDICATOR_NAMES[rank_by]), distribution=tuple(office.distribution), facts=facts,
        as_of=as_of,
    )


def gather(con: duckdb.DuckDBPyConnection, issue: Issue, *, rank_by: str) -> Facts:
    """The figures of ``issue``'s period from the store (progress now and at the comparison report, …)."""
    active = units_mod.units(con, year=issue.plan_year)  # every unit reporting this year is listed
    prog = progress_mod.with_units_without_task(progress_mod.county_progress(
        con, as_of=issue.report_date, plan_year=issue.plan_year, rank_by=rank_by), active)  # type: ignore[arg-type]
    previous = None
    if issue.previous_date is not None:
        previous = progress_mod.with_units_without_task(progress_mod.county_progress(
            con, as_of=issue.previous_date, plan_year=issue.plan_year, rank_by=rank_by), active)  # type: ignore[arg-type]
    status = progress_mod.compound_status(con, as_of=issue.report_date, plan_year=issue.plan_year)
    plan = con.execute("SELECT id AS compound_id, planned_start_date, planned_completion_date FROM compounds "
                       "WHERE plan_year = ?", [issue.plan_year]).fetchdf().merge(status, on="compound_id")
    not_started = plan[~plan["status"].isin(progress_mod.STARTED_STATUSES)]["planned_start_date"].dropna()
    not_done = plan[~plan["status"].isin(progress_mod.COMPLETED_STATUSES)]["planned_completion_date"].dropna()
    last_start = pd.Timestamp(not_started.max()).date() if len(not_started) else None
    last_done = pd.Timestamp(not_done.max()).date() if len(not_done) else None
    prog.attrs["last_planned_start"] = last_start if last_start and last_start > issue.report_date else None
    prog.attrs["last_planned_completion"] = last_done if last_done and last_done > issue.report_date else None
    behind = progress_mod.behind_schedule(con, as_of=issue.report_date, plan_year=issue.plan_year)
    series = progress_mod.weekly_series(con, plan_year=issue.plan_year)
    series = series[pd.to_datetime(series["report_date"]).dt.date <= issue.report_date].reset_index(drop=True)
    return Facts(
        progress=prog, behind=behind, previous=previous,
        payments=facts_mod.payments(con, plan_year=issue.plan_year, report_date=issue.report_date,
                                    previous_date=issue.previous_date),
        findings=facts_mod.open_findings(con, report_date=issue.report_date),
        series=series,
        money_order=facts_mod.money_order(con, plan_year=issue.plan_year, report_date=issue.report_date),
    )


def build_bulletin(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    kind: Kind,
    plan_year: int | None = None,
    rank_by: RankBy | None = None,
    office: OfficeSettings | None = None,
    register: bool = False,
    user: User | None = None,
) -> Bulletin:
    """Read one period from the store and compose its issue.

    Parameters
    ----------
    con
        Open project database.
    as_of
        The date asked for: a weekly issue uses the latest report on or before it, a monthly issue the
        latest month complete on it (see ``issues``).
    kind
        ``"week"`` (周调度) or ``"month"`` (月通报).
    plan_year
        Annual plan batch; default the report's year.
    rank_by
        Ranking indicator; default 开工率 while compounds remain to start, then 完工率.
    office
        The office's settings; default those in force (``office.load(con)``).
    register
        Store the issue in the register (``issues.register``): do so when the files are made, so a
        re-made issue keeps its number.
    user
        Who made it (recorded in the register).

    Raises
    ------
    InputError
        ``kind`` or ``rank_by`` unknown, ``as_of`` not a date.
    DataError
        No progress report on or before ``as_of``; the report comes before the year's first issue.
    """
    kind = check_kind(kind)
    if rank_by is not None and rank_by not in INDICATOR_NAMES:
        raise InputError(f"`rank_by` was {rank_by!r} but must be one of {tuple(INDICATOR_NAMES)!r} or None.")
    office = office or office_mod.load(con)
    issue = issues_mod.issue_for(con, as_of=as_of, kind=kind, office=office, plan_year=plan_year)
    if rank_by is None:
        first = progress_mod.county_progress(con, as_of=issue.report_date, plan_year=issue.plan_year)
        rank_by = choose_rank_by(first)  # type: ignore[assignment]
    facts = gather(con, issue, rank_by=rank_by)  # type: ignore[arg-type]
    if register:
        issue = issues_mod.register(con, issue, user=user)
    info = dict(con.execute("SELECT key, value FROM dataset_info").fetchall())
    bulletin = compose(facts, issue, rank_by=rank_by, is_demo=info.get("is_demo") == "true",  # type: ignore[arg-type]
                       office=office, as_of=as_of)
    log.info("bulletin %s: report %s compared with %s, %d units, %d behind", bulletin.full_title, issue.report_date,
             issue.previous_date, len(_units(facts.progress)), len(facts.behind))
    return bulletin


def with_issue(bulletin: Bulletin, issue: Issue) -> Bulletin:
    """The same bulletin under another number (e.g. once the register has given it its stored one)."""
    return replace(bulletin, issue=issue)
