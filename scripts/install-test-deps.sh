#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust: headless Chromium, for the HTML report's
# rendering test (crates/vdi-conform/tests/html.rs). Idempotent: does nothing when it is
# there. Needs root (or sudo) and Debian's apt; elsewhere it says what to install and fails.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "install-test-deps: $(chromium --version 2>/dev/null || echo chromium) is installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: no apt-get here; install Chromium (a 'chromium' on PATH) yourself" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "install-test-deps: installed $(chromium --version)"
