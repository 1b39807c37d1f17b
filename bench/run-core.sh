#!/usr/bin/env bash
# run-core.sh runs the core benchmarks of gather against its peers (raw
# goroutines, errgroup, conc, pond) and summarises them with benchstat when
# it can be had, else prints the raw output.
#
# Two passes:
#   1. BenchmarkStartAwait and BenchmarkStream, with -benchtime $BENCHTIME
#      (Go's default, 1s, when unset), COUNT rounds of one run each;
#   2. BenchmarkMapAllocs, whose ops are whole streams of up to a million
#      inputs, with -benchtime $ALLOCS_BENCHTIME (default 1x).
# Then a table of gather's MEDIAN ns/op relative to each other case, and the
# median of the same ratio taken round by round (each round runs every case
# of a benchmark in one process, back to back, so its ratio is the least
# disturbed by a shared machine whose speed drifts).
#
# With BASE=<git revision>, the core at that revision is built too and the
# two alternate round by round (base, this tree, base, ...); the table then
# shows both, and benchstat compares them.
#
# Environment (all optional):
#   COUNT=5              rounds (-count)
#   CPU=2                -cpu
#   BENCHTIME=           -benchtime of pass 1, e.g. 200000x
#   ALLOCS_BENCHTIME=1x  -benchtime of pass 2
#   BASE=                a git revision to compare with, e.g. main
#   OUT=file             where to keep the raw output (default: a temp file;
#                        with BASE, the base's goes to file.base)
#   BENCHSTAT=cmd        benchstat command (default: benchstat on PATH, else
#                        go run golang.org/x/perf/cmd/benchstat@latest)
set -euo pipefail

cd "$(dirname "$0")"

count=${COUNT:-5}
cpu=${CPU:-2}
allocs_benchtime=${ALLOCS_BENCHTIME:-1x}
out=${OUT:-$(mktemp -t gather-bench-core.XXXXXX)}
tmp=$(mktemp -d -t gather-bench-core-bin.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

benchtime_flag=()
if [[ -n ${BENCHTIME:-} ]]; then
	benchtime_flag=(-test.benchtime "$BENCHTIME")
fi

go test -c -o "$tmp/new.test" .
contenders=(new)
if [[ -n ${BASE:-} ]]; then
	root=$(git rev-parse --show-toplevel)
	mkdir "$tmp/base"
	git -C "$root" archive "$BASE" | tar -x -C "$tmp/base"
	(cd "$tmp/base/bench" && go test -c -o "$tmp/base.test" .)
	contenders=(base new)
	: >"$out.base"
fi
: >"$out"

for ((round = 1; round <= count; round++)); do
	for c in "${contenders[@]}"; do
		dest=$out
		[[ $c == base ]] && dest=$out.base
		"$tmp/$c.test" -test.run '^$' -test.bench '^Benchmark(StartAwait|Stream)$' -test.benchmem \
			-test.count 1 -test.cpu "$cpu" "${benchtime_flag[@]}" >>"$dest"
	done
done
for c in "${contenders[@]}"; do
	dest=$out
	[[ $c == base ]] && dest=$out.base
	"$tmp/$c.test" -test.run '^$' -test.bench '^BenchmarkMapAllocs$' -test.benchmem \
		-test.count "$count" -test.cpu "$cpu" -test.benchtime "$allocs_benchtime" >>"$dest"
done
echo "raw output: $out${BASE:+ and $out.base}" >&2

benchstat_cmd=()
if [[ -n ${BENCHSTAT:-} ]]; then
	read -r -a benchstat_cmd <<<"$BENCHSTAT"
elif command -v benchstat >/dev/null 2>&1; then
	benchstat_cmd=(benchstat)
else
	benchstat_cmd=(go run golang.org/x/perf/cmd/benchstat@latest)
fi

files=("$out")
[[ -n ${BASE:-} ]] && files=("$out.base" "$out")
if ! "${benchstat_cmd[@]}" "${files[@]}" 2>/dev/null; then
	echo "benchstat unavailable; raw output follows" >&2
	cat "${files[@]}"
fi

# gather's median ns/op as a ratio of every other case of the same benchmark
# (below 1 means gather is faster), then the median of the per-round ratios.
ratios() {
	awk '
		function median(list,    a, k, i, j, t) {
			k = split(list, a, " ")
			for (i = 2; i <= k; i++)
				for (j = i; j > 1 && a[j] + 0 < a[j-1] + 0; j--) {
					t = a[j]; a[j] = a[j-1]; a[j-1] = t
				}
			return k % 2 ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2
		}
		$1 == "PASS" { round++ }
		$1 ~ /^Benchmark(StartAwait|Stream)\// && $4 == "ns/op" {
			name = $1
			sub(/-[0-9]+$/, "", name)
			split(name, part, "/")
			bench = part[1]
			impl = part[2]
			vals[bench, impl] = vals[bench, impl] " " $3
			at[round, bench, impl] = $3
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
					line = sprintf("%-20s %-13s %7.0f ns", bench, g, median(vals[bench, g]))
					for (j = 1; j <= k; j++) {
						p = impls[j]
						if (p ~ /^gather/) continue
						paired = ""
						for (r = 0; r <= round; r++)
							if ((r, bench, g) in at && (r, bench, p) in at)
								paired = paired " " at[r, bench, g] / at[r, bench, p]
						line = line sprintf("  vs %s %.2fx (paired %.2fx)", p,
							median(vals[bench, g]) / median(vals[bench, p]), median(paired))
					}
					print line
				}
			}
		}
	' "$1"
}

echo
echo "gather / peer, median ns/op (paired: median of the per-round ratios)"
if [[ -n ${BASE:-} ]]; then
	echo "base ($BASE):"
	ratios "$out.base"
	echo "this tree:"
fi
ratios "$out"
