"""One module per page: its cached loaders, KPI cards, tables and figures, built from what ``analytics`` returns.

``pages/<page>.py`` draws the screen; ``dashboard/views/<page>.py`` prepares what it draws (labels in the
user's language, display-only joins, no analysis). Mechanisms shared by every page live beside this
package: ``dashboard.maps``, ``dashboard.charts``, ``dashboard.downloads``, ``dashboard.formatting``,
``dashboard.urlstate``, ``dashboard.ui`` and ``dashboard.labels``.
"""
