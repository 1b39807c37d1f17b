#!/usr/bin/env bash
# run.sh measures HTTP gateways that fan each inbound request out to three
# upstream calls (10 ms each), under the same wrk load, one gateway at a time,
# and prints medians as a markdown table. See README.md.
#
# Per gateway and repeat (the gateway is started afresh, pinned to core 0;
# the upstream, `gather upstream`, runs for the whole run pinned to core 1):
#   1. warm-up: wrk -c 64 -t 2 for $WARMUP;
#   2. main: wrk -c 64 -t 2 -d $DURATION --latency against /agg/ID (ID
#      distinct per request): req/s, p50, p99, the gateway's CPU time
#      (utime+stime from /proc/PID/stat) per 1,000 requests, its peak RSS
#      (VmHWM) after this phase;
#   3. fast alone: wrk -c 32 -t 1 -d $MIXED_DURATION, fast requests only: p99;
#   4. mixed: two wrk at once for $MIXED_DURATION, 32 connections each, one
#      asking ?slow=1 (the third upstream call takes 2 s), the other fast:
#      the fast one's p99.
# The gateways run in turn, in reverse order every other repeat.
#
# Environment (all optional):
#   GATEWAYS="aiohttp go gather"  which gateways; gather is skipped when the
#                                 binary has no `serve` command yet
#   REPEAT=3                      repeats
#   DURATION=10s                  main phase
#   MIXED_DURATION=8s             fast-alone and mixed phases
#   WARMUP=2s                     warm-up phase
#   GATHER=path                   a gather binary (default: built from this tree)
#   PYTHON=python3                a Python with aiohttp (default: python3 if it
#                                 imports aiohttp, else /usr/bin/python3)
#   PORT=28180 UPORT=28190        gateway and upstream ports on 127.0.0.1
#   GW_CPU=0 UP_CPU=1             cores for taskset (empty: not pinned)
#   WRK_CPU=                      core for wrk (default: not pinned)
#   OUT=file                      keep the raw results (TSV) there
set -euo pipefail

dir=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$dir" rev-parse --show-toplevel)

gateways=${GATEWAYS:-aiohttp go gather}
repeat=${REPEAT:-3}
duration=${DURATION:-10s}
mixed_duration=${MIXED_DURATION:-8s}
warmup=${WARMUP:-2s}
port=${PORT:-28180}
uport=${UPORT:-28190}
gw_cpu=${GW_CPU:-0}
up_cpu=${UP_CPU:-1}
wrk_cpu=${WRK_CPU:-}

for cmd in wrk taskset curl go; do
	command -v "$cmd" >/dev/null || { echo "run.sh: $cmd not found" >&2; exit 1; }
done

tmp=$(mktemp -d -t gather-bench-serve.XXXXXX)
out=${OUT:-$tmp/results.tsv}
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$uport"; do
	if busy "$p"; then
		echo "run.sh: something already listens on 127.0.0.1:$p (set PORT/UPORT)" >&2
		exit 1
	fi
done

if [[ -z ${PYTHON:-} ]]; then
	PYTHON=python3
	if ! python3 -c 'import aiohttp' 2>/dev/null; then
		PYTHON=/usr/bin/python3
	fi
fi

echo "building..." >&2
gather=${GATHER:-}
if [[ -z $gather ]]; then
	gather=$tmp/gather
	(cd "$root" && go build -o "$gather" ./cmd/gather)
fi
(cd "$root/bench" && go build -o "$tmp/gohandler" ./serve/gohandler)
sed "s/127\.0\.0\.1:28180/127.0.0.1:$port/g; s/127\.0\.0\.1:28190/127.0.0.1:$uport/g" \
	"$dir/gateway.yaml" >"$tmp/gateway.yaml"

# Which gateways can run.
run_gateways=()
for g in $gateways; do
	case $g in
	aiohttp)
		if ! "$PYTHON" -c 'import aiohttp' 2>/dev/null; then
			echo "run.sh: skipping aiohttp: $PYTHON cannot import aiohttp (apt-get install python3-aiohttp)" >&2
			continue
		fi
		;;
	go) ;;
	gather)
		if ! "$gather" serve --help >"$tmp/serve-help" 2>&1 || ! grep -qi serve "$tmp/serve-help"; then
			echo "run.sh: skipping gather: $gather has no serve command yet" >&2
			continue
		fi
		;;
	*)
		echo "run.sh: unknown gateway $g (aiohttp, go, gather)" >&2
		exit 1
		;;
	esac
	run_gateways+=("$g")
done
if ((${#run_gateways[@]} == 0)); then
	echo "run.sh: no gateway to run" >&2
	exit 1
fi

pin() { # pin CORE: the taskset prefix for CORE, none when CORE is empty
	if [[ -n $1 ]]; then
		echo "taskset -c $1"
	fi
}
read -ra pin_gw <<<"$(pin "$gw_cpu")"
read -ra pin_up <<<"$(pin "$up_cpu")"
read -ra pin_wrk <<<"$(pin "$wrk_cpu")"

ubase=http://127.0.0.1:$uport
base=http://127.0.0.1:$port

wait_ready() { # wait_ready URL PID LOG
	for ((i = 0; i < 150; i++)); do
		if curl -sf -o /dev/null --max-time 5 "$1"; then
			return 0
		fi
		if ! kill -0 "$2" 2>/dev/null; then
			echo "run.sh: process $2 exited; its log:" >&2
			cat "$3" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "run.sh: $1 not ready after 15s; log:" >&2
	cat "$3" >&2
	exit 1
}

check_answer() { # check_answer GATEWAY ID [QUERY]
	local got
	got=$(curl -sf --max-time 10 "$base/agg/$2${3:+?$3}") || {
		echo "run.sh: $1: GET /agg/$2${3:+?$3} failed" >&2
		exit 1
	}
	if ! GOT=$got ID=$2 python3 -c '
import json, os, sys
i = os.environ["ID"]
want = {"a": "/a/" + i, "b": "/b/" + i, "c": "/c/" + i}
sys.exit(json.loads(os.environ["GOT"]) != want)' 2>/dev/null; then
		echo "run.sh: $1: GET /agg/$2${3:+?$3} answered $got" >&2
		exit 1
	fi
}

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# machine_ticks: busy ticks of the whole machine (all cores) from /proc/stat
machine_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
vmhwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
clk_tck=$(getconf CLK_TCK)

# wrk_run NAME CONNS THREADS DURATION [QUERY]: the RESULT line of ids.lua
# goes to $tmp/NAME.wrk, the whole output too.
wrk_run() {
	"${pin_wrk[@]}" wrk -c "$2" -t "$3" -d "$4" --timeout 10s --latency \
		-s "$dir/ids.lua" "$base/" -- "${5:-}" >"$tmp/$1.wrk" 2>&1
}
result() { # result NAME FIELD: a field of ids.lua's RESULT line
	awk -v f="$2" '$1 == "RESULT" {print $(f + 1)}' "$tmp/$1.wrk"
}

echo "starting the upstream on $ubase (core $up_cpu)..." >&2
"${pin_up[@]}" "$gather" upstream --addr "127.0.0.1:$uport" 2>"$tmp/upstream.log" &
up_pid=$!
pids+=("$up_pid")
wait_ready "$ubase/ready?echo=1" "$up_pid" "$tmp/upstream.log"

printf 'repeat\tgateway\trps\tp50_ms\tp99_ms\tcpu_ms_per_1k\trss_mib\terrors\tp99_fast_alone_ms\tp99_fast_mixed_ms\trss_mixed_mib\tmixed_errors\tupstream_cpu_ms_per_1k\tother_cores\n' >"$out"

for ((r = 1; r <= repeat; r++)); do
	order=("${run_gateways[@]}")
	if ((r % 2 == 0)); then
		order=()
		for ((k = ${#run_gateways[@]} - 1; k >= 0; k--)); do
			order+=("${run_gateways[k]}")
		done
	fi
	for g in "${order[@]}"; do
		log=$tmp/$g.log
		case $g in
		aiohttp) "${pin_gw[@]}" "$PYTHON" "$dir/aiohttp_gateway.py" --port "$port" --upstream "$ubase" >"$log" 2>&1 & ;;
		go) "${pin_gw[@]}" "$tmp/gohandler" -addr "127.0.0.1:$port" -upstream "$ubase" >"$log" 2>&1 & ;;
		gather) "${pin_gw[@]}" "$gather" serve --access-log=false "$tmp/gateway.yaml" >"$log" 2>&1 & ;;
		esac
		gw_pid=$!
		pids+=("$gw_pid")
		wait_ready "$base/agg/0" "$gw_pid" "$log"
		check_answer "$g" 42
		if ((r == 1)); then
			check_answer "$g" 43 slow=1
		fi

		wrk_run warmup 64 2 "$warmup"

		c0=$(cpu_ticks "$gw_pid")
		u0=$(cpu_ticks "$up_pid")
		m0=$(machine_ticks)
		t0=$(date +%s%N)
		wrk_run main 64 2 "$duration"
		c1=$(cpu_ticks "$gw_pid")
		u1=$(cpu_ticks "$up_pid")
		hwm=$(vmhwm_kb "$gw_pid")

		wrk_run alone 32 1 "$mixed_duration"
		wrk_run slow 32 1 "$mixed_duration" slow=1 &
		slow_pid=$!
		wrk_run fast 32 1 "$mixed_duration"
		wait "$slow_pid"
		hwm_mixed=$(vmhwm_kb "$gw_pid")
		c2=$(cpu_ticks "$gw_pid")
		u2=$(cpu_ticks "$up_pid")
		m2=$(machine_ticks)
		t2=$(date +%s%N)

		kill "$gw_pid"
		wait "$gw_pid" 2>/dev/null || true
		while busy "$port"; do sleep 0.1; done

		reqs=$(result main 1)
		line=$(awk -v r="$r" -v g="$g" -v reqs="$reqs" -v rps="$(result main 3)" \
			-v p50="$(result main 4)" -v p99="$(result main 5)" \
			-v err="$(($(result main 6) + $(result main 7)))" \
			-v cpu="$((c1 - c0))" -v ucpu="$((u1 - u0))" -v tck="$clk_tck" \
			-v hwm="$hwm" -v hwm2="$hwm_mixed" \
			-v other="$((m2 - m0 - (c2 - c0) - (u2 - u0)))" -v wall="$((t2 - t0))" \
			-v alone="$(result alone 5)" -v fast="$(result fast 5)" \
			-v merr="$(($(result alone 6) + $(result alone 7) + $(result fast 6) + $(result fast 7) + $(result slow 6) + $(result slow 7)))" \
			'BEGIN {
				printf "%d\t%s\t%.0f\t%.2f\t%.2f\t%.0f\t%.1f\t%d\t%.2f\t%.2f\t%.1f\t%d\t%.0f\t%.2f\n",
					r, g, rps, p50 / 1000, p99 / 1000, cpu * 1000 / tck / reqs * 1000,
					hwm / 1024, err, alone / 1000, fast / 1000, hwm2 / 1024, merr,
					ucpu * 1000 / tck / reqs * 1000, other / tck / (wall / 1e9)
			}')
		echo "$line" >>"$out"
		echo "$line" >&2
	done
done

echo >&2
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), REPEAT=$repeat, DURATION=$duration, MIXED_DURATION=$mixed_duration"
echo
python3 - "$out" <<'EOF'
import csv, statistics, sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
gws = []
for row in rows:
    if row["gateway"] not in gws:
        gws.append(row["gateway"])

def med(g, k):
    return statistics.median(float(r[k]) for r in rows if r["gateway"] == g)

def tail_ratio(g):  # the median of the per-repeat ratios: phases of one repeat are closest in time
    return statistics.median(float(r["p99_fast_mixed_ms"]) / float(r["p99_fast_alone_ms"])
                             for r in rows if r["gateway"] == g)

print("| gateway | req/s | p50 ms | p99 ms | CPU ms / 1,000 req | peak RSS MiB | errors | fast p99 alone ms | fast p99 with slow ms | with slow / alone | peak RSS with slow MiB | upstream CPU ms / 1,000 req | other load, cores |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for g in gws:
    alone, mixed = med(g, "p99_fast_alone_ms"), med(g, "p99_fast_mixed_ms")
    errs = sum(int(r["errors"]) + int(r["mixed_errors"]) for r in rows if r["gateway"] == g)
    print(f"| {g} | {med(g, 'rps'):,.0f} | {med(g, 'p50_ms'):.1f} | {med(g, 'p99_ms'):.1f} "
          f"| {med(g, 'cpu_ms_per_1k'):.0f} | {med(g, 'rss_mib'):.1f} | {errs} "
          f"| {alone:.1f} | {mixed:.1f} | {tail_ratio(g):.2f}x | {med(g, 'rss_mixed_mib'):.1f} "
          f"| {med(g, 'upstream_cpu_ms_per_1k'):.0f} | {med(g, 'other_cores'):.2f} |")

if "gather" in gws and "go" in gws:
    rps = med("gather", "rps") / med("go", "rps")
    cpu = med("gather", "cpu_ms_per_1k") / med("go", "cpu_ms_per_1k")
    tail = tail_ratio("gather")
    ok = lambda b: "met" if b else "MISSED"
    print()
    print("| target for gather serve | value | |")
    print("|---|---:|---|")
    print(f"| req/s vs the Go handler (>= 0.95x) | {rps:.2f}x | {ok(rps >= 0.95)} |")
    print(f"| CPU per request vs the Go handler (<= 1.1x) | {cpu:.2f}x | {ok(cpu <= 1.1)} |")
    print(f"| fast p99 with slow clients / alone (<= 1.3x) | {tail:.2f}x | {ok(tail <= 1.3)} |")
EOF
if [[ -n ${OUT:-} ]]; then
	echo
	echo "raw results: $out"
fi
