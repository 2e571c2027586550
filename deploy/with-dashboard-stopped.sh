#!/bin/sh
# Run a command as the service user "jiugai" while the dashboard service is stopped, then start the
# dashboard again if it was running. DuckDB lets one process at a time open the database file, so the
# scheduled jobs (backup, bulletin) and the account tool go through here.
#   with-dashboard-stopped.sh COMMAND [ARGS...]      (as root; the environment is passed on)
set -u
was_active=0
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet jiugai.service 2>/dev/null; then
    was_active=1
    systemctl stop jiugai.service
fi
restart() {
    if [ "$was_active" = 1 ]; then systemctl start jiugai.service; fi
}
trap restart EXIT
trap 'exit 130' INT TERM
status=0
if [ "$(id -un)" = jiugai ]; then
    "$@" || status=$?
else
    runuser -u jiugai -- "$@" || status=$?
fi
exit "$status"
