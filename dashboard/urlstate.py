"""Keep a page's view in the URL (``st.query_params``) so a copied link reopens the same view."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st


def bind(key: str, default: Any, *, options: Sequence[Any] | None = None, cast: Callable[[str], Any] = str) -> Any:
    """Initialise ``st.session_state[key]`` from the URL (or ``default``), and mirror it back to the URL.

    Call before creating the widget with ``key=key``; call :func:`sync` (or this again) after it. A URL
    value that does not parse, or is not in ``options``, falls back to ``default``.
    """
    if key not in st.session_state:
        value = default
        raw = st.query_params.get(key)
        if raw is not None:
            try:
                parsed = cast(raw)
            except (TypeError, ValueError):
                parsed = default
            if options is None or parsed in options:
                value = parsed
        st.session_state[key] = value
    sync(key)
    return st.session_state[key]


def sync(*keys: str) -> None:
    """Write the current session values of ``keys`` to the URL (lists joined by commas)."""
    for key in keys:
        value = st.session_state.get(key)
        if value is None:
            st.query_params.pop(key, None)
        elif isinstance(value, list | tuple):
            st.query_params[key] = ",".join(map(str, value))
        else:
            st.query_params[key] = str(value)


def list_of(allowed: Sequence[Any], *, item: Callable[[str], Any] = str) -> Callable[[str], list]:
    """A :func:`bind` cast for a comma-separated list: items parsed with ``item``, unknown ones dropped."""
    def cast(raw: str) -> list:
        values = []
        for part in raw.split(","):
            try:
                value = item(part)
            except (TypeError, ValueError):
                continue
            if value in allowed and value not in values:
                values.append(value)
        return values

    return cast
