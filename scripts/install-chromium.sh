#!/usr/bin/env bash
# Install (if needed) Debian's Chromium for the browser tests; Playwright drives it
# (no browser download). Idempotent.
set -euo pipefail

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium (Debian package) for the browser tests..." >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
fi
