// Command mkjob writes a synthetic gather job file, for trying gather
// export and gather report without a crawl (scripts/check-report.sh) and
// for timing them on big jobs:
//
//	go run ./scripts/mkjob -n 1000000 /tmp/big.db
//
// The file must not exist. The same -n and -seed give the same job.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gogather/gather/internal/jobfixture"
)

func main() {
	n := flag.Int("n", 5000, "results to store")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mkjob [-n N] [-seed S] FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *n < 1 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	if err := jobfixture.Synthetic(context.Background(), flag.Arg(0), *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "mkjob:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "mkjob: %d results in %s (%.1fs)\n", *n, flag.Arg(0), time.Since(start).Seconds())
}
