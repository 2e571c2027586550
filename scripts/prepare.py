"""Prepare a checkout to run: copy offline web assets into ``static/`` and build the database if missing."""

from __future__ import annotations

import logging
import shutil

from analytics import settings, store

log = logging.getLogger(__name__)


def copy_static_assets() -> None:
    """Copy Leaflet and jQuery from their pip packages into ``static/vendor`` (served by Streamlit)."""
    import xstatic.pkg.jquery as jquery
    import xstatic.pkg.leaflet as leaflet

    for name, module in (("leaflet", leaflet), ("jquery", jquery)):
        target = settings.STATIC_DIR / "vendor" / name
        if not target.exists():
            shutil.copytree(module.BASE_DIR, target)
            log.info("copied %s to %s", name, target)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    copy_static_assets()
    if not settings.DB_PATH.exists():
        store.build_demo_database(settings.DB_PATH)


if __name__ == "__main__":
    main()
