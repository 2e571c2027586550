"""数据管理 Data management: import the city's files, county weekly reports, import history and undo, backups.

Nothing is written before a preview says what was assumed; every write passes the signed-in user to the
analytics function, which checks the permission itself. The workflow is in ``dashboard.views.data``.
"""

from __future__ import annotations

import streamlit as st

from dashboard import auth_ui, ui
from dashboard.labels import t
from dashboard.views import data as page

ui.page_header("page.data", t("data.caption"))
user = auth_ui.current_user()
if user is None:
    st.info(t("data.signed_out"), icon=":material/lock:")
else:
    st.caption(t("data.signed_in", name=user.username, role=auth_ui.role_label(user.role)))
page.show_notices()

try:
    page.status_section()
    tab_import, tab_reports, tab_history, tab_backup = st.tabs(
        [t("data.tab.import"), t("data.tab.reports"), t("data.tab.history"), t("data.tab.backup")])
    with tab_import:
        page.import_section(user)
    with tab_reports:
        page.reports_section(user)
    with tab_history:
        page.history_section(user)
    with tab_backup:
        page.backup_section(user)
except Exception as exc:  # noqa: BLE001 - every error reaches the user as a message
    ui.show_error(exc)
