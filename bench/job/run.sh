#!/usr/bin/env bash
# run.sh measures what a job file costs `gather fetch`, on the local
# upstream (`gather upstream`, no added latency), and prints a markdown table.
#
#   1  throughput: N_URLS URLs (20,000) at concurrency 64, records streamed
#      as JSONL to a file (-o) against the same run with --job (a new job
#      file each run); runs alternate, REPEAT of each, medians
#   2  resume start-up: a job over BIG_URLS URLs (1,000,000) whose first
#      DONE_PCT (90) percent are done (made by running the job over those
#      lines alone: the full input then resumes past them), resumed REPEAT
#      times from a copy; the time from the start of `gather fetch --job` to
#      the upstream's first request, and to the end of the run
#   3  the same resume after a kill -9 (the job's last run left "running",
#      with sqlite3 when it is installed): the job file's integrity check is
#      then whole, not bounded to 2.5 s
#
# The upstream runs pinned to CPU 1 and gather to CPU 0 (taskset, with 2
# CPUs or more). Each run is timed with GNU time (wall, user+sys CPU, peak
# RSS), and checked: exit 0, and one request per URL at the upstream.
#
# Usage: bench/job/run.sh      Environment: REPEAT=5 N_URLS=20000
#                              BIG_URLS=1000000 DONE_PCT=90 KEEP_TMP=1
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
repeat=${REPEAT:-5}
n_urls=${N_URLS:-20000}
big=${BIG_URLS:-1000000}
done_pct=${DONE_PCT:-90}

die() {
	echo "run.sh: $*" >&2
	exit 1
}
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is missing: apt-get install -y time"
command -v curl >/dev/null || die "curl is missing: apt-get install -y curl"

tmp=$(mktemp -d -t gather-bench-job.XXXXXX)
up_pid=
cleanup() {
	[[ -n $up_pid ]] && kill "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null
	if [[ -n ${KEEP_TMP:-} ]]; then echo "temp files kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

pin_srv=() pin_cli=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
	pin_srv=(taskset -c 1) pin_cli=(taskset -c 0)
fi

(cd "$root" && go build -o "$tmp/gather" ./cmd/gather) || die "go build failed"
gather=$tmp/gather
port=$((20000 + RANDOM % 12000))
"${pin_srv[@]}" "$gather" upstream --addr "127.0.0.1:$port" 2>"$tmp/upstream.log" &
up_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$base/_stats" >/dev/null && break; sleep 0.05; done
requests() { curl -sf "$base/_stats" | sed -n 's/.*"requests": *\([0-9][0-9]*\).*/\1/p'; }
reset() { curl -sf -X POST "$base/_reset" >/dev/null; }

seq 1 "$n_urls" | sed "s#^#$base/u/#" >"$tmp/urls.txt"
seq 1 "$big" | sed "s#^#$base/b/#" >"$tmp/big.txt"
head -n $((big * done_pct / 100)) "$tmp/big.txt" >"$tmp/big-done.txt"

# timed NAME CMD... runs CMD under GNU time, appending "wall cpu rss_kb" to
# $tmp/NAME.times, and checks it exited 0.
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time.out" "${pin_cli[@]}" "$@" 2>>"$tmp/$name.log" || die "$name exited $?: $(tail -n3 "$tmp/$name.log")"
	awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$tmp/time.out" >>"$tmp/$name.times"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$tmp/$1.times" | median; }

echo "# scenario 1: $n_urls URLs, concurrency 64, $repeat runs each" >&2
for i in $(seq "$repeat"); do
	reset
	timed jsonl "$gather" fetch -c 64 -q -o "$tmp/out.jsonl" "$tmp/urls.txt"
	[[ $(requests) == "$n_urls" ]] || die "jsonl run $i: the upstream counted $(requests) requests"
	reset
	rm -f "$tmp/j.db" "$tmp/j.db-wal" "$tmp/j.db-shm"
	timed job "$gather" fetch -c 64 -q --job "$tmp/j.db" "$tmp/urls.txt"
	[[ $(requests) == "$n_urls" ]] || die "job run $i: the upstream counted $(requests) requests"
done

echo "# scenario 2: making a job of $big URLs, $done_pct% done" >&2
"$gather" fetch -c 64 -q --job "$tmp/done.db" "$tmp/big-done.txt" || die "making the job failed"
db_mb=$(du -m "$tmp/done.db" | cut -f1)
left=$((big - big * done_pct / 100))
for i in $(seq "$repeat"); do
	cp "$tmp/done.db" "$tmp/r.db"
	rm -f "$tmp/r.db-wal" "$tmp/r.db-shm"
	reset
	start=$(date +%s.%N)
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/resume.time" "${pin_cli[@]}" "$gather" fetch -c 64 -q --job "$tmp/r.db" "$tmp/big.txt" 2>>"$tmp/resume.log" &
	pid=$!
	while [[ $(requests) == 0 ]]; do sleep 0.005; done
	first=$(date +%s.%N)
	wait "$pid" || die "resume run $i exited $?"
	[[ $(requests) == "$left" ]] || die "resume run $i: the upstream counted $(requests) requests, want $left"
	awk -v s="$start" -v f="$first" '{ printf "%.3f %s %.3f %s\n", f - s, $1, $2 + $3, $4 }' "$tmp/resume.time" >>"$tmp/resume.times"
done

# resume_killed: scenario 3, when sqlite3 is installed.
killed_row=
if command -v sqlite3 >/dev/null; then
	for i in $(seq "$repeat"); do
		cp "$tmp/done.db" "$tmp/r.db"
		rm -f "$tmp/r.db-wal" "$tmp/r.db-shm"
		sqlite3 "$tmp/r.db" "UPDATE runs SET status = 'running', ended = NULL WHERE id = (SELECT max(id) FROM runs)"
		reset
		start=$(date +%s.%N)
		/usr/bin/time -f '%e %U %S %M' -o "$tmp/resume.time" "${pin_cli[@]}" "$gather" fetch -c 64 -q --job "$tmp/r.db" "$tmp/big.txt" 2>>"$tmp/killed.log" &
		pid=$!
		while [[ $(requests) == 0 ]]; do sleep 0.005; done
		first=$(date +%s.%N)
		wait "$pid" || die "resume after a kill, run $i, exited $?"
		awk -v s="$start" -v f="$first" '{ printf "%.3f %s %.3f %s\n", f - s, $1, $2 + $3, $4 }' "$tmp/resume.time" >>"$tmp/killed.times"
	done
	killed_row="| 3: the same after a kill -9 (the whole integrity check) | $(col killed 1) | $(col killed 2) | $(col killed 3) | $(awk -v k="$(col killed 4)" 'BEGIN { printf "%.1f", k / 1024 }') |"
fi

jw=$(col jsonl 1) jc=$(col jsonl 2) jr=$(col jsonl 3)
bw=$(col job 1) bc=$(col job 2) br=$(col job 3)
cat <<EOF

## What a job file costs

$(nproc) CPUs ($(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n1)), upstream on CPU 1, gather on CPU 0; medians of $repeat runs.

| scenario | run | wall s | req/s | CPU s | peak RSS MB |
| --- | --- | ---: | ---: | ---: | ---: |
| 1: $n_urls URLs, c 64 | JSONL to a file | $jw | $(awk -v n="$n_urls" -v w="$jw" 'BEGIN { printf "%.0f", n / w }') | $jc | $(awk -v k="$jr" 'BEGIN { printf "%.1f", k / 1024 }') |
| 1: $n_urls URLs, c 64 | --job | $bw | $(awk -v n="$n_urls" -v w="$bw" 'BEGIN { printf "%.0f", n / w }') | $bc | $(awk -v k="$br" 'BEGIN { printf "%.1f", k / 1024 }') |

The job file costs $(awk -v a="$bw" -v b="$jw" 'BEGIN { printf "%.0f%%", (1 - b / a) * 100 }') of the throughput (wall $(awk -v a="$bw" -v b="$jw" 'BEGIN { printf "%.2f", a / b }')x, CPU $(awk -v a="$bc" -v b="$jc" 'BEGIN { printf "%.2f", a / b }')x).

| scenario | first request after s | whole run s | CPU s | peak RSS MB |
| --- | ---: | ---: | ---: | ---: |
| 2: resume $big inputs, $done_pct% done (job file $db_mb MB), $left to go | $(col resume 1) | $(col resume 2) | $(col resume 3) | $(awk -v k="$(col resume 4)" 'BEGIN { printf "%.1f", k / 1024 }') |
$killed_row
EOF
