"""汇报模式 Presentation: full-screen slides for a meeting — overview with the map, the county ranking, the
compounds behind schedule, idle land and renewal clusters — paged with a clicker, the keyboard or the
buttons, optionally by themselves. A click on a county on the map filters every slide to it until cleared.
"""

from __future__ import annotations

import streamlit as st

from analytics.services import presentation as slides_setting
from dashboard import maps, presentation, shell, sidebar, state, ui, urlstate
from dashboard.labels import t
from dashboard.views import present as page

shell.ensure()
presentation.stage()

as_of = state.as_of_or_latest(sidebar.as_of())
if as_of is None:
    st.info(t("overview.no_reports"))
    st.stop()

slides = ui.attempt(slides_setting.load_slides, state.cursor())
slide = presentation.current_slide(slides)
st.set_page_config(page_title=t("app.tab_title", page=f"{page.slide_title(slide)} · {t('page.present')}"))
units = page.unit_options(as_of)
unit = ui.bind_choice("county", "", units)


def on_map_click() -> None:
    """A county clicked on the map filters the slides to it (a second click on it shows the whole city)."""
    code = maps.clicked(page.MAP_KEY, layer="counties")
    if code in units:
        st.session_state["county"] = "" if code == st.session_state.get("county") else code
        urlstate.sync("county")


def clear_filter() -> None:
    st.session_state["county"] = ""
    urlstate.sync("county")


page.header(page.slide_title(slide), ui.attempt(page.period, as_of), unit, on_clear=clear_filter)
with st.container(height=presentation.BODY_H, border=False):
    if slide == "overview":
        page.SLIDES[slide](as_of, unit, on_map_click=on_map_click)
    else:
        page.SLIDES[slide](as_of, unit)
presentation.controls(slides, title_of=page.slide_title)
urlstate.sync("county", "slide")
