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

ui.attempt(page.status_section, stop=False)
tab_import, tab_reports, tab_history, tab_backup = st.tabs(
    [t("data.tab.import"), t("data.tab.reports"), t("data.tab.history"), t("data.tab.backup")])
with tab_import:
    ui.attempt(page.import_section, user, stop=False)
with tab_reports:
    ui.attempt(page.reports_section, user, stop=False)
with tab_history:
    ui.attempt(page.history_section, user, stop=False)
with tab_backup:
    ui.attempt(page.backup_section, user, stop=False)
