#!/bin/sh
# Installs Debian's Chromium for the web UI's end-to-end test (playwright-core drives /usr/bin/chromium;
# nothing is downloaded by Playwright itself). Idempotent; quick when present.
set -eu
if [ -x /usr/bin/chromium ]; then echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"; exit 0; fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium
/usr/bin/chromium --version
