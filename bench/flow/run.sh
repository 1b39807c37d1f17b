#!/usr/bin/env bash
# run.sh measures what the flow engine (`gather run`) costs, on the local
# upstream (`gather upstream`), and prints a markdown table.
#
#   1  per-record overhead: a two-step flow per record (GET
#      /item?echo=1&id=N, then a POST whose JSON body {"id": ...} is taken
#      from the GET's JSON answer) over N_RECORDS JSONL records (20,000),
#      no added latency: `gather run -c CONC` (CONC records in flight;
#      --requests left at its default, CONC x 1 for a chain, so at most
#      CONC requests in flight) against `gather fetch -c CONC` doing the
#      same 2 x N_RECORDS requests as two runs, N_RECORDS GETs and then
#      N_RECORDS POSTs with the same body (--json over the input's id);
#      fetch's two runs are timed apart and added up. Both write their
#      records to /dev/null.
#   2  latency-bound chain: LATENCY (20ms) per response (latency= in the
#      URL), a three-step chain per record (a -> b -> c, each URL built
#      from the previous answer) over CHAIN_RECORDS (4,000) records at
#      -c CHAIN_C (200); ideal = records x 3 x LATENCY / CHAIN_C, and
#      efficiency = ideal / wall time (1 is perfect). As a yardstick,
#      `gather fetch -c CHAIN_C` over the same number of URLs with the same
#      latency (no chain: any request may start at any time), whose ideal
#      is the same.
#
# Runs alternate (A B A B ...: flow, fetch),
# REPEAT of each (5); each metric's median is shown. The upstream runs
# pinned to CPU 1 and gather to CPU 0 (taskset, with 2 CPUs or more). Each
# run is timed with GNU time (wall, user+sys CPU, peak RSS) and checked:
# exit 0, and exactly the expected number of requests at the upstream.
#
# Usage: bench/flow/run.sh
# Environment (all optional): REPEAT=5 N_RECORDS=20000 CONC=64
#   CHAIN_RECORDS=4000 CHAIN_C=200 LATENCY_MS=20 CASES=1,2 KEEP_TMP=1
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
repeat=${REPEAT:-5}
n_records=${N_RECORDS:-20000}
conc=${CONC:-64}
chain_records=${CHAIN_RECORDS:-4000}
chain_c=${CHAIN_C:-200}
latency_ms=${LATENCY_MS:-20}
cases=",${CASES:-1,2},"

die() {
	echo "run.sh: $*" >&2
	exit 1
}
note() { echo "# $*" >&2; }
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is missing: apt-get install -y time"
command -v curl >/dev/null || die "curl is missing: apt-get install -y curl"
command -v go >/dev/null || die "go is not on PATH"

tmp=$(mktemp -d -t gather-bench-flow.XXXXXX)
up_pid=
cleanup() {
	if [[ -n $up_pid ]]; then
		kill "$up_pid" 2>/dev/null || true
		wait "$up_pid" 2>/dev/null || true
	fi
	if [[ -n ${KEEP_TMP:-} ]]; then echo "temp files kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pin_srv=() pin_cli=()
pinning="no pinning (taskset missing or fewer than 2 CPUs)"
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
	pin_srv=(taskset -c 1) pin_cli=(taskset -c 0)
	pinning="upstream on CPU 1, gather on CPU 0"
fi

note "building gather"
(cd "$root" && go build -o "$tmp/gather" ./cmd/gather) || die "go build ./cmd/gather failed"
gather=$tmp/gather

# The upstream, on a free port.
for _ in 1 2 3 4 5 6 7 8; do
	port=$((20000 + RANDOM % 12000))
	curl -sf "http://127.0.0.1:$port/_stats" >/dev/null 2>&1 && continue # taken
	"${pin_srv[@]}" "$gather" upstream --addr "127.0.0.1:$port" 2>"$tmp/upstream.log" &
	up_pid=$!
	for _ in $(seq 100); do
		kill -0 "$up_pid" 2>/dev/null || break
		curl -sf "http://127.0.0.1:$port/_stats" >/dev/null 2>&1 && break 2
		sleep 0.05
	done
	kill "$up_pid" 2>/dev/null || true
	wait "$up_pid" 2>/dev/null || true
	up_pid=
done
[[ -n $up_pid ]] || die "gather upstream did not start: $(cat "$tmp/upstream.log")"
base=http://127.0.0.1:$port
requests() { curl -sf "$base/_stats" | sed -n 's/.*"requests": *\([0-9][0-9]*\).*/\1/p'; }
reset() { curl -sf -X POST "$base/_reset" >/dev/null; }
idle() { # let the upstream finish with the last connections
	for _ in $(seq 50); do
		[[ $(curl -sf "$base/_stats" | sed -n 's/.*"in_flight": *\([0-9][0-9]*\).*/\1/p') == 0 ]] && return
		sleep 0.1
	done
}

# The inputs and the flows.
awk -v n="$n_records" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d,\"url\":\"'"$base"'/item?echo=1&id=%d\"}\n", i, i }' >"$tmp/records.jsonl"
awk -v n="$chain_records" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":%d}\n", i }' >"$tmp/chain.jsonl"
awk -v n=$((3 * chain_records)) 'BEGIN { for (i = 1; i <= n; i++) printf "'"$base"'/x?echo=1&latency='"$latency_ms"'ms&id=%d\n", i }' >"$tmp/latency.txt"
cat >"$tmp/two.yaml" <<EOF
steps:
  get:
    http:
      url: "$base/item?echo=1&id=\${{ .input.id }}"
  post:
    http:
      method: POST
      url: "$base/submit?echo=1"
      json: {id: "\${{ .steps.get.body.query.id[0] }}"}
EOF
# Each step's URL carries the id from the previous step's echoed query.
cat >"$tmp/chain.yaml" <<EOF
steps:
  a:
    http:
      url: "$base/a?echo=1&latency=${latency_ms}ms&id=\${{ .input.id }}"
  b:
    http:
      url: "$base/b?echo=1&latency=${latency_ms}ms&id=\${{ .steps.a.body.query.id[0] }}"
  c:
    http:
      url: "$base/c?echo=1&latency=${latency_ms}ms&id=\${{ .steps.b.body.query.id[0] }}"
EOF
"$gather" check "$tmp/two.yaml" >/dev/null || die "two.yaml does not check"
"$gather" check "$tmp/chain.yaml" >/dev/null || die "chain.yaml does not check"

# timed NAME CMD... runs CMD under GNU time and appends "wall cpu rss_kb"
# to $tmp/NAME.times; it must exit 0.
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/time.out" "${pin_cli[@]}" "$@" 2>>"$tmp/$name.log" || die "$name exited $?: $(tail -n3 "$tmp/$name.log")"
	awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$tmp/time.out" >>"$tmp/$name.times"
}
# expect N NAME: the upstream counted N requests since the last reset.
expect() {
	local got
	got=$(requests)
	[[ $got == "$1" ]] || die "$2: the upstream counted $got requests, want $1"
	idle
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$tmp/$1.times" | median; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

if [[ $cases == *,1,* ]]; then
	note "case 1: $n_records records, flow -c $conc against fetch -c $conc (GETs then POSTs), $repeat runs each"
	for i in $(seq "$repeat"); do
		reset
		timed flow "$gather" run "$tmp/two.yaml" --input "$tmp/records.jsonl" -c "$conc" -q -o /dev/null
		expect $((2 * n_records)) "flow run $i"
		reset
		timed get "$gather" fetch -c "$conc" -q -o /dev/null "$tmp/records.jsonl"
		timed post "$gather" fetch -c "$conc" -q -o /dev/null --url "$base/submit?echo=1" --json '{"id":"${{ .id }}"}' "$tmp/records.jsonl"
		expect $((2 * n_records)) "fetch runs $i"
		# fetch = the GET run and the POST run added up (RSS: the larger).
		tail -n1 "$tmp/get.times" >"$tmp/g1"
		tail -n1 "$tmp/post.times" >"$tmp/p1"
		paste -d' ' "$tmp/g1" "$tmp/p1" | awk '{ printf "%.3f %.3f %d\n", $1 + $4, $2 + $5, ($3 > $6 ? $3 : $6) }' >>"$tmp/fetch.times"
		# The ratios run by run (pairs), for the median of the ratio.
		paste -d' ' <(tail -n1 "$tmp/flow.times") <(tail -n1 "$tmp/fetch.times") | awk '{ printf "%.4f %.4f\n", $1 / $4, $2 / $5 }' >>"$tmp/ratio.times"
		note "run $i: flow $(tail -n1 "$tmp/flow.times"), fetch $(tail -n1 "$tmp/fetch.times") (wall s, CPU s, RSS KB)"
	done
fi

if [[ $cases == *,2,* ]]; then
	note "case 2: $chain_records records, a -> b -> c at ${latency_ms}ms each, -c $chain_c, $repeat runs"
	for i in $(seq "$repeat"); do
		reset
		timed chain "$gather" run "$tmp/chain.yaml" --input "$tmp/chain.jsonl" -c "$chain_c" -q -o /dev/null
		expect $((3 * chain_records)) "chain run $i"
		reset
		timed lfetch "$gather" fetch -c "$chain_c" -q -o /dev/null "$tmp/latency.txt"
		expect $((3 * chain_records)) "fetch run $i"
		note "run $i: chain $(tail -n1 "$tmp/chain.times"), fetch $(tail -n1 "$tmp/lfetch.times") (wall s, CPU s, RSS KB)"
	done
fi

echo
echo "## gather run: what the flow engine costs"
echo
echo "$(nproc) CPUs ($(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n1)), $pinning; $(go version | cut -d' ' -f3); $(date -u +%Y-%m-%d). Runs alternate, medians of $repeat."
echo
if [[ $cases == *,1,* ]]; then
	n=$((2 * n_records))
	fw=$(col flow 1) fc=$(col flow 2) fr=$(col flow 3)
	bw=$(col fetch 1) bc=$(col fetch 2) br=$(col fetch 3)
	rw=$(col ratio 1) rc=$(col ratio 2)
	echo "Case 1: $n_records records x 2 requests (GET, then POST from its JSON answer), no added latency, $conc requests in flight at most."
	echo
	echo "| client | requests | wall s | req/s | CPU s | CPU µs/req | peak RSS MB |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk -v n="$n" -v w="$fw" -v c="$fc" -v r="$(mb "$fr")" -v k="$conc" 'BEGIN { printf "| gather run, 2-step flow, -c %d | %d | %.2f | %.0f | %.2f | %.0f | %s |\n", k, n, w, n / w, c, c / n * 1e6, r }'
	awk -v n="$n" -v w="$bw" -v c="$bc" -v r="$(mb "$br")" -v k="$conc" 'BEGIN { printf "| gather fetch -c %d, GETs then POSTs | %d | %.2f | %.0f | %.2f | %.0f | %s |\n", k, n, w, n / w, c, c / n * 1e6, r }'
	echo
	awk -v rw="$rw" -v rc="$rc" 'BEGIN { printf "Flow over fetch, median of the run-by-run ratios: wall %.2fx, CPU %.2fx: the flow engine costs %.0f%% of the throughput (target: under 25%%).\n", rw, rc, (1 - 1 / rw) * 100 }'
	echo
fi
if [[ $cases == *,2,* ]]; then
	cw=$(col chain 1) cc=$(col chain 2) cr=$(col chain 3)
	lw=$(col lfetch 1) lc=$(col lfetch 2) lr=$(col lfetch 3)
	echo "Case 2: $chain_records records x 3 chained requests (a -> b -> c), ${latency_ms} ms per response, -c $chain_c."
	echo
	echo "| client | requests | ideal s | wall s | achieved / ideal | CPU s | peak RSS MB |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk -v n="$chain_records" -v l="$latency_ms" -v k="$chain_c" -v w="$cw" -v c="$cc" -v r="$(mb "$cr")" 'BEGIN { ideal = n * 3 * l / 1000 / k; printf "| gather run, chain of 3, -c %d | %d | %.2f | %.2f | %.2f | %.2f | %s |\n", k, n * 3, ideal, w, ideal / w, c, r }'
	awk -v n="$chain_records" -v l="$latency_ms" -v k="$chain_c" -v w="$lw" -v c="$lc" -v r="$(mb "$lr")" 'BEGIN { ideal = n * 3 * l / 1000 / k; printf "| gather fetch -c %d (no chain) | %d | %.2f | %.2f | %.2f | %.2f | %s |\n", k, n * 3, ideal, w, ideal / w, c, r }'
	echo
	echo "(target: achieved / ideal at least 0.8)"
fi
