#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests (Playwright drives it headless),
# getting one when the machine has none. `make test` runs it; so does CI, through make.
#   1. $CHROMIUM, when set;
#   2. chromium (or chromium-browser) on PATH, or at Debian's /usr/bin/chromium;
#   3. Debian's `chromium` package via apt-get, as root or with password-less sudo
#      (BROWSER_INSTALL=no skips this);
#   4. otherwise one line on stderr saying what to install, and exit 1.
# Playwright's own browser download is not used: it needs the internet at test time.
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
  local name path
  for name in chromium chromium-browser; do
    path=$(command -v "$name" 2>/dev/null || true)
    [ -n "$path" ] && found "$path"
  done
  for path in ${BROWSER_CANDIDATES-/usr/bin/chromium /usr/bin/chromium-browser}; do
    [ -x "$path" ] && found "$path"
  done
  return 0
}

look

if [ "${BROWSER_INSTALL:-apt}" = apt ] && command -v apt-get >/dev/null 2>&1; then
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
