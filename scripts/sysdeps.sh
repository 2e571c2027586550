#!/usr/bin/env bash
# Install the system packages the full feature set needs (Chromium for chart/map export and browser
# tests, Noto CJK fonts for Chinese in exported images) where apt and root are available; elsewhere say
# exactly what is missing and what still works without it.
set -u
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
if ! fc-list :lang=zh 2>/dev/null | grep -qi "noto"; then missing+=(fonts-noto-cjk); fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null && exit 0
    echo "apt-get could not install: ${missing[*]}" >&2
fi
cat >&2 <<MSG
Missing system packages: ${missing[*]}
  Install them with:  sudo apt-get install ${missing[*]}
  Without chromium:   the dashboard, analyses, XLSX/CSV/DOCX exports work; chart PNG/SVG/PDF and map
                      PNG export are disabled (the buttons say why) and browser tests are skipped.
  Without fonts-noto-cjk: exported images and PDFs cannot show Chinese; the dashboard itself still does.
MSG
exit 0
