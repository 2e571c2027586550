#!/usr/bin/env bash
# Install (or upgrade) the Jining old compound renovation dashboard from this offline bundle and start
# it. Needs no network: Debian packages come from debs/, Python packages from wheels/.
#
#   sudo ./install.sh              install or upgrade, then start the service
#   sudo ./install.sh --no-start   install only (no systemd, e.g. a container: start it by hand)
#
# Where things go: program /opt/jiugai (app/, venv/), settings /etc/jiugai/jiugai.env, database
# /var/lib/jiugai, backups /var/backups/jiugai, logs /var/log/jiugai. Upgrading keeps the database,
# the settings and the accounts; the database is snapshotted first.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX=/opt/jiugai
ETC=/etc/jiugai
DATA=/var/lib/jiugai
BACKUPS=/var/backups/jiugai
LOGS=/var/log/jiugai
USER_NAME=jiugai
START=1
[ "${1:-}" = "--no-start" ] && START=0

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root:  sudo ./install.sh"
[ "$(uname -m)" = x86_64 ] || die "this bundle is for x86_64 (64-bit Intel/AMD) servers, not $(uname -m)"
# shellcheck disable=SC1091
. /etc/os-release
[ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ] || echo "WARNING: made for Debian 12; this is ${PRETTY_NAME:-unknown}"

step "1/7 Checking the bundle (checksums)"
(cd "$HERE" && sha256sum --quiet --strict -c MANIFEST.sha256) || die "the bundle is damaged or incomplete; copy it again"

step "2/7 System packages from debs/ (chromium, fonts-noto-cjk, python3.11-venv and what they need)"
# debs/ is a flat apt repository (debs/Packages). apt sees only it and what is installed — no other
# source, its own empty lists — so nothing can come from a network; it installs in dependency order and
# leaves packages already installed at the same or a newer version alone.
apt_dir=$(mktemp -d)
mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts"
echo "deb [trusted=yes] file:$HERE/debs ./" >"$apt_dir/sources.list"
apt_local=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/parts"
           -o "Dir::State::Lists=$apt_dir/lists" -o "Dpkg::Options::=--force-confold")
{
    apt-get "${apt_local[@]}" update \
    && DEBIAN_FRONTEND=noninteractive apt-get "${apt_local[@]}" install -y --no-install-recommends \
        python3.11-venv chromium fonts-noto-cjk nginx openssl
} >"$HERE/packages.log" 2>&1 || die "the Debian packages did not install; see $HERE/packages.log"
rm -rf "$apt_dir"
for package in python3.11-venv chromium fonts-noto-cjk; do
    dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed \
        || echo "WARNING: $package is not installed; chart and map image export need chromium and fonts-noto-cjk"
done
for package in nginx openssl; do
    dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed \
        || echo "WARNING: $package is not installed; the dashboard cannot be served over HTTPS (see README)"
done
command -v python3.11 >/dev/null || die "python3.11 is missing (debs/ should have brought it)"

step "3/7 Service account and folders"
id -u "$USER_NAME" >/dev/null 2>&1 \
    || useradd --system --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
install -d -m 755 "$PREFIX" "$ETC"
install -d -o "$USER_NAME" -g "$USER_NAME" -m 750 "$DATA" "$DATA/bulletins" "$BACKUPS" "$LOGS"
for log in dashboard backup bulletin; do
    touch "$LOGS/$log.log" && chown "$USER_NAME:$USER_NAME" "$LOGS/$log.log" && chmod 640 "$LOGS/$log.log"
done
# The settings may hold the Tianditu key: readable by root and the service's group only (upgrades too).
[ -f "$ETC/jiugai.env" ] || install -m 640 -o root -g "$USER_NAME" "$HERE/app/deploy/jiugai.env" "$ETC/jiugai.env"
chown root:"$USER_NAME" "$ETC/jiugai.env" && chmod 640 "$ETC/jiugai.env"
set -a
# shellcheck disable=SC1091
. "$ETC/jiugai.env"
set +a

step "4/7 Python environment from wheels/ (no index)"
rm -rf "$PREFIX/venv.new"
python3.11 -m venv "$PREFIX/venv.new"
PIP_CONFIG_FILE=/dev/null "$PREFIX/venv.new/bin/python" -m pip install --isolated --quiet --no-index --disable-pip-version-check \
    --find-links "$HERE/wheels" -r "$HERE/app/requirements.txt" || die "the Python packages did not install"

step "5/7 Stopping the running dashboard and copying the database aside (upgrade only)"
if systemctl is-active --quiet jiugai.service 2>/dev/null; then systemctl stop jiugai.service; fi
if [ -f "$JIUGAI_DB" ]; then
    # The dashboard is stopped, so the file is at rest: a plain copy is consistent. It is named like the
    # nightly snapshots, so `scripts.backup_job list/verify/restore` see it (taken before any migration).
    before="$JIUGAI_BACKUP_DIR/jiugai-$(date +%Y%m%d-%H%M%S).duckdb"
    install -d -o "$USER_NAME" -g "$USER_NAME" -m 750 "$JIUGAI_BACKUP_DIR"
    cp -p "$JIUGAI_DB" "$before" || die "could not copy the database to $before; nothing was changed"
    [ -f "$JIUGAI_DB.wal" ] && cp -p "$JIUGAI_DB.wal" "$before.wal"
    chown "$USER_NAME:$USER_NAME" "$before"*
    echo "database copied to $before"
fi

step "6/7 Program files, database, service files"
rm -rf "$PREFIX/app.new"
cp -a "$HERE/app" "$PREFIX/app.new"
install -m 644 "$PREFIX/app.new/deploy/streamlit-server.toml" "$PREFIX/app.new/.streamlit/config.toml"
(cd "$PREFIX/app.new" && "$PREFIX/venv.new/bin/python" -c "from scripts.prepare import copy_static_assets; copy_static_assets()")
rm -rf "$PREFIX/app.previous" "$PREFIX/venv.previous"
[ -d "$PREFIX/app" ] && mv "$PREFIX/app" "$PREFIX/app.previous"
[ -d "$PREFIX/venv" ] && mv "$PREFIX/venv" "$PREFIX/venv.previous"
mv "$PREFIX/app.new" "$PREFIX/app"
mv "$PREFIX/venv.new" "$PREFIX/venv"
# Build the database on first install (bundled county boundaries + seeded demo data); migrate it on upgrade.
(cd "$PREFIX/app" && runuser -u "$USER_NAME" -- "$PREFIX/venv/bin/python" -c "from analytics import store; store.connect().close()") \
    || die "the database could not be opened at $JIUGAI_DB"
install -m 644 "$PREFIX"/app/deploy/jiugai.service "$PREFIX"/app/deploy/jiugai-backup.service \
    "$PREFIX"/app/deploy/jiugai-backup.timer "$PREFIX"/app/deploy/jiugai-bulletin.service \
    "$PREFIX"/app/deploy/jiugai-bulletin.timer /etc/systemd/system/
install -m 644 "$PREFIX/app/deploy/logrotate.conf" /etc/logrotate.d/jiugai
install -m 644 "$PREFIX/app/deploy/nginx.conf" "$ETC/nginx-jiugai.conf.example"
install -m 755 "$PREFIX/app/deploy/jiugai-users" /usr/local/sbin/jiugai-users
# HTTPS: nginx in front, with the certificate at $ETC/tls (self-signed when none is there: put the
# organisation's own there to replace it). An existing /etc/nginx/conf.d/jiugai.conf is kept.
TLS=0
if command -v nginx >/dev/null && [ -d /etc/nginx/conf.d ]; then
    sh "$PREFIX/app/deploy/make-tls-cert.sh" "$ETC/tls" || die "no TLS certificate could be made in $ETC/tls"
    if [ ! -f /etc/nginx/conf.d/jiugai.conf ]; then
        install -m 644 "$PREFIX/app/deploy/nginx.conf" /etc/nginx/conf.d/jiugai.conf
        # Debian's default site answers port 80 for every name, first: the dashboard's redirect replaces it.
        [ -L /etc/nginx/sites-enabled/default ] && rm /etc/nginx/sites-enabled/default
    fi
    nginx -t >>"$HERE/packages.log" 2>&1 || die "nginx does not accept its configuration; see $HERE/packages.log"
    TLS=1
fi
[ "$JIUGAI_ADDRESS" = 127.0.0.1 ] || echo "WARNING: JIUGAI_ADDRESS=$JIUGAI_ADDRESS in $ETC/jiugai.env: the dashboard is also served without TLS on port $JIUGAI_PORT (passwords in clear); set 127.0.0.1"
[ "$TLS" = 1 ] || echo "WARNING: nginx is missing: set JIUGAI_ADDRESS=0.0.0.0 to reach the dashboard, without TLS"

step "7/7 Starting"
url="http://$(hostname -I 2>/dev/null | awk '{print $1}'):${JIUGAI_PORT}/jiugai/"
[ "$TLS" = 1 ] && url="https://$(hostname -I 2>/dev/null | awk '{print $1}')/jiugai/"
if [ "$START" = 1 ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    [ "$TLS" = 1 ] && systemctl enable --quiet nginx && systemctl reload-or-restart nginx
    systemctl enable --quiet jiugai.service jiugai-backup.timer jiugai-bulletin.timer
    systemctl restart jiugai.service
    systemctl start jiugai-backup.timer jiugai-bulletin.timer
    for _ in $(seq 1 60); do
        if "$PREFIX/venv/bin/python" -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:${JIUGAI_PORT}/jiugai/_stcore/health', timeout=2).status != 200)" 2>/dev/null; then
            printf '\nThe dashboard is running: %s\n' "$url"
            break
        fi
        sleep 1
    done
    systemctl is-active --quiet jiugai.service || die "the service did not start; see $LOGS/dashboard.log"
else
    [ "$START" = 1 ] && echo "systemd is not running here; start the dashboard by hand:"
    echo "  cd $PREFIX/app && sudo -u $USER_NAME env \$(grep -v '^#' $ETC/jiugai.env | xargs) $PREFIX/venv/bin/python -m streamlit run app.py --server.address \$JIUGAI_ADDRESS --server.port \$JIUGAI_PORT"
fi
cat <<EOF

Next:
  create the first administrator:   sudo jiugai-users add NAME --role admin
  status / restart:                 sudo systemctl status jiugai  /  sudo systemctl restart jiugai
  logs:                             $LOGS/dashboard.log
  settings:                         $ETC/jiugai.env
EOF
