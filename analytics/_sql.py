"""Small DuckDB helpers shared inside ``analytics``: the single value an aggregate query returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | dict[str, object] | None = None) -> Any:
    """The first column of the first row of ``sql`` (``None`` when it returns no row).

    An aggregate (``count(*)``, ``max(...)``) always returns exactly one row.
    """
    row = con.execute(sql, params if params is not None else []).fetchone()
    return None if row is None else row[0]
