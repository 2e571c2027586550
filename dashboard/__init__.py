"""UI-side helpers shared by every page: labels, cached loaders, sidebar, maps, charts, downloads."""
