#!/usr/bin/env bash
# Install the system packages the test suite drives for real: Debian's chromium (browser
# tests, via Playwright's executable_path), nginx (the SSO proxy test), CJK fonts (so
# screenshots of Japanese names are readable), gettext (the translation catalogue tests
# run makemessages and msgfmt). Idempotent; needs root on Debian.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v msgfmt >/dev/null 2>&1 && command -v xgettext >/dev/null 2>&1 || need+=(gettext)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${need[*]}. Install them (Debian: apt-get install ${need[*]})." >&2
  exit 1
fi
echo "Installing ${need[*]} (apt-get)…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's policy-rc.d keeps nginx from starting itself; the tests start their own.
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
