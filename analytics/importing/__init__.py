"""Import internals: reading uploads safely, CRS detection, field mapping, validation, writing and undo.

The public entry points are in ``analytics.importing.importer`` (compounds, parcels, facilities),
``analytics.services.reports`` (county weekly reports) and ``analytics.services.backup``.
"""
