"""The data page (数据管理): the import workflow (upload → what was assumed → field mapping → row report →
confirm), county weekly reports, import history and undo, backups and restore.

Each ``*_section`` draws one tab. Nothing is written before a preview says what was assumed; every write
passes the signed-in user to the analytics function, which checks the permission itself (``may`` here
only decides which hints to show).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

import pandas as pd
import streamlit as st

from analytics import settings
from analytics.errors import ImportRejected, JiugaiError, PermissionDenied
from analytics.importing import importer, templates
from analytics.importing.crs import DECLARABLE
from analytics.importing.fields import KINDS, TABLE_KINDS, fields_for
from analytics.services import backup, reports
from analytics.services.auth import User, require
from analytics.services.bulletin import issues, office
from dashboard import auth_ui, maps, state, ui
from dashboard.downloads import show_frame, show_table
from dashboard.formatting import unit_name
from dashboard.labels import has, t

T = TypeVar("T")
NOTICES = ("data_notice", "report_notice", "undo_notice", "restore_notice")
"""Session keys of the success messages a write leaves for the rerun after it."""


def show_notices() -> None:
    """The success messages left by the last write (shown once)."""
    for key in NOTICES:
        if key in st.session_state:
            st.success(st.session_state.pop(key))


def may(user: User | None, permission: str, county_code: str | None = None) -> bool:
    """Whether ``user`` holds ``permission`` (for the hint only; the write checks again)."""
    try:
        require(user, permission, county_code=county_code)
    except PermissionDenied:
        return False
    return True


def refused(exc: Exception) -> None:
    """The refusal in the user's language (:func:`dashboard.ui.show_error`) and, for a file, its row report."""
    ui.show_error(exc)
    if isinstance(exc, ImportRejected) and exc.problems:
        problems_table(pd.DataFrame(exc.problems), key="refused")


def _write(action: Callable[..., T], /, *args: object, **kwargs: object) -> T | None:
    """``action(*args, **kwargs)`` (a write, or what prepares one); ``None`` after showing why it was refused."""
    try:
        return action(*args, **kwargs)
    except JiugaiError as exc:
        refused(exc)
        return None


def field_label(name: str) -> str:
    """A field's label; ``sheet.field`` (a weekly report's payments or findings sheet) names the sheet too."""
    sheet, _, rest = name.partition(".")
    if rest and has(f"data.sheet.{sheet}"):
        return f"{t(f'data.sheet.{sheet}')} · {field_label(rest)}"
    if has(f"data.sheet.{name}"):
        return t(f"data.sheet.{name}")
    return t(f"data.field.{name}") if has(f"data.field.{name}") else name


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names in the user's language; table, action and source values too."""
    out = frame.copy()
    for column, prefix in (("table_name", "data.table"), ("action", "data.action"), ("source", "data.source")):
        if column in out:
            out[column] = out[column].map(lambda v, p=prefix: t(f"{p}.{v}") if has(f"{p}.{v}") else v)
    for column in ("report_date",):
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.date
    return out.rename(columns=lambda c: t(f"data.col.{c}") if has(f"data.col.{c}") else field_label(c))


def problems_table(problems: pd.DataFrame, *, key: str) -> None:
    """The row-level report with labels in the user's language, and its CSV/XLSX downloads."""
    if problems.empty:
        st.caption(t("data.no_problems"))
        return
    shown = pd.DataFrame({
        t("data.col.row"): problems["row"],
        t("data.col.field"): problems["field"].map(field_label),
        t("data.col.problem"): problems["code"].map(
            lambda c: t(f"data.problem.{c}") if has(f"data.problem.{c}") else c),
        t("data.col.value"): problems["value"],
        t("data.col.severity"): problems["severity"].map(lambda s: t(f"data.severity.{s}")),
        t("data.col.problem_detail"): problems["problem"],
    })
    show_table(shown, f"validation_{key}", key=f"problems-{key}")


def status_section() -> None:
    status = importer.dataset_status(state.cursor())
    demo_left = [t(f"data.table.{r}") for r, s in zip(status["table"], status["source"]) if s == "demo"]
    if demo_left:
        st.warning(t("data.status.demo_left", tables="、".join(demo_left)), icon=":material/science:")
    shown = pd.DataFrame({
        t("data.col.table"): status["table"].map(lambda x: t(f"data.table.{x}")),
        t("data.col.rows"): status["rows"],
        t("data.col.source"): status["source"].map(lambda s: t("data.source.demo") if s == "demo" else s),
        t("data.col.imported_at"): status["imported_at"],
    })
    show_frame(shown)


# --------------------------------------------------------------------------------------------- import
def _prepare(data: bytes, name: str, *, kind: str, crs, encoding, swap, layer, mapping: dict) -> object:
    """``importer.prepare`` once per file and choice in this session (the preview or the refusal)."""
    uploader = auth_ui.current_user()
    key = (hashlib.sha256(data).hexdigest(), name, kind, crs, encoding, swap, layer, tuple(sorted(mapping.items())),
           uploader)
    cached = st.session_state.get("_data_prepared")
    if cached is None or cached[0] != key:
        try:
            result = importer.prepare(data, name, kind=kind, user=uploader, mapping=mapping or None, crs=crs,
                                      swap_xy=swap, encoding=encoding, layer=layer, zones=state.zones(),
                                      con=state.cursor())
        except JiugaiError as exc:
            result = exc
        st.session_state["_data_prepared"] = (key, result)
        cached = st.session_state["_data_prepared"]
    return cached[1]


def assumed(preview: importer.Preview) -> None:
    """What was read and assumed — shown before anything is stored."""
    lines = [t("data.assumed.format", fmt=preview.format,
               layer=f" · {ui.literal(preview.layer)}" if preview.layer and len(preview.layers) > 1 else "")]
    if preview.encoding:
        lines.append(t("data.assumed.encoding", enc=preview.encoding, how=t(f"data.enc.{preview.encoding_source}")))
    if preview.crs is not None:
        choice = preview.crs
        name = t("data.crs.gcj02") if choice.gcj02 else (
            t(f"data.crs.{choice.epsg}") if has(f"data.crs.{choice.epsg}")
            else ui.literal(f"EPSG:{choice.epsg} {choice.name or ''}" if choice.epsg else str(choice.name)))
        how = t(f"data.how.{choice.source}")
        if choice.source == "detected":
            how += " · " + t(f"data.reason.{choice.reason}")
        lines.append(t("data.assumed.crs", crs=name, how=how))
        if choice.swapped:
            lines.append(t("data.assumed.swapped"))
        if choice.gcj02:
            lines.append(t("data.assumed.gcj02"))
    if preview.header_row:
        lines.append(t("data.assumed.header", row=preview.header_row))
    st.info(f"**{t('data.assumed')}**\n\n" + "\n\n".join(f"- {line}" for line in lines), icon=":material/info:")


def mapping_editor(preview: importer.Preview) -> dict | None:
    """The mapping as an editable table; returns the changed mapping, or None when unchanged."""
    required = {f.name for f in fields_for(preview.kind, tabular=True) if f.required}
    frame = pd.DataFrame({
        "field": preview.fields,
        "label": [field_label(f) + (" *" if f in required and f in preview.mapping else "") for f in preview.fields],
        "column": [preview.mapping.get(f) or "" for f in preview.fields],
    })
    digest = hashlib.sha256(repr(sorted(preview.mapping.items())).encode()).hexdigest()[:12]
    edited = st.data_editor(
        frame, hide_index=True, key=f"data_mapping_{digest}", disabled=["field", "label"],
        column_order=["label", "column"],
        column_config={
            "label": st.column_config.TextColumn(t("data.col.field")),
            "column": st.column_config.SelectboxColumn(t("data.col.column"), options=["", *preview.columns]),
        },
    )
    chosen = {f: (c or None) for f, c in zip(edited["field"], edited["column"])}
    return chosen if chosen != {f: preview.mapping.get(f) for f in preview.fields} else None


PREVIEW_MAX_ZOOM = 14
"""Closest zoom the import preview opens on (about 10 m a pixel: a compound is a small outline)."""


def preview_map(preview: importer.Preview) -> None:
    valid = preview.rows[preview.rows["_valid"]]
    if valid.empty or "geometry" not in valid:  # the programme's tables have no locations
        return
    # drawn as they are (outlines as outlines) inside the county outlines, on the file's extent but never
    # closer than PREVIEW_MAX_ZOOM: a few compounds are seen among their streets and county, not alone
    shown = valid[["_row", "geometry"] + [c for c in ("id", "name") if c in valid]].copy()
    shown["key"] = shown["_row"].astype(str)
    fields = [(c, field_label(c)) for c in ("id", "name") if c in shown]
    m = maps.base_map(shown, show_notice=False, max_zoom=PREVIEW_MAX_ZOOM, padding_px=12)
    maps.add_counties(m, state.layer("counties", crs=None))
    maps.add_layer(m, shown, layer="preview", name=t("data.preview_map"), id_column="key", fields=fields,
                   style=maps.Style(color="#C0392B", fill_color="#E74C3C"))
    maps.render(m, key="data_preview_map", height=380)


def import_section(user: User | None) -> None:
    if not may(user, "import"):  # no uploader: nothing is sent to the server, nothing parsed
        st.info(t("data.upload_needs.import"), icon=":material/lock:")
        return
    st.caption(t("data.upload_hint"))
    top = st.columns([1, 2])
    kind = top[0].selectbox(t("data.kind"), KINDS, key="data_kind", format_func=lambda k: t(f"data.table.{k}"))
    if has(f"data.kind_help.{kind}"):
        st.caption(t(f"data.kind_help.{kind}"))
    if kind == "annual_targets":
        with st.expander(t("data.targets.title")):
            targets_editor()
    if kind in TABLE_KINDS:
        st.caption(t("data.table_hint"))
        made = _write(_table_template, kind, state.data_version())
        if made is not None:
            st.download_button(t("data.table_template"), made, f"{t(f'data.table.{kind}')}_模板.xlsx",
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               key=f"data_template_{kind}")
    upload = top[1].file_uploader(
        t("data.upload"), type=["zip", "geojson", "json", "gpkg", "csv", "xlsx"],
        key=f"data_file_{st.session_state.get('data_upload_n', 0)}",
        help=t("data.upload_help", mb=settings.UPLOAD_MAX_MB),
    )
    with st.expander(t("data.options")):
        cols = st.columns(3)
        crs = cols[0].selectbox(t("data.opt.crs"), [None, *DECLARABLE], key="data_crs",
                                format_func=lambda c: t("data.opt.auto") if c is None else t(f"data.crs.{c}"))
        encoding = cols[1].selectbox(t("data.opt.encoding"), [None, "GBK", "UTF-8"], key="data_encoding",
                                     format_func=lambda e: t("data.opt.auto") if e is None else e)
        swap = cols[2].selectbox(t("data.opt.swap"), [None, True, False], key="data_swap",
                                 format_func=lambda s: t("data.opt.auto") if s is None else t(
                                     "data.opt.yes" if s else "data.opt.no"))
        layer = st.session_state.get("data_layer")
    if upload is None:
        st.session_state.pop("_data_mapping", None)
        return
    data = upload.getvalue()
    file_key = (hashlib.sha256(data).hexdigest(), kind)
    if st.session_state.get("_data_file_key") != file_key:
        st.session_state["_data_file_key"] = file_key
        st.session_state["_data_mapping"] = {}
        st.session_state.pop("data_layer", None)
        st.session_state.pop("data_replace_ok", None)  # a new file's deletions are confirmed anew
        layer = None
    result = _prepare(data, upload.name, kind=kind, crs=crs, encoding=encoding, swap=swap, layer=layer,
                      mapping=st.session_state.get("_data_mapping", {}))
    if isinstance(result, Exception):
        refused(result)
        return
    preview: importer.Preview = result
    if len(preview.layers) > 1:
        st.selectbox(t("data.opt.layer"), preview.layers, key="data_layer", index=preview.layers.index(preview.layer))
    assumed(preview)

    st.subheader(t("data.mapping"))
    st.caption(t("data.mapping_help"))
    changed = mapping_editor(preview)
    if changed is not None:
        st.session_state["_data_mapping"] = changed
        st.rerun()
    if preview.ignored_columns:
        st.caption(t("data.ignored", cols="、".join(ui.literal(c) for c in preview.ignored_columns)))
    if preview.error is not None:
        refused(preview.error)
        return

    cards = st.columns(4)
    cards[0].metric(t("data.metric.rows"), preview.n_rows, border=True)
    cards[1].metric(t("data.metric.valid"), preview.n_valid, border=True)
    cards[2].metric(t("data.metric.invalid"), preview.n_invalid, border=True)
    cards[3].metric(t("data.metric.warnings"), preview.n_warnings, border=True)
    st.subheader(t("data.report_title"))
    problems_table(importer.problems_for_download(preview), key="import")
    preview_map(preview)

    impact = importer.stored_impact(state.cursor(), preview)
    mode = st.radio(t("data.mode"), importer.MODES, key="data_mode", horizontal=True,  # append first: the default
                    format_func=lambda m: t(f"data.mode.{m}"))
    confirmed = True
    if mode == "replace":
        deletes = replace_deletes(kind, impact)
        st.warning(t("data.replace.warning", tables=counts_text(deletes) or t("data.nothing"), rows=preview.n_valid,
                     table=table_label(kind)), icon=":material/delete_forever:")
        if kind == "annual_targets":
            years = sorted({int(y) for y in preview.rows.loc[preview.rows["_valid"], "year"].dropna()})
            st.caption(t("data.impact.replace_years", stored=impact["stored_rows"], years="、".join(map(str, years))))
        if impact.get("replace_removes_barriers"):
            st.caption(t("data.impact.removes_barriers", barriers=impact["replace_removes_barriers"]))
        if sum(deletes.values()):  # a deletion waits for its confirmation
            confirmed = st.checkbox(t("data.replace.confirm", n=f"{sum(deletes.values()):,}"), key="data_replace_ok")
    elif impact["ids_already_stored"]:
        st.caption(t("data.impact.append", clash=impact["ids_already_stored"]))
    only_valid = st.checkbox(t("data.only_valid"), key="data_only_valid", value=False,
                             disabled=preview.n_invalid == 0 and not impact["ids_already_stored"])
    if st.button(t("data.confirm"), type="primary", key="data_confirm", disabled=not confirmed):
        done = _write(importer.commit, state.cursor(), preview, user=auth_ui.current_user(), mode=mode,
                      only_valid=only_valid)
        if done is None:
            return
        st.session_state["data_notice"] = imported_notice(done)
        st.session_state["data_upload_n"] = st.session_state.get("data_upload_n", 0) + 1
        st.session_state.pop("_data_prepared", None)
        st.session_state.pop("data_replace_ok", None)
        st.rerun()


def table_label(table: str) -> str:
    return t(f"data.table.{table}") if has(f"data.table.{table}") else table


def counts_text(counts: dict[str, int]) -> str:
    """``老旧小区 975 条、楼栋 5,341 条`` (tables without rows left out)."""
    return t("data.list_sep").join(t("data.rows_of", table=table_label(table), n=f"{n:,}")
                                   for table, n in counts.items() if n)


def replace_deletes(kind: str, impact: dict[str, int]) -> dict[str, int]:
    """Rows a replace deletes, per table: the table's stored rows, then the rows that go with them."""
    deletes = {kind: impact["stored_rows"]}
    deletes.update({key.removeprefix("replace_removes_"): n for key, n in impact.items()
                    if key.startswith("replace_removes_")})
    return deletes


def imported_notice(done: importer.ImportResult) -> str:
    """What an import wrote and deleted, and that it can be undone."""
    if done.mode == "replace":
        removed = {table: n for table, n in done.removed.items() if has(f"data.table.{table}")}  # rows, not links
        deleted = counts_text({done.kind: done.replaced, **removed}) or t("data.nothing")
        return t("data.imported.replace", deleted=deleted, written=f"{done.rows_written:,}",
                 table=table_label(done.kind), rejected=done.rows_rejected)
    return t("data.imported.append", written=f"{done.rows_written:,}", table=table_label(done.kind),
             rejected=done.rows_rejected)


DERIVED_TABLES = ("dataset_info", "annual_plans")
"""Tables a write recomputes (the dataset's notes, plan totals from compounds): not named in an undo's notice."""


def undone_notice(done: importer.UndoResult) -> str:
    """Per table what an undo took away and put back (tables it left as they were are not named)."""
    parts = []
    for table, (removed, restored) in done.changes.items():
        if table in DERIVED_TABLES or not (removed or restored):
            continue
        what = [t("data.undo.removed", n=f"{removed:,}")] if removed else []
        what += [t("data.undo.restored", n=f"{restored:,}")] if restored else []
        parts.append(t("data.undo.table", table=table_label(table), what=t("data.comma").join(what)))
    return t("data.undo.done", file=ui.literal(done.file_name or ""),
             changes=t("data.list_sep_semi").join(parts) if parts else t("data.undo.unchanged"))


TARGET_COLUMNS = ("compounds", "households", "floor_area_m2", "investment_wan", "issued_date", "source", "note")


def targets_editor() -> None:
    """One year's targets, one row per unit and the city, edited and saved through the import's own write.

    The edited rows become a CSV of the year that ``importer.prepare`` checks and ``importer.commit``
    stores (replacing that year's targets): logged and undoable like any import.
    """
    st.caption(t("data.targets.caption"))
    cur = state.cursor()
    years = sorted({int(y) for (y,) in cur.execute(
        "SELECT DISTINCT year FROM annual_targets UNION SELECT DISTINCT plan_year FROM compounds "
        "WHERE plan_year IS NOT NULL").fetchall()} | {date.today().year})
    year = st.selectbox(t("data.targets.year"), years, index=len(years) - 1, key="targets_year")
    stored = cur.execute(f"SELECT unit_code, {', '.join(TARGET_COLUMNS)} FROM annual_targets WHERE year = ?",
                         [year]).fetchdf()
    codes = [settings.CITY_UNIT_CODE, *state.unit_codes(year=year)]
    codes += [c for c in stored["unit_code"] if c not in codes]
    frame = pd.DataFrame({"unit_code": codes}).merge(stored, on="unit_code", how="left")
    frame["issued_date"] = pd.to_datetime(frame["issued_date"]).dt.date
    frame.insert(1, "unit", [unit_name(c) for c in codes])
    numbers = {"compounds": "%d", "households": "%d", "floor_area_m2": "%.0f", "investment_wan": "%.2f"}
    config = {name: st.column_config.NumberColumn(field_label(name), min_value=0, format=fmt)
              for name, fmt in numbers.items()}
    config.update(unit=st.column_config.TextColumn(field_label("unit_code")),
                  issued_date=st.column_config.DateColumn(field_label("issued_date")),
                  source=st.column_config.TextColumn(field_label("source")),
                  note=st.column_config.TextColumn(field_label("note")))
    edited = st.data_editor(frame, hide_index=True, disabled=["unit_code", "unit"], column_config=config,
                            column_order=["unit", *TARGET_COLUMNS], key=f"targets_edit_{year}_{state.data_version()}")
    if not st.button(t("data.targets.save"), key="targets_save"):
        return
    done = save_targets(cur, year, edited.drop(columns=["unit"]), frame.drop(columns=["unit"]),
                        user=auth_ui.current_user())
    if done is None:
        st.info(t("data.targets.unchanged"))
        return
    if isinstance(done, importer.Preview):
        refused(done.error or ImportRejected(f"{done.file_name!r} has errors.", kind="validation"))
        problems_table(done.problems, key="targets")
        return
    st.session_state["data_notice"] = t("data.targets.saved", year=year, n=done.rows_written)
    st.rerun()


def save_targets(con, year: int, edited: pd.DataFrame, original: pd.DataFrame, *,
                 user: User | None) -> importer.ImportResult | importer.Preview | None:
    """Store a year's edited targets through ``importer.prepare`` and ``importer.commit`` (replacing the year).

    Returns the import's result, the preview when it has errors (nothing stored), or ``None`` when nothing
    changed. Rows without any figure are left out. Refusals (permission, a file-level problem) raise.
    """
    figures = ["compounds", "households", "floor_area_m2", "investment_wan"]
    keep = edited[edited[figures].notna().any(axis=1)].reset_index(drop=True)
    before = original[original[figures].notna().any(axis=1)].reset_index(drop=True)
    if keep.astype(object).where(keep.notna(), None).equals(before.astype(object).where(before.notna(), None)):
        return None
    keep = keep.copy()
    keep.insert(0, "year", year)
    data = keep.to_csv(index=False).encode("utf-8-sig")
    name = f"{year}年度目标任务（页面编辑）.csv"
    preview = importer.prepare(data, name, kind="annual_targets", user=user, con=con)
    if preview.error is not None or preview.n_invalid:
        return preview
    return importer.commit(con, preview, user=user, mode="replace")


@st.cache_data(show_spinner=False, max_entries=16)
def _table_template(kind: str, version: str) -> bytes:
    return templates.template_workbook(state.cursor(), kind)


# --------------------------------------------------------------------------------------- weekly reports
@st.cache_data(show_spinner=False, max_entries=32)
def _template(county: str, week: date, version: str) -> tuple[bytes, int]:
    cursor = state.cursor()
    return (reports.report_template(cursor, county, week),
            len(reports.template_compounds(cursor, county, week)))


@st.cache_data(show_spinner=False, max_entries=32)
def _week_number(week: date, version: str) -> int | str:
    cursor = state.cursor()
    number = issues.week_number(cursor, week, office.load(cursor))
    return "—" if number is None else number


def _default_week() -> date:
    dates = state.report_dates()
    return dates[-1] + timedelta(days=7) if dates else reports.report_friday(date.today())


def reports_section(user: User | None) -> None:
    st.caption(t("data.report.intro"))
    top = st.columns(2)
    chosen = top[1].date_input(t("data.report.week"), value=_default_week(), key="report_week")
    week = reports.report_friday(chosen)
    counties = state.unit_codes(year=week.year)  # counties and function zones active that year, official order
    if st.session_state.get("report_county") not in counties:
        st.session_state["report_county"] = user.county_code if user and user.county_code in counties else counties[0]
    names = {c: unit_name(c) for c in counties}  # read once, in this run
    county = top[0].selectbox(t("data.report.county"), counties, key="report_county",
                              format_func=lambda c: f"{names.get(c, c)}（{c}）")
    st.caption(t("data.report.friday", date=week.isoformat(), year=week.year, n=_week_number(week, state.data_version())))
    made = _write(_template, county, week, state.data_version())
    if made is None:
        return
    template, n_rows = made
    st.download_button(t("data.report.template"), template, f"{county}_{unit_name(county)}_周报_{week}.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="report_template")
    st.caption(t("data.report.template_rows", n=n_rows))

    filled = None
    if may(user, "submit_report", county):
        filled = st.file_uploader(t("data.report.upload"), type=["xlsx"],
                                  key=f"report_file_{st.session_state.get('report_upload_n', 0)}")
    else:  # no uploader: nothing is sent to the server, nothing parsed
        st.info(t("data.upload_needs.report", county=unit_name(county)), icon=":material/lock:")
    if filled is not None:
        data = filled.getvalue()
        uploader = auth_ui.current_user()
        key = (hashlib.sha256(data).hexdigest(), county, week, state.data_version(), uploader)
        cached = st.session_state.get("_report_prepared")
        if cached is None or cached[0] != key:
            try:
                result = reports.prepare_report(state.cursor(), data, filled.name, county_code=county, report_date=week,
                                                user=uploader)
            except JiugaiError as exc:
                result = exc
            st.session_state["_report_prepared"] = cached = (key, result)
        preview = cached[1]
        if isinstance(preview, Exception):
            refused(preview)
        else:
            st.caption(t("data.report.rows", n=preview.n_rows))
            if not preview.from_template:
                st.caption(t("data.report.no_meta"))
            if preview.missing:
                st.warning(t("data.report.missing", parts="、".join(t(f"data.sheet.{p}") for p in preview.missing)))
            counts = preview.sheets.counts()
            st.caption(t("data.report.extras", flows=counts["flows"], changed=counts["findings_changed"],
                         new=counts["findings_new"]))
            if preview.replaces:
                st.warning(t("data.report.replaces", n=preview.replaces))
            problems_table(preview.problems, key="report")
            if st.button(t("data.report.submit"), type="primary", key="report_submit"):
                done = _write(reports.submit_report, state.cursor(), preview, user=auth_ui.current_user())
                if done is not None:
                    st.session_state["report_notice"] = t(
                        "data.report.submitted", county=unit_name(county), date=week.isoformat(),
                        n=done.rows_written, replaced=done.rows_replaced)
                    st.session_state["report_upload_n"] = st.session_state.get("report_upload_n", 0) + 1
                    st.session_state.pop("_report_prepared", None)
                    st.rerun()

    st.subheader(t("data.report.stored"))
    stored = reports.submitted_reports(state.cursor(), county_code=county)
    show_table(labelled(stored), f"reports_{county}", key="report-stored")
    with st.expander(t("data.report.history")):
        history = reports.report_history(state.cursor(), county_code=county)
        if history.empty:
            st.caption(t("data.report.no_history"))
        else:
            show_table(labelled(history), f"report_history_{county}", key="report-history")


# ---------------------------------------------------------------------------------------- history, undo
def history_section(user: User | None) -> None:
    st.subheader(t("data.undo.title"))
    candidate = importer.undo_candidate(state.cursor())
    if candidate is None:
        st.caption(t("data.undo.none"))
    else:
        table = candidate["table_name"]
        st.write(t("data.undo.what", action=t(f"data.action.{candidate['action']}"),
                   table=t(f"data.table.{table}") if has(f"data.table.{table}") else table,
                   file=ui.literal(candidate["file_name"] or ""), user=ui.literal(candidate["username"] or ""),
                   when=pd.Timestamp(candidate["logged_at"]).strftime("%Y-%m-%d %H:%M")))
        if not may(user, "undo"):
            st.caption(t("data.may_not"))
        if st.button(t("data.undo.button"), key="data_undo"):
            done = _write(importer.undo_last_import, state.cursor(), user=auth_ui.current_user())
            if done is not None:
                st.session_state["undo_notice"] = undone_notice(done)
                st.rerun()
    st.subheader(t("data.history"))
    history = importer.import_history(state.cursor())
    if history.empty:
        st.caption(t("data.history.empty"))
    else:
        show_table(history_table(history), "import_history", key="import-history")


HISTORY_COLUMNS = ("id", "logged_at", "username", "action", "table_name", "file_name", "fingerprint", "mode",
                   "rows_in", "rows_written", "rows_rejected", "undone_by", "detail")
FINGERPRINT_CHARS = 12
"""Hex digits of a file's SHA-256 shown as its fingerprint (enough to tell two files apart by eye)."""


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """The import history as an office reads it: labels in the user's language, the time to the minute, a
    short file fingerprint, the mode and details in words, blanks where there is nothing."""
    out = pd.DataFrame({
        "id": history["id"].astype(str),
        "logged_at": pd.to_datetime(history["logged_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        "username": history["username"],
        "action": [_label("data.action", a) for a in history["action"]],
        "table_name": [table_label(x) if isinstance(x, str) else x for x in history["table_name"]],
        "file_name": history["file_name"],
        "fingerprint": [v[:FINGERPRINT_CHARS] if isinstance(v, str) else None for v in history["file_sha256"]],
        "mode": [_mode_label(m) for m in history["mode"]],
        # an undo's count is its snapshot's size, not what changed: its detail says per table instead
        "rows_in": history["rows_in"], "rows_written": history["rows_written"].where(history["action"] != "undo"),
        "rows_rejected": history["rows_rejected"], "undone_by": history["undone_by"],
        "detail": [detail_text(d) for d in history["detail"]],
    })[list(HISTORY_COLUMNS)]
    for column in ("rows_in", "rows_written", "rows_rejected", "undone_by"):
        out[column] = [f"{int(v):,}" if pd.notna(v) else "" for v in out[column]]
    out = out.astype(object).where(out.notna(), "").astype(str)  # nothing there: a blank cell, not None or <NA>
    return out.rename(columns=lambda c: t(f"data.col.{c}"))


def _label(prefix: str, value: object) -> object:
    return t(f"{prefix}.{value}") if isinstance(value, str) and has(f"{prefix}.{value}") else value


def _mode_label(mode: object) -> object:
    """append/replace as 追加/替换; an undo's mode names what it undid (导入, 周报报送, …)."""
    if isinstance(mode, str) and has(f"data.mode_short.{mode}"):
        return t(f"data.mode_short.{mode}")
    return _label("data.action", mode)


def detail_text(detail: object) -> str:
    """An audit entry's details in words (format, encoding, coordinate system; what an undo changed); other
    keys are left out, never shown as raw JSON."""
    import json

    if not isinstance(detail, str) or not detail.strip():
        return ""
    try:
        values = json.loads(detail)
    except ValueError:
        return ""
    if not isinstance(values, dict):
        return ""
    parts = [t(f"data.detail.{key}", value=ui.literal(str(values[key])))
             for key in ("format", "layer", "encoding", "crs") if values.get(key)]
    if values.get("undone_import_id") is not None:
        parts.append(t("data.detail.undone", id=values["undone_import_id"]))
    for table, change in (values.get("changed_rows") or {}).items():
        if table in DERIVED_TABLES or not isinstance(change, dict):
            continue
        removed, restored = int(change.get("removed") or 0), int(change.get("restored") or 0)
        what = [t("data.undo.removed", n=f"{removed:,}")] if removed else []
        what += [t("data.undo.restored", n=f"{restored:,}")] if restored else []
        if what:
            parts.append(t("data.undo.table", table=table_label(table), what=t("data.comma").join(what)))
    return t("data.list_sep_semi").join(parts)


# -------------------------------------------------------------------------------------------- backups
def backup_section(user: User | None) -> None:
    st.subheader(t("data.backup.title"))
    st.caption(t("data.backup.intro"))
    if not may(user, "backup"):
        st.caption(t("data.may_not"))
    cols = st.columns([2, 1])
    fmt = cols[0].radio(t("data.backup.format"), backup.FORMATS, key="backup_format", horizontal=True,
                        format_func=lambda f: t(f"data.backup.{f}"))
    if cols[1].button(t("data.backup.make"), key="backup_make"):
        with st.spinner():
            blob = _write(backup.export_backup, state.cursor(), user=auth_ui.current_user(), fmt=fmt)
        if blob is not None:
            stamp = pd.Timestamp.now().strftime("%Y%m%d-%H%M")
            st.session_state["_backup_file"] = (f"jiugai-backup-{stamp}-{fmt}.zip", blob)
    if "_backup_file" in st.session_state:
        name, blob = st.session_state["_backup_file"]
        st.download_button(t("data.backup.download"), blob, name, "application/zip", key="backup_download")

    st.subheader(t("data.restore.title"))
    if not may(user, "backup"):  # no uploader: nothing is sent to the server, nothing parsed
        st.info(t("data.upload_needs.backup"), icon=":material/lock:")
        return
    st.warning(t("data.restore.warning"))
    zipped = st.file_uploader(t("data.restore.upload"), type=["zip"],
                              key=f"restore_file_{st.session_state.get('restore_upload_n', 0)}")
    confirmed = st.checkbox(t("data.restore.confirm"), key="restore_confirm")
    if st.button(t("data.restore.button"), key="restore_button"):
        if zipped is None:
            st.warning(t("data.restore.need_file"))
            return
        if not confirmed:
            st.warning(t("data.restore.need_confirm"))
            return
        with st.spinner():
            done = _write(backup.restore_backup, state.cursor(), zipped.getvalue(), user=auth_ui.current_user(),
                          file_name=zipped.name)
        if done is not None:
            st.session_state["restore_notice"] = t("data.restore.done", n=sum(done.rows.values()),
                                                   when=ui.literal(done.created_at or ""))
            st.session_state["restore_upload_n"] = st.session_state.get("restore_upload_n", 0) + 1
            st.session_state.pop("_backup_file", None)
            st.rerun()

