"""The page index: groups, files, title keys, icons and URL slugs (app.py builds st.navigation from it)."""

from __future__ import annotations

PAGES: dict[str, list[tuple[str, str, str, str]]] = {
    "nav.group.overview": [
        ("pages/overview.py", "page.overview", ":material/dashboard:", "overview"),
        ("pages/present.py", "page.present", ":material/slideshow:", "present"),
    ],
    "nav.group.analysis": [
        ("pages/idle_land.py", "page.idle_land", ":material/landscape:", "idle_land"),
        ("pages/living_circle.py", "page.living_circle", ":material/radar:", "living_circle"),
        ("pages/clusters.py", "page.clusters", ":material/hub:", "clusters"),
        ("pages/priority.py", "page.priority", ":material/format_list_numbered:", "priority"),
        ("pages/plan.py", "page.plan", ":material/event_note:", "plan"),
    ],
    "nav.group.progress": [
        ("pages/programme.py", "page.programme", ":material/timeline:", "programme"),
        ("pages/progress.py", "page.progress", ":material/trending_up:", "progress"),
        ("pages/funding.py", "page.funding", ":material/payments:", "funding"),
    ],
    "nav.group.data": [
        ("pages/data.py", "page.data", ":material/database:", "data"),
        ("pages/admin.py", "page.admin", ":material/admin_panel_settings:", "admin"),
    ],
}

DEFAULT_SLUG = "overview"
"""The page served at the app's root (and at its own slug)."""


def page_paths() -> list[str]:
    """Every page file, in navigation order."""
    return [path for pages in PAGES.values() for path, *_ in pages]
