"""The write log: every write path records who did what, when, with which file and how many rows.

It also records access: sign-ins and sign-outs, locked usernames, refused permissions and full backups
made for download (``ACCESS_ACTIONS``). Those change no data, so :func:`data_version` skips them.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pandas as pd

from analytics._sql import scalar

# Rows that record access, not a change of the data.
ACCESS_ACTIONS: tuple[str, ...] = ("sign_in", "sign_out", "sign_in_locked", "permission_refused", "backup_export")


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


def _newest_data_row(con: duckdb.DuckDBPyConnection) -> tuple[int, datetime] | None:
    """The id and time of the newest row that records a change of data (access rows skipped); None for none."""
    placeholders = ", ".join("?" for _ in ACCESS_ACTIONS)
    row = con.execute(
        f"""SELECT id, logged_at FROM audit_log WHERE action NOT IN ({placeholders})
            ORDER BY id DESC LIMIT 1""", list(ACCESS_ACTIONS)).fetchone()
    return None if row is None else (int(row[0]), row[1])


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    """The id of the newest row that records a change of data (0 for none): the key of cached results."""
    row = _newest_data_row(con)
    return 0 if row is None else row[0]


def data_stamp(con: duckdb.DuckDBPyConnection) -> str:
    """:func:`data_version` with the time its row was written: ``"<id>@<logged_at>"``.

    The id alone repeats when a backup is restored (the restored log ends at an earlier id, and the next write
    takes an id that an earlier state of the data already had) or when copies of one database change apart;
    the time it was written does not.
    """
    row = _newest_data_row(con)
    return "0" if row is None else f"{row[0]}@{row[1].isoformat()}"


def read_log(con: duckdb.DuckDBPyConnection, *, limit: int = 500) -> pd.DataFrame:
    """The newest ``limit`` audit rows, newest first."""
    return con.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit]).fetchdf()
