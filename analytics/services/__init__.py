"""Services around the data: accounts, backups, county weekly reports, the bulletin, plan adoption.

Accounts and permissions (``auth``), backups and snapshots (``backup``), county weekly reports
(``reports``), the weekly dispatch / monthly bulletin (``bulletin``) and adopting a plan as a plan year
(``adoption``).
"""
