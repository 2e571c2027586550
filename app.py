"""Front door: page config, navigation over pages/, and the shared sidebar."""

from __future__ import annotations

import streamlit as st

from analytics import log_limits, settings
from dashboard import _internals, shell, sidebar, state, ui
from dashboard.labels import t
from dashboard.navigation import DEFAULT_SLUG, PAGES

log_limits.install()  # log lines quote user input: keep each bounded
_internals.pin_files_made_on_click()  # files made on click outlive other users' reruns (see the module)
_internals.say_why_files_failed()  # a file that cannot be made is explained in the user's language

# A local icon: a Material icon name here would make the browser fetch the favicon from the internet.
st.set_page_config(page_title="济宁市老旧小区改造", page_icon=str(settings.STATIC_DIR / "favicon.png"), layout="wide")

sidebar.init_from_url()  # the language first: the navigation below is labelled in it
_internals.open_default_page_by_slug(DEFAULT_SLUG)  # /overview opens the overview, not "Page not found"
navigation = st.navigation(
    {
        t(group): [
            st.Page(settings.ROOT_DIR / path, title=t(title), icon=icon, url_path=slug, default=(slug == DEFAULT_SLUG))
            for path, title, icon, slug in pages
        ]
        for group, pages in PAGES.items()
    }
)
st.set_page_config(page_title=t("app.tab_title", page=navigation.title))  # the browser tab names the page
ui.attempt(state.connection)  # opens (or first builds) the database; a locked file is explained, not a traceback
sidebar.render()
ui.page_css()  # chart frames, phone layout
with shell.shell_running():
    navigation.run()
