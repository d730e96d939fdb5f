#!/usr/bin/env bash
# Redraws docs/conform-timeline.png, the README's picture of a failing case's timeline:
# close/after-vd-e-close/mid-1/devices-4 against the reference client's close-early variant,
# from `vdisim conform --html`, cut down to the case's title and its first timeline.
# Needs chromium (scripts/install-test-deps.sh) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
case_id="close/after-vd-e-close/mid-1/devices-4"
cargo run --quiet --release -- conform --client builtin:close-early --cases "$case_id" \
  --html "$scratch/report" --quiet >/dev/null || true
page="$scratch/report/cases/${case_id//\//__}.html"
python3 - "$page" "$scratch/shot.html" <<'PY'
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
style = re.search(r"<style>.*?</style>", page, re.S).group(0)
title = re.search(r"<h1>.*?</h1>", page, re.S).group(0)
legend = re.search(r'<div class="legend">.*?</div>', page, re.S).group(0)
svg = re.search(r'<svg xmlns=.*?</svg>', page, re.S).group(0)
open(sys.argv[2], "w", encoding="utf-8").write(
    f'<!DOCTYPE html><html><head><meta charset="utf-8"/>{style}</head>'
    f'<body style="margin:0;padding:8px 12px">{title}{legend}{svg}</body></html>')
PY
width=1260
height=$(python3 -c "import re,sys; print(int(re.search(r'<svg xmlns=[^>]* height=\"(\d+)\"', open(sys.argv[1]).read()).group(1)) + 110)" "$scratch/shot.html")
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$scratch/profile" \
  --window-size="$width,$height" --screenshot="$PWD/docs/conform-timeline.png" \
  "file://$scratch/shot.html" >/dev/null 2>&1
ls -l docs/conform-timeline.png
