#!/usr/bin/env bash
# Make sure headless Chromium and its WebDriver are available for the browser check
# (tests/test_browser.py). Debian packages: chromium + chromium-driver (about 120 MB).
#
# - Both present: do nothing.
# - Missing and we are root with apt-get: install them quietly.
# - Otherwise: print a loud warning and exit 0; the browser test then skips with a loud reason.
set -uo pipefail

CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [[ -x "$CHROMIUM" && -x "$DRIVER" ]]; then
    exit 0
fi

warn() {
    {
        echo
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!  WARNING: headless Chromium is NOT available ($1)."
        echo "!!  The browser check of the built book (tests/test_browser.py) will SKIP,"
        echo "!!  so nobody will notice raw TeX, broken links or console errors."
        echo "!!  Install it yourself, e.g. as root on Debian/Ubuntu:"
        echo "!!      apt-get update && apt-get install -y chromium chromium-driver"
        echo "!!  (it needs $CHROMIUM and $DRIVER)."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo
    } >&2
    exit 0
}

if [[ "$(id -u)" != "0" ]]; then
    warn "not root, so it cannot be installed here"
fi
if ! command -v apt-get >/dev/null 2>&1; then
    warn "no apt-get on this machine"
fi

echo "Installing chromium and chromium-driver with apt-get (about 120 MB, once) ..."
log=$(mktemp)
if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            chromium chromium-driver; } >"$log" 2>&1; then
    tail -n 15 "$log" >&2
    rm -f "$log"
    warn "apt-get install chromium chromium-driver failed; see the lines above"
fi
rm -f "$log"

if [[ ! -x "$CHROMIUM" || ! -x "$DRIVER" ]]; then
    warn "apt-get finished but $CHROMIUM or $DRIVER is still missing"
fi
echo "Chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
