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
from analytics.importing import importer
from analytics.importing.crs import DECLARABLE
from analytics.importing.fields import KINDS
from analytics.services import backup, reports
from analytics.services.auth import User, require
from analytics.services.bulletin import issues, office
from dashboard import auth_ui, maps, state, ui
from dashboard.downloads import show_table
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
    st.dataframe(shown, hide_index=True)


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
                                      swap_xy=swap, encoding=encoding, layer=layer, zones=state.zones())
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
    required = {"name", "built_year", "households", "floor_area_m2", "parcel_type", "facility_type"}
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


def preview_map(preview: importer.Preview) -> None:
    valid = preview.rows[preview.rows["_valid"]]
    if valid.empty:
        return
    # Points (representative points of outlines) stay visible at city scale, where compounds are specks.
    shown = valid[["_row", "geometry"] + [c for c in ("id", "name") if c in valid]].copy()
    shown["geometry"] = shown.geometry.representative_point()
    shown["key"] = shown["_row"].astype(str)
    fields = [(c, field_label(c)) for c in ("id", "name") if c in shown]
    m = maps.base_map(shown, show_notice=False)
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
    mode = st.radio(t("data.mode"), importer.MODES, key="data_mode", horizontal=True,
                    format_func=lambda m: t(f"data.mode.{m}"))
    if mode == "replace":
        st.caption(t("data.impact.replace", stored=impact["stored_rows"]))
        if kind == "compounds" and any(impact.get(f"replace_removes_{d}") for d in importer.COMPOUND_DEPENDENTS):
            st.caption(t("data.impact.removes", **{d: impact[f"replace_removes_{d}"]
                                                   for d in importer.COMPOUND_DEPENDENTS}))
    elif impact["ids_already_stored"]:
        st.caption(t("data.impact.append", clash=impact["ids_already_stored"]))
    only_valid = st.checkbox(t("data.only_valid"), key="data_only_valid", value=False,
                             disabled=preview.n_invalid == 0 and not impact["ids_already_stored"])
    if st.button(t("data.confirm"), type="primary", key="data_confirm"):
        done = _write(importer.commit, state.cursor(), preview, user=auth_ui.current_user(), mode=mode,
                      only_valid=only_valid)
        if done is None:
            return
        st.session_state["data_notice"] = t("data.imported", written=done.rows_written, rows_in=done.rows_in,
                                            rejected=done.rows_rejected)
        st.session_state["data_upload_n"] = st.session_state.get("data_upload_n", 0) + 1
        st.session_state.pop("_data_prepared", None)
        st.rerun()


# --------------------------------------------------------------------------------------- weekly reports
@st.cache_data(show_spinner=False, max_entries=32)
def _template(county: str, week: date, version: int) -> tuple[bytes, int]:
    cursor = state.cursor()
    return (reports.report_template(cursor, county, week),
            len(reports.template_compounds(cursor, county, week)))


@st.cache_data(show_spinner=False, max_entries=32)
def _week_number(week: date, version: int) -> int | str:
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
                st.session_state["undo_notice"] = t("data.undo.done", file=ui.literal(done.file_name or ""),
                                                    n=sum(done.restored.values()))
                st.rerun()
    st.subheader(t("data.history"))
    history = importer.import_history(state.cursor())
    if history.empty:
        st.caption(t("data.history.empty"))
    else:
        show_table(labelled(history), "import_history", key="import-history")


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

