"""Work a page waits for shows a progress indicator (a spinner with the time taken) while it runs."""

from __future__ import annotations

from contextlib import contextmanager

import streamlit as st

from dashboard import ui
from dashboard.labels import t


def test_attempt_runs_its_action_under_a_timed_spinner(monkeypatch):
    seen = []

    @contextmanager
    def spinner(text="", *, show_time=False, **kwargs):
        seen.append(("open", text, show_time))
        yield
        seen.append(("close", text, show_time))

    monkeypatch.setattr(st, "spinner", spinner)

    def action(x):
        seen.append(("run", x))
        return x * 2

    assert ui.attempt(action, 21) == 42
    assert seen == [("open", t("common.working"), True), ("run", 21), ("close", t("common.working"), True)]
