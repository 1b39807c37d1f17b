#!/usr/bin/env bash
# run-core.sh runs the core benchmarks of gather against its peers (raw
# goroutines, errgroup, conc, pond) and summarises them with benchstat when
# it can be had, else prints the raw output.
#
# Two passes:
#   1. BenchmarkStartAwait and BenchmarkStream, with -benchtime $BENCHTIME
#      (Go's default, 1s, when unset);
#   2. BenchmarkMapAllocs, whose ops are whole streams of up to a million
#      inputs, with -benchtime $ALLOCS_BENCHTIME (default 1x).
# Then a table of gather's mean ns/op relative to each other case.
#
# Environment (all optional):
#   COUNT=5              -count
#   CPU=2                -cpu
#   BENCHTIME=           -benchtime of pass 1, e.g. 200000x
#   ALLOCS_BENCHTIME=1x  -benchtime of pass 2
#   OUT=file             where to keep the raw output (default: a temp file)
#   BENCHSTAT=cmd        benchstat command (default: benchstat on PATH, else
#                        go run golang.org/x/perf/cmd/benchstat@latest)
set -euo pipefail

cd "$(dirname "$0")"

count=${COUNT:-5}
cpu=${CPU:-2}
allocs_benchtime=${ALLOCS_BENCHTIME:-1x}
out=${OUT:-$(mktemp -t gather-bench-core.XXXXXX)}

benchtime_flag=()
if [[ -n ${BENCHTIME:-} ]]; then
	benchtime_flag=(-benchtime "$BENCHTIME")
fi

{
	go test -run '^$' -bench '^Benchmark(StartAwait|Stream)$' -benchmem \
		-count "$count" -cpu "$cpu" "${benchtime_flag[@]}"
	go test -run '^$' -bench '^BenchmarkMapAllocs$' -benchmem \
		-count "$count" -cpu "$cpu" -benchtime "$allocs_benchtime"
} | tee "$out" >/dev/null
echo "raw output: $out" >&2

benchstat_cmd=()
if [[ -n ${BENCHSTAT:-} ]]; then
	read -r -a benchstat_cmd <<<"$BENCHSTAT"
elif command -v benchstat >/dev/null 2>&1; then
	benchstat_cmd=(benchstat)
else
	benchstat_cmd=(go run golang.org/x/perf/cmd/benchstat@latest)
fi

if ! "${benchstat_cmd[@]}" "$out" 2>/dev/null; then
	echo "benchstat unavailable; raw output follows" >&2
	cat "$out"
fi

# gather's mean ns/op as a ratio of every other case of the same benchmark
# (below 1 means gather is faster).
echo
echo "gather / peer, mean ns/op"
awk '
	$1 ~ /^Benchmark(StartAwait|Stream)\// && $4 == "ns/op" {
		name = $1
		sub(/-[0-9]+$/, "", name)
		split(name, part, "/")
		bench = part[1]
		impl = part[2]
		sum[bench, impl] += $3
		n[bench, impl]++
		if (!((bench, impl) in seen)) {
			seen[bench, impl] = 1
			order[bench] = order[bench] " " impl
		}
		if (!(bench in benches)) {
			benches[bench] = 1
			border[++nb] = bench
		}
	}
	END {
		for (b = 1; b <= nb; b++) {
			bench = border[b]
			k = split(order[bench], impls, " ")
			for (i = 1; i <= k; i++) {
				g = impls[i]
				if (g !~ /^gather/) continue
				line = sprintf("%-20s %-13s", bench, g)
				for (j = 1; j <= k; j++) {
					p = impls[j]
					if (p ~ /^gather/) continue
					line = line sprintf("  vs %s %.2fx", p, (sum[bench, g] / n[bench, g]) / (sum[bench, p] / n[bench, p]))
				}
				print line
			}
		}
	}
' "$out"
