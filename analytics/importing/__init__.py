"""Import internals: reading uploads safely, CRS detection, field mapping, validation, writing and undo.

The public entry points are in ``analytics.importer`` (compounds, parcels, facilities),
``analytics.reports`` (county weekly reports) and ``analytics.backup``.
"""
