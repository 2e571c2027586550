"""Front door: page config, navigation over pages/, and the shared sidebar."""

from __future__ import annotations

import streamlit as st

from analytics import log_limits, settings
from analytics.errors import JiugaiError
from dashboard import shell, sidebar, state, ui
from dashboard.labels import t
from dashboard.navigation import PAGES

log_limits.install()  # log lines quote user input: keep each bounded
# A local icon: a Material icon name here would make the browser fetch the favicon from the internet.
st.set_page_config(page_title="济宁市老旧小区改造", page_icon=str(settings.STATIC_DIR / "favicon.png"), layout="wide")

navigation = st.navigation(
    {
        t(group): [
            st.Page(settings.ROOT_DIR / path, title=t(title), icon=icon, url_path=slug, default=(slug == "overview"))
            for path, title, icon, slug in pages
        ]
        for group, pages in PAGES.items()
    }
)
try:
    state.connection()  # opens (or first builds) the database; a locked file is explained, not a traceback
except JiugaiError as exc:
    ui.show_error(exc)
    st.stop()
sidebar.render()
with shell.shell_running():
    navigation.run()
