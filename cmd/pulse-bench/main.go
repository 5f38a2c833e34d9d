// Command pulse-bench measures what Go benchmarks cannot: the peak memory
// of the batch path over a file of a gigabyte.
//
//	pulse-bench rss [--mb 128,1024] [--dir bench-out]
//
// rss generates live_streaming NDJSON files of the given sizes into
// <dir>/fixtures once (events/batchgen, with its dirt), puts each into a
// filesystem object store, and runs Clean+Model on it in a child process
// (this same binary, GOMAXPROCS=1), reporting the child's peak resident
// set (VmHWM of /proc/<pid>/status) and its throughput.
// The dedupe keys live in this parent process and are served to the child
// over a Unix socket, as DynamoDB holds them outside the Lambda function
// on AWS. The binary links no cgo, as a Lambda function would not.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pulse-bench rss [--mb 128,1024] [--dir bench-out] | pulse-bench table [go-test-bench-output]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "rss":
		err = runRSS(ctx, os.Args[2:])
	case "table":
		err = runTable(os.Args[2:])
	case childCommand:
		err = runChild(ctx, os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "pulse-bench: unknown command %q (want rss or table)\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulse-bench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
