#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests (Playwright drives it headless),
# getting one when the machine has none. `make test` runs it; so does CI, through make.
#   1. $CHROMIUM, when set;
#   2. chromium (or chromium-browser) on PATH, or at Debian's /usr/bin/chromium;
#   3. a Chromium Playwright downloaded before: $PLAYWRIGHT_BROWSERS_PATH, else
#      ~/.cache/ms-playwright (chromium-*/chrome-linux*/chrome);
#   4. `$VENV/bin/python -m playwright install chromium` when the virtualenv has
#      playwright (it downloads, so offline it fails: bounded by `timeout`,
#      PLAYWRIGHT_INSTALL_TIMEOUT seconds, default 120); the path is the one
#      playwright reports;
#   5. Debian's `chromium` package via apt-get, as root or with password-less sudo;
#   6. otherwise one line on stderr saying what to install, and exit 1.
# BROWSER_INSTALL chooses the ways to get one: auto (default: 4 then 5), playwright,
# apt, or no (only look).
set -euo pipefail

found() {
  printf '%s\n' "$1"
  exit 0
}

if [ -n "${CHROMIUM:-}" ]; then
  [ -x "$CHROMIUM" ] && found "$CHROMIUM"
  echo "CHROMIUM=$CHROMIUM is not an executable file: point it at a Chromium, or unset it." >&2
  exit 1
fi

look() {
  local name path newest=""
  for name in chromium chromium-browser; do
    path=$(command -v "$name" 2>/dev/null || true)
    [ -n "$path" ] && found "$path"
  done
  for path in ${BROWSER_CANDIDATES-/usr/bin/chromium /usr/bin/chromium-browser}; do
    [ -x "$path" ] && found "$path"
  done
  # Playwright's own download (glob order: the last is the newest revision).
  for path in "${PLAYWRIGHT_BROWSERS_PATH:-${HOME:-/nonexistent}/.cache/ms-playwright}"/chromium-*/chrome-linux*/chrome; do
    [ -x "$path" ] && newest=$path
  done
  [ -n "$newest" ] && found "$newest"
  return 0
}

look

install=${BROWSER_INSTALL:-auto}
venv=${VENV:-${BASH_SOURCE[0]%/*}/../.venv}
py=$venv/bin/python

if { [ "$install" = auto ] || [ "$install" = playwright ]; } \
  && [ -x "$py" ] && "$py" -c 'import playwright' >/dev/null 2>&1; then
  echo "ensure-browser: downloading Playwright's Chromium (python -m playwright install chromium)" >&2
  if timeout "${PLAYWRIGHT_INSTALL_TIMEOUT:-120}" "$py" -m playwright install chromium >&2; then
    path=$(timeout 60 "$py" -c '
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    print(p.chromium.executable_path)
' 2>/dev/null || true)
    [ -n "$path" ] && [ -x "$path" ] && found "$path"
  fi
  echo "ensure-browser: Playwright could not get Chromium (offline?); trying the system's package" >&2
fi

if { [ "$install" = auto ] || [ "$install" = apt ]; } && command -v apt-get >/dev/null 2>&1; then
  as_root=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      as_root=(none)
    fi
  fi
  if [ "${as_root[0]:-}" != none ]; then
    echo "ensure-browser: installing Debian's chromium for the browser tests (apt-get)" >&2
    "${as_root[@]}" apt-get update -q >&2
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2
    look
  fi
fi

echo "make test needs Chromium for its browser tests: install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM=/path/to/chromium." >&2
exit 1
