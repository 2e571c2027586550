"""Services around the data: accounts, backups, county weekly reports and the bulletin.

Accounts and permissions (``auth``), backups and snapshots (``backup``), county weekly reports
(``reports``) and the weekly dispatch / monthly bulletin (``bulletin``).
"""
