package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets a test run the real main in a child process (exit codes).
func TestMain(m *testing.M) {
	if args := os.Getenv("PULSE_TEST_MAIN_ARGS"); args != "" {
		os.Args = append([]string{"pulse"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs main with args in a child process and returns its exit
// code, stdout and stderr.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PULSE_TEST_MAIN_ARGS="+strings.Join(args, "\x1f"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func TestCostExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"cost", "-h"}, 0, "usage: pulse cost --events-per-second N"},
		{"unknown flag", []string{"cost", "--events-per-minute", "5"}, 2, "flag provided but not defined: -events-per-minute"},
		{"bad mode", []string{"cost", "--events-per-second", "5", "--load-mode", "copy"}, 2, `load-mode: "copy" is not merge or snowpipe`},
		{"negative rate", []string{"cost", "--events-per-second", "-5"}, 2, "events-per-second: -5 is negative"},
		{"bad format", []string{"cost", "--format", "csv"}, 2, `--format "csv": table or json`},
		{"extra argument", []string{"cost", "1000"}, 2, `unexpected arguments "1000"`},
		{"window", []string{"cost", "--batching-window", "400"}, 2, "--batching-window 400"},
		{"ok", []string{"cost", "--events-per-second", "100"}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runMain(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("pulse %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestCostTable: 100 events/s with the defaults prints every service
// (MSK Serverless's cluster-hour is 730 x $0.75 = $547.50) and the total.
func TestCostTable(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runCost(context.Background(), []string{"--events-per-second", "100"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"100 events/s (262,800,000 events a month)", "MSK Serverless cluster", "$547.50",
		"Lambda", "DynamoDB", "S3", "Snowflake", "CloudWatch", "Secrets Manager", "TOTAL"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// TestCostJSON: --format json is the report; the NAT gateway of the new
// VPC is 730 h x $0.045 = $32.85.
func TestCostJSON(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runCost(context.Background(), []string{"--events-per-second", "1000", "--format", "json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var r struct {
		EventsPerMonth float64 `json:"eventsPerMonth"`
		Lines          []struct {
			Service    string  `json:"service"`
			MonthlyUSD float64 `json:"monthlyUSD"`
		} `json:"lines"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.EventsPerMonth != 2_628_000_000 {
		t.Errorf("eventsPerMonth %v, want 2,628,000,000", r.EventsPerMonth)
	}
	found := false
	for _, l := range r.Lines {
		if l.Service == "VPC" {
			found = true
			if l.MonthlyUSD < 32.849999 || l.MonthlyUSD > 32.850001 {
				t.Errorf("NAT gateway $%v, want $32.85", l.MonthlyUSD)
			}
		}
	}
	if !found {
		t.Error("no VPC line")
	}
}

func TestCostHelpIsErrHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runCost(context.Background(), []string{"-h"}, &out, &errb); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("runCost -h = %v, want flag.ErrHelp", err)
	}
}
