#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust, idempotently (a second run changes nothing):
#   - headless Chromium, for the HTML report's rendering test (tests/conform_html.rs);
#   - FreeTDS's `tsql` (Debian freetds-bin) and libltdl7, which Microsoft's ODBC Driver 18
#     (bundled in PyPI mssql-python) loads, for the TDS tests (docs/tds.md);
#   - a Python venv at target/tds-venv with python-tds (pytds) and mssql-python.
# Run as root (or with sudo) on Debian, as CI does. Tests that need a driver that is missing fail
# with a message naming this script; set VDISIM_SKIP_DRIVERS=1 to skip them.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTDS_VERSION=1.17.1
MSSQL_PYTHON_VERSION=1.16.0
VENV=target/tds-venv

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v tsql >/dev/null 2>&1 || need_apt+=(freetds-bin)
ldconfig -p 2>/dev/null | grep -q 'libltdl\.so\.7' || need_apt+=(libltdl7)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ "${#need_apt[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: no apt-get here; install ${need_apt[*]} yourself" >&2
    exit 1
  fi
  echo "install-test-deps: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" - "$PYTDS_VERSION" "$MSSQL_PYTHON_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
assert version("python-tds") == sys.argv[1]
assert version("mssql-python") == sys.argv[2]
PY
then
  echo "install-test-deps: pip install python-tds==$PYTDS_VERSION mssql-python==$MSSQL_PYTHON_VERSION"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "python-tds==$PYTDS_VERSION" "mssql-python==$MSSQL_PYTHON_VERSION"
fi
printf 'install-test-deps: %s; tsql %s; python-tds %s; mssql-python %s\n' \
  "$(chromium --version 2>/dev/null || echo 'chromium ?')" \
  "$(tsql -C 2>/dev/null | sed -n 's/.*Version: *//p' | head -n1)" \
  "$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("python-tds"))')" \
  "$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("mssql-python"))')"
