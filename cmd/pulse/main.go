// Command pulse runs Pulse locally: the demo on embedded stand-ins, file
// drops, quarantine replays, the simulator, backfills, the dashboards and
// the operator's status. Every command prints where its data lives.
//
// Conventions: `pulse help`, `-h` and `--help` (also after a command) print
// help and exit 0; a usage error (unknown command or flag, a missing
// argument) prints one line that names the fix and exits 2; a failure of
// the work exits 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/pulse-analytics/pulse/shared/dataset"
)

// version is Pulse's release; the commit comes from the build.
const version = "0.9.0"

type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
	// args, example and details make the command's help (see describe).
	args, example, details string
}

// commands is filled by register calls in each command's file, so adding a
// command touches only its own file.
var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("pulse: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

// describe adds a command's help: its arguments (after the flags' names),
// one real example, and what it does in more words.
func describe(name, args, example, details string) {
	c, ok := commands[name]
	if !ok {
		panic("pulse: describe of an unregistered command: " + name)
	}
	c.args, c.example, c.details = args, example, details
	commands[name] = c
}

// usageError is a mistake in how a command was called: exit 2.
type usageError struct {
	cmd, msg string
}

func (e *usageError) Error() string { return e.msg }

// usagef reports a usage error of cmd; the message names the fix.
func usagef(cmd, format string, a ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, a...)}
}

// parseFlags parses a command's flags: -h/--help gives flag.ErrHelp (help,
// exit 0), a bad flag a usage error naming it. The flag package's own
// output is silenced: the help and the one-line errors are pulse's.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef(fs.Name(), "%v", err)
	}
	return nil
}

func printCommands(w io.Writer) {
	fmt.Fprintln(w, "usage: pulse COMMAND [flags] [arguments]\n\ncommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\n  help       this list; 'pulse help COMMAND' or 'pulse COMMAND --help' for a command's flags and an example")
	fmt.Fprintln(w, "  version    the version and the commit it was built from")
}

// printHelp prints a command's help: what it does, its usage with its
// flags, and an example. The flags are listed by asking the command for
// them (it runs with --help and stops at parsing).
func printHelp(w io.Writer, name string) {
	c := commands[name]
	fmt.Fprintf(w, "pulse %s: %s\n", name, c.summary)
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", c.details)
	}
	fmt.Fprintf(w, "\nusage: pulse %s [flags]", name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintln(w)
	if fs := flagsOf(name); fs != nil {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if c.example != "" {
		fmt.Fprintf(w, "\nexample:\n  %s\n", c.example)
	}
}

// flagSets remembers each command's flag set as it is made (newFlags), so
// help can list the flags.
var flagSets = map[string]*flag.FlagSet{}

// newFlags makes a command's flag set.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	flagSets[name] = fs
	return fs
}

// flagsOf runs a command with --help, which makes its flag set and stops.
func flagsOf(name string) *flag.FlagSet {
	if fs, ok := flagSets[name]; ok {
		return fs
	}
	_ = commands[name].run(context.Background(), []string{"--help"})
	return flagSets[name]
}

// buildInfo is the version line: the release, the commit and whether the
// tree had changes.
func buildInfo() string {
	commit, dirty := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
				if len(commit) > 12 {
					commit = commit[:12]
				}
			case "vcs.modified":
				if s.Value == "true" {
					dirty = ", with local changes"
				}
			}
		}
	}
	return fmt.Sprintf("pulse %s (commit %s%s)", version, commit, dirty)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs pulse with args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printCommands(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 {
			if _, ok := commands[args[1]]; ok {
				printHelp(stdout, args[1])
				return 0
			}
			fmt.Fprintf(stderr, "pulse help: unknown command %q (run 'pulse help' for the list)\n", args[1])
			return 2
		}
		printCommands(stdout)
		return 0
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, buildInfo())
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "pulse: unknown command %q (run 'pulse help' for the list)\n", name)
		return 2
	}
	// No e-mail address reaches a log line or the terminal (DESIGN.md 4.6).
	slog.SetDefault(slog.New(dataset.MaskingHandler(slog.NewTextHandler(stderr, nil))))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, args[1:])
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		printHelp(stdout, name)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pulse %s: %s (run 'pulse %s --help')\n", name, dataset.MaskEmails(ue.msg), name)
		return 2
	}
	fmt.Fprintf(stderr, "pulse %s: %s\n", name, strings.TrimSpace(dataset.MaskEmails(err.Error())))
	return 1
}
