"""Undoable writes: snapshot the rows a write will replace, keyed by its audit id, and put them back on undo.

Every undoable write (a file import, a county weekly report) runs inside the caller's transaction:
``start_batch`` records it in ``import_batches`` and copies the rows in its ``scope`` — ``{table: {column:
value}}``, an empty filter meaning the whole table — into the ``undo_<table>`` twins. ``undo_batch`` deletes
the scope's current rows and re-inserts the snapshot, so the tables return exactly to their state before
the write. Writes are undone newest first; only the newest ``settings.UNDO_DEPTH`` keep their snapshot.
"""

from __future__ import annotations

import errno
import json
import logging
from datetime import datetime

import duckdb
import pandas as pd

from analytics import settings
from analytics._sql import scalar
from analytics.errors import DataError
from analytics.store import audit, table_columns

log = logging.getLogger(__name__)

UNDO_TABLES: tuple[str, ...] = (
    "compounds", "buildings", "parcels", "facilities", "progress_reports", "funding", "annual_plans", "dataset_info",
    "annual_targets", "projects", "fund_flows", "aftercare", "findings", "roads", "barriers",
)
Scope = dict[str, dict[str, object]]


def _where(filters: dict[str, object]) -> tuple[str, list[object]]:
    if not filters:
        return "", []
    clauses = [f'CAST("{column}" AS VARCHAR) = ?' for column in filters]
    return "WHERE " + " AND ".join(clauses), [str(v) for v in filters.values()]


def _common_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    twin = set(table_columns(con, f"undo_{table}"))
    return [c for c in table_columns(con, table) if c in twin]


def count_rows(con: duckdb.DuckDBPyConnection, table: str, filters: dict[str, object] | None = None) -> int:
    """Rows of ``table`` whose columns equal ``filters`` (all rows without filters)."""
    where, params = _where(filters or {})
    return int(scalar(con, f"SELECT count(*) FROM {table} {where}", params))


def start_batch(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    scope: Scope,
    *,
    username: str | None,
    action: str,
    table_name: str,
    mode: str,
    file_name: str | None,
) -> None:
    """Snapshot ``scope`` under ``import_id`` and record the batch (inside the caller's transaction)."""
    for table, filters in scope.items():
        if table not in UNDO_TABLES:
            raise ValueError(f"`scope` names {table!r} but only {UNDO_TABLES!r} can be snapshotted.")
        columns = ", ".join(f'"{c}"' for c in _common_columns(con, table))
        where, params = _where(filters)
        con.execute(
            f"INSERT INTO undo_{table} (import_id, {columns}) SELECT ?, {columns} FROM {table} {where}",
            [import_id, *params],
        )
    con.execute(
        """INSERT INTO import_batches (import_id, logged_at, username, action, table_name, mode, file_name, scope)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [import_id, datetime.now(), username, action, table_name, mode, file_name,
         json.dumps(scope, ensure_ascii=False, default=str)],
    )
    _prune(con)


def _prune(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the snapshots of standing batches beyond the newest ``settings.UNDO_DEPTH``."""
    old = [r[0] for r in con.execute(
        """SELECT import_id FROM import_batches WHERE undone_by IS NULL AND NOT snapshot_dropped
           ORDER BY import_id DESC OFFSET ?""", [settings.UNDO_DEPTH]).fetchall()]
    for import_id in old:
        for table in UNDO_TABLES:
            con.execute(f"DELETE FROM undo_{table} WHERE import_id = ?", [import_id])
        con.execute("UPDATE import_batches SET snapshot_dropped = true WHERE import_id = ?", [import_id])


def latest_batch(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The newest batch not yet undone (with its ``scope`` parsed), or ``None``."""
    frame = con.execute(
        "SELECT * FROM import_batches WHERE undone_by IS NULL ORDER BY import_id DESC LIMIT 1"
    ).fetchdf()
    if frame.empty:
        return None
    batch = frame.iloc[0].to_dict()
    batch["scope"] = json.loads(batch["scope"])
    batch["import_id"] = int(batch["import_id"])
    return batch


def undo_batch(
    con: duckdb.DuckDBPyConnection, batch: dict, *, username: str | None
) -> tuple[int, dict[str, int], dict[str, tuple[int, int]]]:
    """Restore the snapshot of ``batch`` (inside the caller's transaction).

    Returns the audit id, the rows of each table's snapshot, and per table what the undo changed:
    ``(taken, returned)`` — rows it removed (written by the batch) and rows it put back (the batch had
    removed or changed them); a row the batch changed counts once in each.
    """
    import_id = batch["import_id"]
    restored = {}
    changes = {}
    for table, filters in batch["scope"].items():
        where, params = _where(filters)
        columns = ", ".join(f'"{c}"' for c in _common_columns(con, table))
        now = f"SELECT {columns} FROM {table} {where}"
        before = f"SELECT {columns} FROM undo_{table} WHERE import_id = ?"
        taken = int(scalar(con, f"SELECT count(*) FROM ({now} EXCEPT ALL {before})", [*params, import_id]))
        returned = int(scalar(con, f"SELECT count(*) FROM ({before} EXCEPT ALL {now})", [import_id, *params]))
        changes[table] = (taken, returned)
        con.execute(f"DELETE FROM {table} {where}", params)
        con.execute(f"INSERT INTO {table} ({columns}) {before}", [import_id])
        restored[table] = count_rows(con, f"undo_{table}", {"import_id": import_id})
    con.execute("DELETE FROM progress_reports_history WHERE replaced_by_import = ?", [import_id])
    audit_id = audit.record(
        con, username=username, action="undo", table_name=batch["table_name"], file_name=batch["file_name"],
        mode=batch["action"], rows_written=sum(restored.values()),
        detail={"undone_import_id": import_id, "restored_rows": restored,
                "changed_rows": {table: {"removed": a, "restored": b} for table, (a, b) in changes.items()}},
    )
    for table in UNDO_TABLES:
        con.execute(f"DELETE FROM undo_{table} WHERE import_id = ?", [import_id])
    con.execute("UPDATE import_batches SET undone_by = ? WHERE import_id = ?", [audit_id, import_id])
    return audit_id, restored, changes


def clear_batches(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every snapshot (after a restore from backup the old states no longer follow on)."""
    for table in UNDO_TABLES:
        con.execute(f"DELETE FROM undo_{table}")
    con.execute("DELETE FROM import_batches")


NULLABLE_DTYPES = {"int": "Int64", "float": "Float64", "bool": "boolean"}


def typed(values: pd.Series, field_type: str) -> pd.Series | pd.api.extensions.ExtensionArray:
    """``values`` as DuckDB takes them for a column of ``field_type`` (imports and weekly reports alike).

    ``"int"``, ``"float"``, ``"bool"`` become nullable arrays, ``"date"`` ``datetime64[s]`` (unreadable dates
    missing); any other type objects with missing values ``None``.
    """
    if field_type in NULLABLE_DTYPES:
        return pd.array(values.where(values.notna(), None).tolist(), dtype=NULLABLE_DTYPES[field_type])
    if field_type == "date":
        return pd.to_datetime(values, errors="coerce").astype("datetime64[s]")
    return values.astype(object).where(values.notna(), None)


def set_info(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> None:
    """Upsert ``dataset_info`` keys."""
    for key, value in values.items():
        con.execute("INSERT OR REPLACE INTO dataset_info (key, value) VALUES (?, ?)", [key, str(value)])


def in_transaction(con: duckdb.DuckDBPyConnection, work):
    """Run ``work()`` in one transaction: it lands whole or not at all.

    A write conflicting with another session's concurrent write is rolled back and reported as a
    ``DataError`` (try again), not as a database exception. A full disk is reported (and logged) as
    such: DuckDB says "Failed to commit … No space left on device", also as a transaction error.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        result = work()
        con.execute("COMMIT")
    except BaseException as exc:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # DuckDB already aborted the transaction (e.g. after a conflict)
        if isinstance(exc, duckdb.Error) and is_disk_full(exc):
            raise disk_full_error(exc) from exc
        if isinstance(exc, duckdb.TransactionException):
            raise DataError(
                "Another write to the same data was in progress, so nothing was stored; try again in a moment."
            ) from exc
        raise
    return result


def is_disk_full(exc: BaseException) -> bool:
    """True when a database or file error says the disk (or the user's quota) is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left on device" in text or "disk quota exceeded" in text or "errno 28" in text


def disk_full_error(exc: BaseException, *, what: str = "a write") -> DataError:
    """The ``DataError`` (code ``store.disk_full``) reporting that ``what`` failed on a full disk; logged here."""
    log.error("%s was rolled back: the disk holding the database is full (%s)", what, str(exc)[:300])
    return DataError(
        "The disk holding the database is full, so nothing was stored; free space on the server (old "
        "backups, logs) and try again.", code="store.disk_full",
    )

