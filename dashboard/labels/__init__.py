"""Every user-facing label in both languages, in one place.

Each module in this package defines ``LABELS: dict[str, tuple[str, str]]`` (key -> (中文, English)); the
modules are split by page only so that keys stay near their neighbours. ``t(key, **fmt)`` returns the
label in the current language (Chinese first; the sidebar toggle switches to English).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

LANGS = ("zh", "en")
_LABELS: dict[str, tuple[str, str]] = {}
for _module in pkgutil.iter_modules(__path__):
    _table = importlib.import_module(f"{__name__}.{_module.name}").LABELS
    _clash = set(_table) & set(_LABELS)
    if _clash:
        raise RuntimeError(f"Label keys defined twice: {sorted(_clash)}")
    _LABELS.update(_table)


def current_lang() -> str:
    """The session's language (``"zh"`` unless the user chose English)."""
    try:
        import streamlit as st

        return st.session_state.get("lang", "zh")
    except Exception:  # outside a Streamlit run
        return "zh"


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """Label ``key`` in ``lang`` (default: the session's), formatted with ``fmt``."""
    zh, en = _LABELS[key]
    text = en if (lang or current_lang()) == "en" else zh
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    """Whether ``key`` is a label."""
    return key in _LABELS


def labelled(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """``frame`` with every column ``c`` renamed to the label ``{prefix}.{c}`` in the current language."""
    return frame.rename(columns={c: t(f"{prefix}.{c}") for c in frame.columns})
