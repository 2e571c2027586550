"""The write log: every write path records who did what, when, with which file and how many rows."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pandas as pd

from analytics._sql import scalar


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    username: str | None,
    action: str,
    table_name: str | None = None,
    file_name: str | None = None,
    file_sha256: str | None = None,
    mode: str | None = None,
    rows_in: int | None = None,
    rows_written: int | None = None,
    rows_rejected: int | None = None,
    detail: str | dict | None = None,
) -> int:
    """Append one row to ``audit_log`` (inside the caller's transaction, if any); return its id.

    ``detail`` may be a dict; it is stored as JSON. The largest id is the data version the dashboard's
    caches key on, so every write must call this.
    """
    if isinstance(detail, dict):
        detail = json.dumps(detail, ensure_ascii=False, default=str)
    audit_id = scalar(
        con,
        """INSERT INTO audit_log (logged_at, username, action, table_name, file_name, file_sha256, mode,
                                  rows_in, rows_written, rows_rejected, detail)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [datetime.now(), username, action, table_name, file_name, file_sha256, mode,
         rows_in, rows_written, rows_rejected, detail],
    )
    return int(audit_id)


def read_log(con: duckdb.DuckDBPyConnection, *, limit: int = 500) -> pd.DataFrame:
    """The newest ``limit`` audit rows, newest first."""
    return con.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit]).fetchdf()
