// Command pulse runs Pulse locally: the demo on embedded stand-ins, file
// drops, quarantine replays, and (as they land) the simulator, backfills
// and dashboards. Every command prints where its data lives.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/pulse-analytics/pulse/shared/dataset"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

// commands is filled by register calls in each command's file, so adding a
// command touches only its own file.
var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("pulse: command registered twice: " + name)
	}
	commands[name] = command{summary, run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pulse COMMAND [flags]\n\ncommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nrun 'pulse COMMAND -h' for a command's flags")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "pulse: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	// No e-mail address reaches a log line or the terminal (DESIGN.md 4.6).
	slog.SetDefault(slog.New(dataset.MaskingHandler(slog.NewTextHandler(os.Stderr, nil))))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) { // -h: the command printed its usage
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "pulse %s: %s\n", os.Args[1], dataset.MaskEmails(err.Error()))
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
