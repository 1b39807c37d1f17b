#!/usr/bin/env bash
# Renders gather report's HTML page in headless Chromium and checks the
# screenshot is not blank. Run by hand (Chromium is not installed by CI):
#
#   apt-get install -y chromium
#   scripts/check-report.sh [SCREENSHOT.png]     # default /tmp/gather-report.png
#
# It builds gather and scripts/mkjob, writes a synthetic job of N results
# (N=20000 by default), runs gather report --html on it, and takes a
# 1280x2000 screenshot. Look at the screenshot: it is the check of layout.
set -euo pipefail
cd "$(dirname "$0")/.."

shot=${1:-/tmp/gather-report.png}
n=${N:-20000}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "check-report: no chromium (apt-get install -y chromium)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/gather" ./cmd/gather
go build -o "$work/mkjob" ./scripts/mkjob
"$work/mkjob" -n "$n" "$work/crawl.db"
"$work/gather" report "$work/crawl.db" --html "$work/report.html" --json "$work/report.json"

# The page must be self-contained: nothing for the browser to fetch.
if grep -Eio '<script|<link|<img|src=|href=|url\(|@import' "$work/report.html"; then
  echo "check-report: the page references something external" >&2
  exit 1
fi

rm -f "$shot"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --screenshot="$shot" --window-size=1280,2000 "file://$work/report.html" 2>/dev/null || true
[ -f "$shot" ] || { echo "check-report: no screenshot written" >&2; exit 1; }
size=$(stat -c %s "$shot")
# A blank 1280x2000 PNG is a few KB; the report is well over 100 KB.
if [ "$size" -lt 60000 ]; then
  echo "check-report: the screenshot is $size bytes: blank?" >&2
  exit 1
fi
cp "$work/report.html" "${shot%.png}.html"
echo "check-report: $shot ($size bytes), page ${shot%.png}.html: look at it"
