"""priority page (to be built out): the compounds table so the page opens on the data."""

import streamlit as st

from dashboard import state, ui

ui.page_header("page.priority", ui.source_footer())
try:
    st.dataframe(state.layer("compounds", crs=None).drop(columns="geometry"), hide_index=True)
except Exception as exc:  # noqa: BLE001 - every error reaches the user as a message
    ui.show_error(exc)
