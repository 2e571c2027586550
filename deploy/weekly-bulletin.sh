#!/bin/sh
# The weekly dispatch (周调度) for the reports of the Friday before, as DOCX in $JIUGAI_BULLETIN_DIR.
# Run by jiugai-bulletin.service (through with-dashboard-stopped.sh); exit 1 when there is no report
# for that Friday (see /var/log/jiugai/bulletin.log).
set -eu
friday=$(date -d "last friday" +%F)
exec /opt/jiugai/venv/bin/python -m scripts.bulletin --kind week --date "$friday" \
    --out "${JIUGAI_BULLETIN_DIR:-/var/lib/jiugai/bulletins}/周调度-$friday.docx"
