#!/usr/bin/env bash
# run.sh compares `gather fetch` with its peers on the same local upstream
# (`gather upstream`), in one run, and prints a markdown table.
#
# Clients, each given the same URLs and the same concurrency N:
#   gather     gather fetch -c N -q -o /dev/null (records are still built:
#              status, size, sha256 of every body)
#   plainpool  a plain net/http worker pool, N workers on one tuned Transport
#              (bench/fetch/plainpool)
#   curl-par   curl --parallel --parallel-max N -K config (curl caps N at 300)
#   xargs-curl xargs -P N curl, a process per URL: only when N <= XARGS_MAX_C
#              and on XARGS_URLS URLs (ratios are then per URL); not in
#              scenario 3
#   aiohttp    asyncio + aiohttp the classic way (bench/fetch/aio.py), with
#              Debian's /usr/bin/python3 and python3-aiohttp
#   hey        hey -n URLS -c N on one URL (URLS rounded down to a multiple
#              of N, as hey sends URLS/N per worker), when it can be had (on PATH, else
#              go install github.com/rakyll/hey@latest into a temp GOBIN)
# A peer whose tool is missing is skipped with a note.
#
# Scenarios:
#   1  no added latency, N_URLS URLs (20,000), concurrency 64
#   2  LATENCY (50ms) per response, N_URLS URLs, concurrency 1,000; the
#      efficiency column is ideal/actual wall time, ideal = URLS/N*LATENCY
#   3  (only with --big or SCENARIOS containing 3) N_URLS_BIG URLs
#      (1,000,000) streamed, concurrency 64, for peak RSS; gather also runs
#      on a tenth of them to give its RSS ratio at 10x the input
#
# The upstream runs pinned to CPU 1 and the clients to CPU 0 (taskset, when
# there are 2 CPUs or more). Each run is timed with GNU time (wall, user+sys
# CPU, peak RSS); the table shows medians over REPEAT runs, each metric on
# its own. Before every run the upstream's counters are reset (POST
# /_reset); after it GET /_stats must show exactly one request per URL, the
# client must report every URL fetched with a 2xx, and it must exit 0: the
# "check" lines and column show it.
#
# Usage: bench/fetch/run.sh [--big]
#
# Environment (all optional):
#   SCENARIOS=1,2        scenarios to run (--big adds 3)
#   REPEAT=3             runs per client and scenario (the median is shown)
#   N_URLS=20000         URLs of scenarios 1 and 2
#   N_URLS_BIG=1000000   URLs of scenario 3
#   XARGS_URLS=2000      URLs for xargs -P N curl
#   XARGS_MAX_C=64       xargs runs only at this concurrency or below
#   LATENCY=50ms         latency of scenario 2 (a number with ms or s)
#   SKIP=                clients to leave out, comma-separated (e.g. aiohttp,hey)
#   HEY=path             hey binary (default: hey on PATH, else go install)
#   NO_INSTALL=1         never apt-get install a missing `time` or python3-aiohttp
#   KEEP_TMP=1           keep the temp directory (URL files, raw timings)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

scenarios=${SCENARIOS:-1,2}
for arg in "$@"; do
	case $arg in
	--big) scenarios="$scenarios,3" ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "run.sh: unknown argument $arg (try --help)" >&2
		exit 2
		;;
	esac
done
repeat=${REPEAT:-3}
n_urls=${N_URLS:-20000}
n_big=${N_URLS_BIG:-1000000}
n_xargs=${XARGS_URLS:-2000}
xargs_max_c=${XARGS_MAX_C:-64}
latency=${LATENCY:-50ms}
skip=",${SKIP:-},"

note() { echo "# $*" >&2; }
die() {
	echo "run.sh: $*" >&2
	exit 1
}

case $latency in
*ms) lat_s=$(awk -v v="${latency%ms}" 'BEGIN { print v / 1000 }') ;;
*s) lat_s=${latency%s} ;;
*) die "LATENCY=$latency: want a number with ms or s, e.g. 50ms" ;;
esac
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "REPEAT=$repeat: want a positive integer"

tmp=$(mktemp -d -t gather-bench-fetch.XXXXXX)
up_pid=
cleanup() {
	if [[ -n $up_pid ]]; then
		kill "$up_pid" 2>/dev/null || true
		wait "$up_pid" 2>/dev/null || true
	fi
	if [[ -n ${KEEP_TMP:-} ]]; then
		echo "temp files kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -----------------------------------------------------------------

command -v go >/dev/null || die "go is not on PATH"

can_install() { [[ -z ${NO_INSTALL:-} && $(id -u) == 0 ]] && command -v apt-get >/dev/null; }

if [[ ! -x /usr/bin/time ]]; then
	if can_install; then
		note "installing Debian's time package (GNU time)"
		apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; } || true
	fi
	[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is missing: apt-get install -y time"
fi

pin_srv=()
pin_cli=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
	pin_srv=(taskset -c 1)
	pin_cli=(taskset -c 0)
	pinning="upstream on CPU 1, clients on CPU 0"
else
	pinning="no pinning (taskset missing or fewer than 2 CPUs)"
	note "$pinning"
fi

note "building gather and plainpool"
(cd "$root" && go build -o "$tmp/gather" ./cmd/gather) || die "go build ./cmd/gather failed"
(cd "$root/bench" && go build -o "$tmp/plainpool" ./fetch/plainpool) || die "go build ./fetch/plainpool failed"
gather=$tmp/gather

have_curl=
if command -v curl >/dev/null; then
	have_curl=1
else
	note "curl not found: skipping curl-par and xargs-curl"
fi

have_aio=
if [[ -x /usr/bin/python3 ]] && ! /usr/bin/python3 -c 'import aiohttp' 2>/dev/null && can_install; then
	note "installing Debian's python3-aiohttp"
	apt-get install -y python3-aiohttp >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y python3-aiohttp >/dev/null 2>&1; } || true
fi
if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import aiohttp' 2>/dev/null; then
	have_aio=1
	aio_version=$(/usr/bin/python3 -c 'import aiohttp, sys; print(aiohttp.__version__, "python", sys.version.split()[0])')
else
	note "/usr/bin/python3 with aiohttp not found (apt-get install -y python3-aiohttp): skipping aiohttp"
fi

hey=${HEY:-}
if [[ -z $hey ]] && command -v hey >/dev/null; then
	hey=$(command -v hey)
fi
if [[ -z $hey && $skip != *,hey,* ]]; then
	note "installing hey: go install github.com/rakyll/hey@latest"
	if (cd "$tmp" && GOBIN=$tmp/bin GOFLAGS= timeout 300 go install github.com/rakyll/hey@latest) >"$tmp/hey-install.log" 2>&1; then
		hey=$tmp/bin/hey
	else
		note "hey could not be installed: skipping it ($(tail -n1 "$tmp/hey-install.log"))"
	fi
fi
if [[ -n $hey && ! -x $hey ]]; then
	note "HEY=$hey is not executable: skipping hey"
	hey=
fi

# --- the upstream ----------------------------------------------------------

port=
# http METHOD PATH prints the body of the upstream's answer (bash's /dev/tcp,
# so that the checks need no client of their own).
http() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nContent-Length: 0\r\n\r\n' "$1" "$2" "$port" >&3
		resp=$(cat <&3)
		printf '%s\n' "${resp#*$'\r\n\r\n'}"
	) 2>/dev/null
}

json_int() { sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" | head -n1; }

# start_upstream [FLAGS...] starts gather upstream on a free port.
start_upstream() {
	local try
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 12000))
		if http GET /_stats >/dev/null; then
			continue # taken
		fi
		"${pin_srv[@]}" "$gather" upstream --addr "127.0.0.1:$port" "$@" 2>"$tmp/upstream.log" &
		up_pid=$!
		local i
		for i in $(seq 50); do
			if ! kill -0 "$up_pid" 2>/dev/null; then
				break
			fi
			if http GET /_stats | grep -q '"requests"'; then
				return 0
			fi
			sleep 0.1
		done
		kill "$up_pid" 2>/dev/null || true
		wait "$up_pid" 2>/dev/null || true
		up_pid=
	done
	die "gather upstream did not start: $(cat "$tmp/upstream.log")"
}

stop_upstream() {
	kill "$up_pid" 2>/dev/null || true
	wait "$up_pid" 2>/dev/null || true
	up_pid=
}

# --- one measured run ------------------------------------------------------

# write_urls FILE COUNT writes COUNT distinct URLs (one path, so the
# upstream's per-path table stays one entry long).
write_urls() {
	awk -v base="http://127.0.0.1:$port/item?i=" -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) print base i }' >"$1"
}

# count_of CLIENT OUTFILE prints the number of URLs the client reports as
# fetched with a 2xx.
count_of() {
	case $1 in
	gather*) json_int ok <"$tmp/gstats.json" ;;
	plainpool | aiohttp) tail -n1 "$2" ;;
	curl-par | xargs-curl) grep -c '^2[0-9][0-9]$' "$2" || true ;;
	hey) sed -n 's/.*\[200\][[:space:]]*\([0-9][0-9]*\) responses.*/\1/p' "$2" | head -n1 ;;
	esac
}

# measure SCENARIO CLIENT URLS CONC CMD... runs CMD REPEAT times and appends
# the medians to results.tsv.
measure() {
	local scen=$1 client=$2 urls=$3 conc=$4
	shift 4
	local run rc in_flight counted mx got status allok=ok
	: >"$tmp/runs"
	for run in $(seq "$repeat"); do
		http POST /_reset >/dev/null || die "POST /_reset failed"
		rm -f "$tmp/gstats.json"
		rc=0
		/usr/bin/time -f '%e %U %S %M' -o "$tmp/time.out" "${pin_cli[@]}" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
		http GET /_stats >"$tmp/stats.json" || die "GET /_stats failed"
		counted=$(json_int requests <"$tmp/stats.json")
		mx=$(sed -n 's/.*"max_concurrent": *{\([^}]*\)}.*/\1/p' "$tmp/stats.json" | tr ',' '\n' | sed -n 's/.*: *\([0-9][0-9]*\)$/\1/p' | sort -n | tail -n1 || true)
		got=$(count_of "$client" "$tmp/out" 2>/dev/null || true)
		status=ok
		if [[ $rc != 0 || ${counted:-x} != "$urls" || ${got:-x} != "$urls" ]]; then
			status=FAIL
			allok=FAIL
		fi
		printf 'check: scenario %s %-10s run %d/%d: upstream counted %s of %s requests, client reports %s fetched, exit %s, most in flight %s: %s (%s)\n' \
			"$scen" "$client" "$run" "$repeat" "${counted:-?}" "$urls" "${got:-?}" "$rc" "${mx:-?}" "$status" \
			"$(tail -n1 "$tmp/time.out" | awk '{ printf "wall %.2f s, CPU %.2f s, RSS %.1f MB", $1, $2 + $3, $4 / 1024 }')" >&2
		if [[ $status != ok ]]; then
			sed 's/^/    stderr: /' "$tmp/err" | tail -n5 >&2
		fi
		tail -n1 "$tmp/time.out" | awk -v mx="${mx:-0}" '{ print $1, $2 + $3, $4, mx }' >>"$tmp/runs"
		in_flight=1
		for _ in $(seq 50); do # let the upstream finish with the last connections
			in_flight=$(http GET /_stats | json_int in_flight || true)
			[[ ${in_flight:-1} == 0 ]] && break
			sleep 0.1
		done
	done
	# Median of each column on its own.
	local med=()
	local col
	for col in 1 2 3 4; do
		med+=("$(awk -v c="$col" '{ print $c }' "$tmp/runs" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')")
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scen" "$client" "$urls" "$conc" "${med[0]}" "${med[1]}" "${med[2]}" "${med[3]}" "$allok" >>"$tmp/results.tsv"
}

want() { [[ $skip != *,$1,* ]]; }

# run_clients SCENARIO URLS CONC runs every client available on URLS URLs.
run_clients() {
	local scen=$1 urls=$2 conc=$3
	local file=$tmp/urls-$urls.txt
	write_urls "$file" "$urls"
	note "scenario $scen: $urls URLs, concurrency $conc, upstream on 127.0.0.1:$port"

	measure "$scen" gather "$urls" "$conc" \
		"$gather" fetch -c "$conc" -q -o /dev/null --stats "$tmp/gstats.json" "$file"
	if want plainpool; then
		measure "$scen" plainpool "$urls" "$conc" "$tmp/plainpool" -c "$conc" "$file"
	fi
	if [[ -n $have_curl ]] && want curl-par; then
		awk '{ printf "url = \"%s\"\noutput = \"/dev/null\"\n", $0 }' "$file" >"$tmp/curl.cfg"
		measure "$scen" curl-par "$urls" "$conc" \
			curl -sS --noproxy '*' --parallel --parallel-max "$conc" -w '%{http_code}\n' -K "$tmp/curl.cfg"
	fi
	if [[ -n $have_curl ]] && want xargs-curl; then
		if ((scen == 3)); then
			note "xargs-curl skipped in scenario 3 (it runs XARGS_URLS URLs, as in scenario 1)"
		elif ((conc <= xargs_max_c)); then
			local n=$((n_xargs < urls ? n_xargs : urls))
			write_urls "$tmp/urls-xargs.txt" "$n"
			measure "$scen" xargs-curl "$n" "$conc" \
				xargs -a "$tmp/urls-xargs.txt" -P "$conc" -n 1 curl -sS --noproxy '*' -o /dev/null -w '%{http_code}\n'
		else
			note "xargs-curl skipped at concurrency $conc (only up to XARGS_MAX_C=$xargs_max_c: a process per URL)"
		fi
	fi
	if [[ -n $have_aio ]] && want aiohttp; then
		measure "$scen" aiohttp "$urls" "$conc" /usr/bin/python3 "$here/aio.py" "$conc" "$file"
	fi
	if [[ -n $hey ]] && want hey; then
		# hey sends n/c requests per worker: round down to a multiple of c.
		local nh=$((urls / conc * conc))
		if ((nh > 0)); then
			measure "$scen" hey "$nh" "$conc" "$hey" -n "$nh" -c "$conc" "http://127.0.0.1:$port/item"
		else
			note "hey skipped: fewer URLs ($urls) than concurrency ($conc)"
		fi
	fi
}

: >"$tmp/results.tsv"
IFS=, read -r -a scen_list <<<"$scenarios"
declare -A done_scen=()
for scen in "${scen_list[@]}"; do
	[[ -n ${done_scen[$scen]:-} ]] && continue
	done_scen[$scen]=1
	case $scen in
	1)
		start_upstream
		run_clients 1 "$n_urls" 64
		stop_upstream
		;;
	2)
		start_upstream --latency "$latency"
		run_clients 2 "$n_urls" 1000
		stop_upstream
		;;
	3)
		start_upstream
		small=$((n_big / 10))
		write_urls "$tmp/urls-$small.txt" "$small"
		note "scenario 3: gather on $small URLs first, for the RSS ratio"
		measure 3 "gather@$small" "$small" 64 \
			"$gather" fetch -c 64 -q -o /dev/null --stats "$tmp/gstats.json" "$tmp/urls-$small.txt"
		rm -f "$tmp/urls-$small.txt"
		run_clients 3 "$n_big" 64
		stop_upstream
		;;
	*) die "SCENARIOS: unknown scenario $scen (want 1, 2 or 3)" ;;
	esac
done

# --- the table -------------------------------------------------------------

echo
echo "## gather fetch and its peers"
echo
echo "$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $pinning; $(go version | cut -d' ' -f3), $(curl --version 2>/dev/null | head -n1 | cut -d' ' -f1,2)${have_aio:+, aiohttp $aio_version}."
echo "Medians of $repeat run(s). Ratios are the peer's per-URL wall time and CPU over gather's in the same scenario (above 1: gather is faster or cheaper); max in flight is the most requests the upstream saw at once."
echo
awk -F'\t' -v lat="$lat_s" '
	function desc(s) {
		if (s == 1) return "1: no latency"
		if (s == 2) return "2: " lat * 1000 " ms"
		return "3: streamed"
	}
	{ row[NR] = $0; if ($2 == "gather") { gw[$1] = $5 / $3; gc[$1] = $6 / $3 } }
	END {
		print "| scenario | client | URLs | conc | wall s | req/s | CPU s | peak RSS MB | wall ÷ gather | CPU ÷ gather | efficiency | max in flight | check |"
		print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
		for (i = 1; i <= NR; i++) {
			split(row[i], f, "\t")
			s = f[1]; urls = f[3]; conc = f[4]; wall = f[5]; cpu = f[6]; rss = f[7]
			peer = (f[2] !~ /^gather/)
			rw = (s in gw && gw[s] > 0 && peer) ? sprintf("%.2fx", (wall / urls) / gw[s]) : (f[2] == "gather" ? "1" : "")
			rc = (s in gc && gc[s] > 0 && peer) ? sprintf("%.2fx", (cpu / urls) / gc[s]) : (f[2] == "gather" ? "1" : "")
			eff = (s == 2 && wall > 0) ? sprintf("%.2f", (urls / conc * lat) / wall) : ""
			name = (f[2] == "gather") ? "**gather**" : f[2]
			printf "| %s | %s | %d | %d | %.2f | %.0f | %.2f | %.1f | %s | %s | %s | %d | %s |\n", desc(s), name, urls, conc, wall, (wall > 0 ? urls / wall : 0), cpu, rss / 1024, rw, rc, eff, f[8], f[9]
			if (s == 3 && f[2] == "gather") g3 = rss
			if (f[2] ~ /^gather@/) g3small = rss
		}
		if (g3small > 0 && g3 > 0)
			printf "\ngather peak RSS at 10x the URLs (scenario 3): %.2fx (%.1f MB vs %.1f MB)\n", g3 / g3small, g3 / 1024, g3small / 1024
	}
' "$tmp/results.tsv"
if grep -q FAIL "$tmp/results.tsv"; then
	echo
	echo "Some runs did not fetch every URL exactly once (see the check lines above)."
	exit 1
fi
