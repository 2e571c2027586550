"""The presentation mechanism (汇报模式): a 1920 × 1080 stage scaled to the screen, the slide in the URL,
next and previous by keyboard (what a presentation clicker sends) and by buttons, optional auto-advance.

How the presentation page uses it::

    presentation.stage()                             # full screen, no sidebar or toolbar, scaled to fit
    slide = presentation.current_slide(slides)       # from the URL (?slide=ranking), the first by default
    ... draw the slide inside the stage's 1920 × 1080 ...
    presentation.controls(slides)                    # ◀ 2 / 5 ▶, auto-advance, in the footer

The stage is laid out at :data:`STAGE_W` × :data:`STAGE_H` pixels and scaled as a whole (CSS ``zoom``) to the
largest size that fits the window, so a slide looks the same on a 1366 × 768 laptop, a 1920 × 1080 projector
and a 3840 × 2160 screen, and nothing ever scrolls. Type sizes (:data:`FIGURE_PX`, :data:`LABEL_PX`) are
stage pixels: on a 1920 × 1080 projector they are screen pixels. Streamlit sizes plotly charts and component
frames by measuring their container on screen, which a scaled stage would scale twice: slides draw their
bar charts in HTML (``views.present.bars``) and the map's frame is given its container's width in CSS.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import streamlit as st

from analytics import settings
from dashboard import urlstate
from dashboard.labels import t

STAGE_W, STAGE_H = 1920, 1080
"""The slide's own size in pixels (a 1080p projector's), scaled to the window."""
FIGURE_PX = 44
"""Type size of the figures a slide shows (KPI values, table figures), stage pixels (≥ 28 for a room)."""
LABEL_PX = 22
"""Type size of labels, captions and table text, stage pixels (≥ 18 for a room)."""
TITLE_PX = 46
HEADER_H, FOOTER_H = 118, 78
"""Heights of the slide's header (title, period, demo mark, filter) and footer (buttons), stage pixels."""
BODY_H = STAGE_H - HEADER_H - FOOTER_H - 40
"""What is left for a slide's body (charts, maps, tables are sized to it), stage pixels."""
PAD_X = 40

NEXT_KEYS = ("ArrowRight", "ArrowDown", "PageDown", " ", "Enter")
PREVIOUS_KEYS = ("ArrowLeft", "ArrowUp", "PageUp", "Backspace")

_STYLE = f"""
<style>
html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
    overflow: hidden !important; }}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], footer {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{
    position: fixed !important; margin: 0 !important;
    width: {STAGE_W}px !important; max-width: {STAGE_W}px !important; height: {STAGE_H}px !important;
    padding: 20px {PAD_X}px 0 {PAD_X}px !important; overflow: hidden !important; box-sizing: border-box;
    zoom: var(--jiugai-scale, 1);
    left: calc(var(--jiugai-x, 0px) / var(--jiugai-scale, 1)) !important;
    top: calc(var(--jiugai-y, 0px) / var(--jiugai-scale, 1)) !important; }}
[data-testid="stMain"] {{ background: #FFFFFF; }}
[data-testid="stMainBlockContainer"] iframe {{ width: 100% !important; }}  /* Streamlit measures it scaled */
[data-testid="stMainBlockContainer"] [data-baseweb="select"] div {{ font-size: {LABEL_PX}px !important; }}
.jiugai-stage p, .jiugai-stage li, [data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] button p, [data-testid="stMainBlockContainer"] label p {{
    font-size: {LABEL_PX}px !important; }}
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"],
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p {{ font-size: {LABEL_PX}px !important; }}
[data-testid="stMainBlockContainer"] [data-testid="stMetricLabel"],
[data-testid="stMainBlockContainer"] [data-testid="stMetricLabel"] p {{ font-size: {LABEL_PX + 2}px !important; }}
[data-testid="stMainBlockContainer"] [data-testid="stMetricValue"],
[data-testid="stMainBlockContainer"] [data-testid="stMetricValue"] p {{ font-size: {FIGURE_PX}px !important;
    font-weight: 700; line-height: 1.2; }}
[data-testid="stMainBlockContainer"] [data-testid="stMetricDelta"],
[data-testid="stMainBlockContainer"] [data-testid="stMetricDelta"] p {{ font-size: {LABEL_PX}px !important; }}
[data-testid="stMainBlockContainer"] h1 {{ font-size: {TITLE_PX}px !important; font-weight: 700;
    line-height: 1.15; margin: 0; padding: 0 !important; color: #1B2631; }}
.jiugai-slide-meta {{ font-size: {LABEL_PX}px; color: #4D5656; margin-top: -6px; }}
.jiugai-demo {{ display: inline-block; font-size: {LABEL_PX}px; font-weight: 700; color: #B03A2E;
    border: 2px solid #B03A2E; border-radius: 6px; padding: 2px 12px; margin-left: 14px; }}
.jiugai-filter {{ display: inline-block; font-size: {LABEL_PX}px; font-weight: 600; color: #FFFFFF;
    background: #C0392B; border-radius: 6px; padding: 2px 12px; margin-left: 14px; }}
.jiugai-table {{ border-collapse: collapse; width: 100%; font-size: {LABEL_PX + 2}px; }}
.jiugai-table th {{ text-align: left; font-weight: 600; color: #4D5656; border-bottom: 2px solid #5D6D7E;
    padding: 4px 12px; font-size: {LABEL_PX}px; white-space: nowrap; }}
.jiugai-table td {{ padding: 3px 12px; border-bottom: 1px solid #D5D8DC; white-space: nowrap; line-height: 1.3; }}
.jiugai-table td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.jiugai-table td.figure {{ font-size: {FIGURE_PX - 14}px; font-weight: 700; text-align: right; }}
.jiugai-table tr.jiugai-chosen td {{ background: #FADBD8; font-weight: 700; }}
.jiugai-table tr.jiugai-city td {{ border-top: 2px solid #5D6D7E; font-weight: 700; }}
.jiugai-note {{ font-size: {LABEL_PX}px; color: #4D5656; margin-top: 8px; }}
.jiugai-big {{ font-size: {FIGURE_PX}px; font-weight: 700; line-height: 1.1; }}
.jiugai-bars {{ position: relative; --jiugai-bar-name: 170px; --jiugai-bar-room: 120px; margin-top: 34px; }}
.jiugai-bar-row {{ display: flex; align-items: center; height: 52px; font-size: {LABEL_PX + 2}px; }}
.jiugai-bar-name {{ flex: 0 0 var(--jiugai-bar-name); text-align: right; padding-right: 12px; white-space: nowrap;
    overflow: hidden; }}
.jiugai-bar-track {{ position: relative; flex: 1 1 auto; height: 38px; margin-right: var(--jiugai-bar-room); }}
.jiugai-bar {{ height: 100%; border-radius: 2px; }}
.jiugai-bar-value {{ position: absolute; top: 50%; transform: translateY(-50%); padding-left: 8px;
    white-space: nowrap; font-weight: 700; }}
.jiugai-bar-line {{ position: absolute; top: -30px; bottom: 0; border-left: 2px dashed #7F8C8D; z-index: 1; }}
.jiugai-bar-line span {{ position: absolute; top: 0; left: 6px; white-space: nowrap; font-size: {LABEL_PX}px;
    color: #4D5656; }}
</style>
"""

# Fits the stage to the window, and turns a clicker's keys (also when the map has the focus) into clicks on
# the next / previous buttons. Installed once per browser tab; does nothing on pages without the buttons.
_SCRIPT = """
<script>
(function () {
    const next = %(next)s, previous = %(previous)s, w = %(w)d, h = %(h)d;
    const fit = () => {
        const s = Math.min(window.innerWidth / w, window.innerHeight / h);
        const root = document.documentElement.style;
        root.setProperty('--jiugai-scale', String(s));
        root.setProperty('--jiugai-x', ((window.innerWidth - w * s) / 2) + 'px');
        root.setProperty('--jiugai-y', ((window.innerHeight - h * s) / 2) + 'px');
    };
    fit();
    if (window.__jiugaiStage) return;
    window.__jiugaiStage = true;
    window.addEventListener('resize', fit);
    const press = (event) => {
        const target = event.target;
        if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
        const which = next.includes(event.key) ? 'next' : previous.includes(event.key) ? 'previous' : null;
        const button = which && document.querySelector('.st-key-present-' + which + ' button');
        if (!button) return;
        event.preventDefault();
        event.stopPropagation();
        if (!button.disabled) button.click();
    };
    document.addEventListener('keydown', press, true);
    setInterval(() => {  // a click on a map moves the focus into its frame: listen there too
        fit();
        for (const frame of document.querySelectorAll('iframe')) {
            try {
                const inner = frame.contentDocument;
                if (inner && !inner.__jiugaiKeys) {
                    inner.__jiugaiKeys = true;
                    inner.addEventListener('keydown', press, true);
                }
            } catch (error) { /* a frame of another origin: not ours */ }
        }
    }, 500);
})();
</script>
"""


def stage() -> None:
    """Turn the page into the full-screen stage (call first)."""
    import json

    st.html(_STYLE)
    st.html(_SCRIPT % {"next": json.dumps(list(NEXT_KEYS)), "previous": json.dumps(list(PREVIOUS_KEYS)),
                       "w": STAGE_W, "h": STAGE_H}, unsafe_allow_javascript=True)


def current_slide(slides: Sequence[str]) -> str:
    """The slide shown: ``?slide=`` from the URL when it is one of ``slides``, else the first."""
    slides = list(slides)
    if st.session_state.get("slide") not in slides:
        st.session_state.pop("slide", None)
    slide = urlstate.bind("slide", slides[0], options=slides)
    if st.session_state.get("_slide_shown") != slide:  # the moment a slide came up, for auto-advance
        st.session_state["_slide_shown"] = slide
        st.session_state["_slide_shown_at"] = time.monotonic()
    return slide


def _go(slides: list[str], step: int, *, wrap: bool = False) -> None:
    position = slides.index(st.session_state["slide"]) + step
    if wrap:
        position %= len(slides)
    st.session_state["slide"] = slides[min(max(position, 0), len(slides) - 1)]
    urlstate.sync("slide")


def controls(slides: Sequence[str], *, title_of) -> None:
    """The footer: previous, the slide's number and name, next; auto-advance on/off and its interval."""
    slides = list(slides)
    slide = st.session_state["slide"]
    position = slides.index(slide)
    advance = urlstate.bind("advance", 0, options=[0, *settings.PRESENTATION_ADVANCE_S], cast=int)
    back, where, ahead, auto, every = st.columns([1.2, 3.2, 1.2, 1.3, 1.3], vertical_alignment="center")
    back.button(t("present.previous"), key="present-previous", on_click=_go, args=(slides, -1),
                disabled=position == 0, width="stretch", icon=":material/arrow_back:")
    where.markdown(f"<div class='jiugai-slide-meta' style='text-align:center;margin:0'>"
                   f"{position + 1} / {len(slides)} · {title_of(slide)}</div>", unsafe_allow_html=True)
    ahead.button(t("present.next"), key="present-next", on_click=_go, args=(slides, 1),
                 disabled=position == len(slides) - 1, width="stretch", icon=":material/arrow_forward:")
    auto.toggle(t("present.auto"), value=bool(advance), key="present_auto", on_change=_auto_changed)
    every.selectbox(t("present.every"), settings.PRESENTATION_ADVANCE_S, key="present_every",
                    index=settings.PRESENTATION_ADVANCE_S.index(advance) if advance else 1,
                    format_func=lambda s: t("present.seconds", n=s), label_visibility="collapsed",
                    on_change=_auto_changed, disabled=not advance)
    if advance:
        _auto_advance(slides, advance)


def _auto_changed() -> None:
    st.session_state["advance"] = int(st.session_state["present_every"]) if st.session_state["present_auto"] else 0
    st.session_state["_slide_shown_at"] = time.monotonic()
    urlstate.sync("advance")


def _auto_advance(slides: list[str], seconds: int) -> None:
    """Every ``seconds`` the next slide (after the last, the first again); a manual change restarts the clock."""

    @st.fragment(run_every=seconds)
    def tick() -> None:
        if time.monotonic() - st.session_state.get("_slide_shown_at", 0.0) >= seconds - 0.5:
            _go(slides, 1, wrap=True)
            st.rerun()

    tick()
