"""Services around the data: accounts and permissions (``auth``), backups and snapshots (``backup``), county
weekly reports (``reports``) and the weekly dispatch / monthly bulletin (``bulletin``)."""
