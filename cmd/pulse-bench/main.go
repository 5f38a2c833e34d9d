// Command pulse-bench measures what Go benchmarks cannot: the peak memory
// of the batch path over a file of a gigabyte, and the memory of the local
// stack over a long run.
//
//	pulse-bench rss [--mb 128,1024] [--dir bench-out]
//	pulse-bench soak [--rate 5000] [--duration 10m] [--every 30s] [--dir bench-out/soak]
//	pulse-bench coldstart [--runs 5] [--functions stream,load] [--dir bench-out/coldstart]
//
// rss generates live_streaming NDJSON files of the given sizes into
// <dir>/fixtures once (events/batchgen, with its dirt), puts each into a
// filesystem object store, and runs Clean+Model on it in a child process
// (this same binary, GOMAXPROCS=1), reporting the child's peak resident
// set (VmHWM of /proc/<pid>/status) and its throughput.
// The dedupe keys live in this parent process and are served to the child
// over a Unix socket, as DynamoDB holds them outside the Lambda function
// on AWS. The binary links no cgo, as a Lambda function would not.
//
// soak runs `pulse demo` (the pulse binary beside this one: batch rounds
// every 15 s, the simulator at --rate, the stream path, optionally the
// dashboard read each minute) on a fresh data folder for --duration, and
// prints every --every what the demo reports of itself (pulse demo
// --mem-every): RSS and its peak from /proc/self/status, the Go heap, DuckDB's
// memory, the dedupe store's claims, events produced and loaded. It ends
// with RSS at the end of the warm-up and at the end, and the slope after
// the warm-up.
//
// coldstart builds every function of functions/* and a hello-world bootstrap
// for this machine's architecture, runs each in fresh processes under AWS's
// Lambda Runtime Interface Emulator (localstack/tools/rie.sh installs it)
// with its template environment and every endpoint on local stand-ins,
// invokes it once and prints the init (the RIE's INIT REPORT), the first
// invocation, the peak RSS, the requests made during init, and the ratio
// to hello world.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pulse-bench rss [--mb 128,1024] [--dir bench-out] | pulse-bench soak [--rate 5000] [--duration 10m] | pulse-bench table [go-test-bench-output] | pulse-bench coldstart [--runs 5]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "rss":
		err = runRSS(ctx, os.Args[2:])
	case "soak":
		err = runSoak(ctx, os.Args[2:])
	case "table":
		err = runTable(os.Args[2:])
	case "coldstart":
		err = runColdstart(ctx, os.Args[2:])
	case childCommand:
		err = runChild(ctx, os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "pulse-bench: unknown command %q (want rss, soak, table or coldstart)\n", os.Args[1])
		os.Exit(2)
	}
	var usage usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &usage):
		fmt.Fprintf(os.Stderr, "pulse-bench %s: %v\n", os.Args[1], err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "pulse-bench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
