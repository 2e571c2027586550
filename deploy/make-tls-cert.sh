#!/bin/sh
# Make a self-signed TLS certificate for the dashboard's nginx when the server has none (install.sh runs
# this; an existing certificate is never replaced). Valid 825 days, RSA 2048, for this host's name and
# addresses, so browsers on the intranet can be told to trust it once (or replace it with one from the
# organisation's own certificate authority: put it at the same two paths and reload nginx).
#   make-tls-cert.sh DIR [NAME [ADDRESS...]]     writes DIR/jiugai.crt (0644) and DIR/jiugai.key (0600)
set -eu
dir=$1
name=${2:-$(hostname -f 2>/dev/null || hostname)}
shift $(( $# > 1 ? 2 : 1 ))
addresses=${*:-$(hostname -I 2>/dev/null || true)}
if [ -s "$dir/jiugai.crt" ] && [ -s "$dir/jiugai.key" ]; then
    echo "TLS certificate kept: $dir/jiugai.crt"
    exit 0
fi
command -v openssl >/dev/null || { echo "openssl is missing: no certificate made" >&2; exit 1; }
san="DNS:$name,DNS:localhost,IP:127.0.0.1"
for address in $addresses; do
    case $address in
        *:*) ;;  # IPv6 link-local and the like: left out
        *) san="$san,IP:$address" ;;
    esac
done
install -d -m 755 "$dir"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 \
    -subj "/O=Jining renovation dashboard/CN=$name" -addext "subjectAltName=$san" \
    -keyout "$dir/jiugai.key.new" -out "$dir/jiugai.crt.new" 2>/dev/null
chmod 600 "$dir/jiugai.key.new" && chmod 644 "$dir/jiugai.crt.new"
mv "$dir/jiugai.key.new" "$dir/jiugai.key" && mv "$dir/jiugai.crt.new" "$dir/jiugai.crt"
echo "self-signed TLS certificate made for $san: $dir/jiugai.crt"
