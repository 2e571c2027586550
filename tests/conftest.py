"""Shared fixtures: a session-wide demo database (built once into a temp dir) and in-memory stores."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Point the app at a private database before anything imports the settings.
_TMP = Path(tempfile.mkdtemp(prefix="jiugai-tests-"))
os.environ.setdefault("JIUGAI_DB", str(_TMP / "demo.duckdb"))

import pytest  # noqa: E402

from analytics import settings, store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_db_path() -> Path:
    """Path of the demo database every read-only test shares (built on first use)."""
    if not settings.DB_PATH.exists():
        store.build_demo_database(settings.DB_PATH)
    return settings.DB_PATH


@pytest.fixture(scope="session")
def demo_con(demo_db_path):
    """A connection to the shared demo database; tests must not write through it."""
    con = store.connect(demo_db_path)
    yield con


@pytest.fixture
def mem_con():
    """A fresh in-memory database with the schema applied."""
    con = store.connect(":memory:")
    yield con
    con.close()


@pytest.fixture(scope="session")
def demo_layers(demo_con):
    """The five spatial layers of the demo database in EPSG:4548."""
    return {name: store.read_layer(demo_con, name) for name in store.LAYERS}


@pytest.fixture(scope="session")
def demo_graph(demo_layers):
    """The walking graph of the demo's stored streets and river (what the pages walk on)."""
    from analytics.network import walk_graph

    return walk_graph(demo_layers["roads"], demo_layers["barriers"])
