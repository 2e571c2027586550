"""The project database: connection, schema migrations, write log and the seeded demo dataset.

The connection and its layers (``connection``), schema migrations (``schema``), the write log
(``audit``) and the seeded demo dataset (``demo``).

``analytics.store.connect`` and ``analytics.store.read_layer`` are the entry points the rest of the project
uses; they and the other connection functions are exported here.
"""

from analytics.store.connection import (
    LAYERS,
    build_demo_database,
    connect,
    dataset_info,
    insert_frame,
    load_spatial,
    read_layer,
    spatial_extension_path,
    table_columns,
    write_dataset,
)

__all__ = [
    "LAYERS",
    "build_demo_database",
    "connect",
    "dataset_info",
    "insert_frame",
    "load_spatial",
    "read_layer",
    "spatial_extension_path",
    "table_columns",
    "write_dataset",
]
