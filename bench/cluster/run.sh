#!/usr/bin/env bash
# run.sh measures what running a `gather fetch` job through NATS JetStream
# (`--cluster`: a coordinator, `gather worker` processes, the embedded
# `gather nats` server) costs and gains, on the local upstream (`gather
# upstream`), and prints markdown tables.
#
#   1  throughput, no added latency: N_INPUTS URLs (50,000; each
#      $UP/x?id=N, a short text answer) as one job. Contenders: the job run
#      locally, `gather fetch IN --job J.db -c C` for each C in LOCAL_C
#      (64, and 192 = three workers' concurrency), and the same job through
#      the cluster, `gather fetch IN --job J.db --cluster nats://...` with
#      K `gather worker -c WORKER_C` processes (64) for each K in WORKERS
#      (1 2 3). Reported: req/s, the ratio to local -c 64 (run by run, then
#      the median), and the CPU seconds of every process per 1,000 inputs
#      (coordinator or local process, the workers together, the nats
#      server, the upstream). This is the cost of going through JetStream:
#      each input is 1 work message published by the coordinator, pulled
#      and acknowledged by a worker, and 1 result message published by the
#      worker and read by the coordinator, each publication acknowledged
#      by the server (file storage).
#   2  latency-bound: LAT_INPUTS URLs (20,000) answered after LATENCY_MS
#      (50 ms, latency= in the URL), the same contenders. The ideal is
#      concurrency / latency: C / 0.05 s for local -c C, K x WORKER_C /
#      0.05 s for K workers; efficiency = measured req/s / ideal.
#
# Everything runs on this machine and competes for its CPUs (no pinning:
# with 2 CPUs there is nothing to give each process); the CPU seconds, not
# the wall times, say what each part costs. Every run starts fresh: a new
# job file, and for the cluster a new nats server (new store directory,
# new port) and new workers, started and seen "waiting for jobs" before
# the coordinator starts; after the coordinator exits, the workers get
# SIGINT and the server SIGTERM, and each must exit 0 within STOP_TIMEOUT
# (30 s). The runs alternate: one run of each contender in turn, REPEAT
# (3) times; each metric's median is shown. Every process is timed with
# GNU time (wall, user+sys CPU, peak RSS): the coordinator (or local
# process) from its start to its exit, the workers and the server over
# their whole life (start, ~1 s idle, the run, stop: shown apart); the
# CPU per 1,000 inputs of the workers, the server and the upstream is
# read from /proc at the coordinator's start and exit. Each run is checked: exit 0 within
# RUN_TIMEOUT (600 s; a hang fails loudly), the job file holds exactly N
# results, all ok (sqlite3 when installed, else `gather export`), and the
# upstream counted exactly N requests (more is a redelivery: reported, not
# fatal).
#
# Usage: bench/cluster/run.sh
# Environment (all optional): REPEAT=3 N_INPUTS=50000 LAT_INPUTS=20000
#   LATENCY_MS=50 WORKERS="1 2 3" WORKER_C=64 LOCAL_C="64 192" CASES=1,2
#   PARTITIONS=32 RUN_TIMEOUT=600 STOP_TIMEOUT=30
#   GATHER=/path/to/gather (default: built from this tree) KEEP_TMP=1
#   REPORT_FROM=DIR (print the tables from a kept temp dir, run nothing)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
repeat=${REPEAT:-3}
n_inputs=${N_INPUTS:-50000}
lat_inputs=${LAT_INPUTS:-20000}
latency_ms=${LATENCY_MS:-50}
workers_list=${WORKERS:-1 2 3}
worker_c=${WORKER_C:-64}
local_list=${LOCAL_C:-64 192}
cases=",${CASES:-1,2},"
partitions=${PARTITIONS:-32}
run_timeout=${RUN_TIMEOUT:-600}
stop_timeout=${STOP_TIMEOUT:-30}

die() {
	echo "run.sh: $*" >&2
	exit 1
}
note() { echo "# $*" >&2; }
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is missing: apt-get install -y time"
for c in curl timeout pgrep; do
	command -v "$c" >/dev/null || die "$c is missing"
done
read -ra local_cs <<<"$local_list"
read -ra worker_ks <<<"$workers_list"
((${#local_cs[@]} > 0)) || die "LOCAL_C is empty: the ratios need a local run"

tmp=$(mktemp -d -t gather-bench-cluster.XXXXXX)
if [[ -n ${REPORT_FROM:-} ]]; then
	cp "$REPORT_FROM"/c*.times "$REPORT_FROM"/c*.workers "$tmp"/ 2>/dev/null || true
fi
up_pid=
declare -a live=() # GNU time processes of the workers and the nats server of a run
cleanup() {
	local p c
	for p in "${live[@]}"; do
		for c in $(pgrep -P "$p" 2>/dev/null); do kill -KILL "$c" 2>/dev/null || true; done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [[ -n $up_pid ]]; then
		kill "$up_pid" 2>/dev/null || true
		wait "$up_pid" 2>/dev/null || true
	fi
	if [[ -n ${KEEP_TMP:-} ]]; then echo "temp files kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n ${REPORT_FROM:-} ]]; then
	gather=true
elif [[ -n ${GATHER:-} ]]; then
	gather=$GATHER
	[[ -x $gather ]] || die "GATHER=$gather is not executable"
else
	note "building gather"
	(cd "$root" && go build -o "$tmp/gather" ./cmd/gather) || die "go build ./cmd/gather failed"
	gather=$tmp/gather
fi

# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		port_free "$p" && echo "$p" && return
	done
	die "no free port found"
}
# wait_exit PID SECONDS: true once PID has exited (reaped or not), false
# if it still runs after SECONDS.
wait_exit() {
	local end=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null; do
		[[ $(ps -o stat= -p "$1" 2>/dev/null) == Z* ]] && return 0
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}
# child PID: the process GNU time (PID) runs.
child() {
	local c
	for _ in $(seq 100); do
		c=$(pgrep -P "$1" | head -n1 || true)
		[[ -n $c ]] && echo "$c" && return
		sleep 0.02
	done
	die "no child of GNU time $1"
}
clk=$(getconf CLK_TCK)
busy() { # CPU seconds the whole machine has been busy (not idle, not waiting on I/O)
	awk -v t="$clk" '$1 == "cpu" { printf "%.3f\n", ($2 + $3 + $4 + $7 + $8 + $9) / t; exit }' /proc/stat
}
cpu_of() { # user+sys CPU seconds of a running process so far
	sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$clk" '{ printf "%.3f\n", ($12 + $13) / t }'
}

# The upstream, on a free port.
for _ in 1 2 3 4 5; do
	[[ -z ${REPORT_FROM:-} ]] || { up_pid=none port=0 && break; }
	port=$(free_port)
	"$gather" upstream --addr "127.0.0.1:$port" 2>"$tmp/upstream.log" &
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

awk -v n="$n_inputs" -v b="$base" 'BEGIN { for (i = 1; i <= n; i++) printf "%s/x?id=%d\n", b, i }' >"$tmp/fast.txt"
awk -v n="$lat_inputs" -v b="$base" -v l="$latency_ms" 'BEGIN { for (i = 1; i <= n; i++) printf "%s/x?latency=%dms&id=%d\n", b, l, i }' >"$tmp/slow.txt"

# stored N DB: the job file holds N results, all ok.
stored() {
	local got ok
	if command -v sqlite3 >/dev/null; then
		got=$(sqlite3 "$2" "SELECT count(*) FROM results")
		ok=$(sqlite3 "$2" "SELECT count(*) FROM results WHERE ok = 1")
	else
		got=$("$gather" export "$2" | wc -l)
		ok=$("$gather" export "$2" | grep -c '"status":200' || true)
	fi
	[[ $got == "$1" && $ok == "$1" ]] || die "$3: the job file holds $got results ($ok ok), want $1"
}

# spawn NAME CMD...: starts CMD under GNU time in the background (its
# stderr to NAME.log, its times to NAME.time); sets $spawned to the GNU
# time process and $spawned_child to CMD's.
spawn() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/$name.time" "$@" 2>"$tmp/$name.log" &
	spawned=$!
	live+=("$spawned")
	spawned_child=$(child "$spawned")
	[[ -n $spawned_child ]] || die "$name: no process under GNU time"
}
# ready NAME PID TEXT: NAME.log shows TEXT within 15 s, PID still running.
ready() {
	for _ in $(seq 150); do
		grep -q "$3" "$tmp/$1.log" && return
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	die "$1 did not start: $(tail -n5 "$tmp/$1.log")"
}
# stop NAME SIGNAL TIMEPID CHILDPID: signals the process and waits for it
# (STOP_TIMEOUT); it must exit 0. Sets $stopped_cpu (s) and $stopped_rss
# (KB) from GNU time.
stop() {
	kill "-$2" "$4" 2>/dev/null || true
	if ! wait_exit "$3" "$stop_timeout"; then
		kill -KILL "$4" 2>/dev/null || true
		die "$1 did not exit within ${stop_timeout}s of SIG$2: $(tail -n5 "$tmp/$1.log")"
	fi
	local rc=0
	wait "$3" || rc=$?
	((rc == 0)) || die "$1 exited $rc after SIG$2: $(tail -n5 "$tmp/$1.log")"
	read -r stopped_cpu stopped_rss < <(awk '{ printf "%.3f %s\n", $2 + $3, $4 }' "$tmp/$1.time")
}
# summary_secs LOG: the run's own time, from its summary line
# ("N records in Xs (R/s): ...").
summary_secs() { sed -n 's/^[0-9][0-9]* records in \([0-9.]*\)s (.*/\1/p' "$1" | tail -n1; }

# One run writes a line to $tmp/CASE-NAME.times, with these columns:
#   1 wall s (the coordinator or local process, GNU time)
#   2 the run's own seconds (its summary: without start-up and tear-down)
#   3 CPU s of the coordinator or local process  4 its peak RSS KB
#   5 CPU s of the workers together during the run (/proc, from the
#     coordinator's start to its exit)  6 the largest worker's peak RSS KB
#   7 CPU s of the nats server during the run (/proc)  8 its peak RSS KB
#   9 CPU s of the upstream during the run (/proc)
#   10 requests the upstream counted beyond N (redeliveries)
#   11 CPU s of the workers together over their whole life (GNU time:
#      start, ~1 s idle, the run, stop)  12 the same for the nats server
#   13 other load: the CPUs the rest of the machine kept busy during the
#      run (/proc/stat's busy time less this run's processes, over the wall
#      time; 0 on a quiet machine)
# and the coordinator's lines per worker to $tmp/CASE-NAME.workers.

# run_local CASE N INPUT C
run_local() {
	local case=$1 n=$2 input=$3 c=$4 name=local$4 db rc=0 u0 u1 b0 b1 got
	db=$tmp/$case-$name.db
	rm -f "$db" "$db"-*
	reset
	u0=$(cpu_of "$up_pid") b0=$(busy)
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/coord.time" \
		timeout -k 10 "$run_timeout" "$gather" fetch "$input" --job "$db" -c "$c" 2>"$tmp/coord.log" || rc=$?
	u1=$(cpu_of "$up_pid") b1=$(busy)
	((rc != 124)) || die "$case $name: no exit within ${run_timeout}s (hung): $(tail -n5 "$tmp/coord.log")"
	((rc == 0)) || die "$case $name exited $rc: $(tail -n5 "$tmp/coord.log")"
	stored "$n" "$db" "$case $name"
	got=$(requests)
	((got == n)) || note "$case $name: the upstream counted $got requests for $n inputs"
	idle
	awk -v s="$(summary_secs "$tmp/coord.log")" -v u="$(awk -v a="$u0" -v b="$u1" 'BEGIN { print b - a }')" -v x=$((got - n)) \
		-v bz="$(awk -v a="$b0" -v b="$b1" 'BEGIN { print b - a }')" \
		'{ printf "%s %s %.3f %s 0 0 0 0 %.3f %d 0 0 %.2f\n", $1, s, $2 + $3, $4, u, x, (bz - u - $2 - $3) / $1 }' "$tmp/coord.time" >>"$tmp/$case-$name.times"
	cp "$tmp/coord.log" "$tmp/$case-$name.last.log"
	rm -f "$db" "$db"-*
}

# run_cluster CASE N INPUT K
run_cluster() {
	local case=$1 n=$2 input=$3 k=$4 name=workers$4 db rc=0 u0 u1 got nport store i
	local nats_t nats_c wcpu=0 wrss=0 ncpu nrss url n0 n1 w0 w1 b0 b1
	local -a wt=() wc=()
	db=$tmp/$case-$name.db
	rm -f "$db" "$db"-*
	store=$tmp/nats-store
	rm -rf "$store"
	live=()
	for _ in 1 2 3 4 5; do
		nport=$(free_port)
		spawn nats "$gather" nats --addr "127.0.0.1:$nport" --store "$store"
		nats_t=$spawned nats_c=$spawned_child
		for _ in $(seq 150); do
			grep -q "JetStream on" "$tmp/nats.log" && break 2
			kill -0 "$nats_c" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$nats_c" 2>/dev/null || true
		wait "$nats_t" 2>/dev/null || true
		live=()
		nats_t=
	done
	[[ -n $nats_t ]] || die "gather nats did not start: $(tail -n5 "$tmp/nats.log")"
	url=nats://127.0.0.1:$nport
	for i in $(seq "$k"); do
		spawn "w$i" "$gather" worker --cluster "$url" -c "$worker_c" --name "w$i"
		wt+=("$spawned") wc+=("$spawned_child")
	done
	for i in $(seq "$k"); do ready "w$i" "${wc[i - 1]}" "waiting for jobs"; done
	sleep 1 # let them settle (connections, the jobs bucket watched)
	reset
	u0=$(cpu_of "$up_pid") n0=$(cpu_of "$nats_c") w0=0 b0=$(busy)
	for i in $(seq "$k"); do w0=$(awk -v a="$w0" -v b="$(cpu_of "${wc[i - 1]}")" 'BEGIN { print a + b }'); done
	/usr/bin/time -f '%e %U %S %M' -o "$tmp/coord.time" \
		timeout -k 10 "$run_timeout" "$gather" fetch "$input" --job "$db" --cluster "$url" --partitions "$partitions" 2>"$tmp/coord.log" || rc=$?
	u1=$(cpu_of "$up_pid") n1=$(cpu_of "$nats_c") w1=0 b1=$(busy)
	for i in $(seq "$k"); do w1=$(awk -v a="$w1" -v b="$(cpu_of "${wc[i - 1]}")" 'BEGIN { print a + b }'); done
	((rc != 124)) || die "$case $name: the coordinator did not exit within ${run_timeout}s (hung): $(tail -n5 "$tmp/coord.log")"
	((rc == 0)) || die "$case $name: the coordinator exited $rc: $(tail -n5 "$tmp/coord.log")"
	for i in $(seq "$k"); do
		stop "w$i" INT "${wt[i - 1]}" "${wc[i - 1]}"
		wcpu=$(awk -v a="$wcpu" -v b="$stopped_cpu" 'BEGIN { printf "%.3f", a + b }')
		if ((stopped_rss > wrss)); then wrss=$stopped_rss; fi
	done
	stop nats TERM "$nats_t" "$nats_c"
	ncpu=$stopped_cpu nrss=$stopped_rss
	live=()
	stored "$n" "$db" "$case $name"
	got=$(requests)
	((got == n)) || note "$case $name: the upstream counted $got requests for $n inputs"
	idle
	for i in $(seq "$k"); do
		grep -q "^worker w$i: " "$tmp/coord.log" || note "$case $name: worker w$i made no result"
	done
	grep -E '^(worker |results dropped|inputs published again)' "$tmp/coord.log" | tr '\n' ';' >>"$tmp/$case-$name.workers"
	echo >>"$tmp/$case-$name.workers"
	awk -v s="$(summary_secs "$tmp/coord.log")" -v u="$(awk -v a="$u0" -v b="$u1" 'BEGIN { print b - a }')" -v x=$((got - n)) \
		-v wc="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" -v wr="$wrss" -v nc="$(awk -v a="$n0" -v b="$n1" 'BEGIN { print b - a }')" -v nr="$nrss" \
		-v wl="$wcpu" -v nl="$ncpu" -v bz="$(awk -v a="$b0" -v b="$b1" 'BEGIN { print b - a }')" \
		'{ printf "%s %s %.3f %s %.3f %s %.3f %s %.3f %d %.3f %.3f %.2f\n", $1, s, $2 + $3, $4, wc, wr, nc, nr, u, x, wl, nl, (bz - u - wc - nc - $2 - $3) / $1 }' "$tmp/coord.time" >>"$tmp/$case-$name.times"
	cp "$tmp/coord.log" "$tmp/$case-$name.last.log"
	rm -rf "$store" "$db" "$db"-*
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$tmp/$1.times" | median; }
# ratio CASE NAME: the median over rounds of NAME's req/s over local -c
# LOCAL_C[0]'s in the same round (by wall time).
ratio() {
	paste -d' ' "$tmp/$1-local${local_cs[0]}.times" "$tmp/$1-$2.times" | awk '{ print $1 / $(NF / 2 + 1) }' | median
}

names=()
for c in "${local_cs[@]}"; do names+=("local$c"); done
for k in "${worker_ks[@]}"; do names+=("workers$k"); done

run_case() { # CASE N INPUT
	local i nm
	for i in $(seq "$repeat"); do
		for nm in "${names[@]}"; do
			case $nm in
			local*) run_local "$1" "$2" "$3" "${nm#local}" ;;
			workers*) run_cluster "$1" "$2" "$3" "${nm#workers}" ;;
			esac
			note "$1 run $i $nm: $(tail -n1 "$tmp/$1-$nm.times")"
		done
	done
}

if [[ -n ${REPORT_FROM:-} ]]; then
	: # the runs are in REPORT_FROM
elif [[ $cases == *,1,* ]]; then
	note "case 1: $n_inputs inputs, no added latency; ${names[*]}; $repeat rounds"
	run_case c1 "$n_inputs" "$tmp/fast.txt"
fi
if [[ -z ${REPORT_FROM:-} && $cases == *,2,* ]]; then
	note "case 2: $lat_inputs inputs, ${latency_ms} ms each; ${names[*]}; $repeat rounds"
	run_case c2 "$lat_inputs" "$tmp/slow.txt"
fi

label() {
	case $1 in
	local*) echo "local \`fetch -c ${1#local}\`" ;;
	workers1) echo "cluster, 1 worker -c $worker_c" ;;
	workers*) echo "cluster, ${1#workers} workers -c $worker_c" ;;
	esac
}
conc() {
	case $1 in
	local*) echo "${1#local}" ;;
	workers*) echo $((${1#workers} * worker_c)) ;;
	esac
}
cpu_row() { # CASE NAME N: CPU ms per 1,000 inputs, by process
	local w c n
	w=$(col "$1-$2" 1)
	awk -v n="$3" -v l="$(label "$2")" -v w="$w" -v s="$(col "$1-$2" 2)" -v r="$(ratio "$1" "$2")" \
		-v cc="$(col "$1-$2" 3)" -v cr="$(col "$1-$2" 4)" -v wc="$(col "$1-$2" 5)" -v wr="$(col "$1-$2" 6)" \
		-v nc="$(col "$1-$2" 7)" -v nr="$(col "$1-$2" 8)" -v uc="$(col "$1-$2" 9)" -v x="$(col "$1-$2" 10)" \
		-v life="$(awk '{ print $11 + $12 }' "$tmp/$1-$2.times" | median)" -v o="$(col "$1-$2" 13)" \
		'BEGIN { k = 1e6 / n
			if (life == 0) { wn = "-"; nn = "-"; ln = "-"; rss = sprintf("%.0f", cr / 1024) } # a local run
			else { wn = sprintf("%.0f", wc * k); nn = sprintf("%.0f", nc * k); ln = sprintf("%.2f", life); rss = sprintf("%.0f / %.0f / %.0f", cr / 1024, wr / 1024, nr / 1024) }
			printf "| %s | %.2f | %.0f | %.0f | %.2f | %.0f | %s | %s | %.0f | %.0f | %s | %s | %s | %.2f |\n",
				l, w, n / w, n / s, r, cc * k, wn, nn, (cc + wc + nc) * k, uc * k, ln, rss, x, o }'
}

echo
echo "## gather fetch --cluster: what going through NATS JetStream costs"
echo
echo "$(nproc) CPUs ($(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n1)), no pinning: the upstream, the coordinator, the workers and the nats server all share them; $("$gather" version 2>/dev/null | head -n1 || true) $(go version 2>/dev/null | cut -d' ' -f3); $(date -u +%Y-%m-%d). One run of each contender in turn, medians of $repeat; --partitions $partitions, no --per-host (inputs spread by line)."
echo
if [[ $cases == *,1,* ]]; then
	echo "Case 1: $n_inputs inputs, no added latency. req/s = inputs / wall time of the coordinator (or local process), start-up and tear-down included; run req/s from its own summary; / local: req/s over local -c ${local_cs[0]}'s in the same round. CPU: milliseconds per 1,000 inputs (µs per input) while the coordinator (or local process) runs. Whole life: CPU seconds of the workers and the server from start to stop (one run). RSS: coordinator or local / largest worker / server."
	echo
	echo "| contender | wall s | req/s | run req/s | / local | coordinator or local CPU | workers CPU | nats CPU | gather CPU in all | upstream CPU | workers + nats, whole life, s | peak RSS MB | extra requests | other load, CPUs |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for nm in "${names[@]}"; do cpu_row c1 "$nm" "$n_inputs"; done
	echo
fi
if [[ $cases == *,2,* ]]; then
	echo "Case 2: $lat_inputs inputs, ${latency_ms} ms per response. Ideal req/s = requests in flight / latency; efficiency = req/s / ideal (wall time: start-up and tear-down included; run: the summary's own time)."
	echo
	echo "| contender | in flight | ideal req/s | wall s | req/s | efficiency | run req/s | run efficiency | gather CPU ms per 1,000 | other load, CPUs |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for nm in "${names[@]}"; do
		awk -v l="$(label "$nm")" -v k="$(conc "$nm")" -v lat="$latency_ms" -v n="$lat_inputs" \
			-v w="$(col "c2-$nm" 1)" -v s="$(col "c2-$nm" 2)" -v cc="$(col "c2-$nm" 3)" -v wc="$(col "c2-$nm" 5)" -v nc="$(col "c2-$nm" 7)" -v o="$(col "c2-$nm" 13)" \
			'BEGIN { ideal = k / (lat / 1000); printf "| %s | %d | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f |\n",
				l, k, ideal, w, n / w, n / w / ideal, n / s, n / s / ideal, (cc + wc + nc) * 1e6 / n, o }'
	done
	echo
fi
for f in "$tmp"/c*-workers*.workers; do
	[[ -e $f ]] || continue
	echo "$(basename "$f" .workers), the coordinator's lines per worker, run by run:"
	sed 's/^/    /' "$f"
done
