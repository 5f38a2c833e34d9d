package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pulse-analytics/pulse/shared/adapters/duckdb"
)

// call runs pulse with args and returns the exit code and what it printed
// (commands print with fmt.Printf: os.Stdout is a file meanwhile).
func call(args ...string) (code int, stdout, stderr string) {
	f, err := os.CreateTemp("", "pulse-stdout-*")
	if err != nil {
		panic(err)
	}
	defer os.Remove(f.Name())
	saved := os.Stdout
	os.Stdout = f
	var e bytes.Buffer
	code = run(args, f, &e)
	os.Stdout = saved
	f.Close()
	out, _ := os.ReadFile(f.Name())
	return code, string(out), e.String()
}

// TestCommandLineConventions: help exits 0 on stdout, usage errors exit 2
// with one line naming the fix, for every command.
func TestCommandLineConventions(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, _ := call(args...)
		if code != 0 || !strings.Contains(out, "commands:") || !strings.Contains(out, "drop") {
			t.Errorf("pulse %v: exit %d, output %.200q; want 0 and the command list", args, code, out)
		}
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if code, out, _ := call(args...); code != 0 || !strings.HasPrefix(out, "pulse "+version+" (commit ") {
			t.Errorf("pulse %v: exit %d, %q", args, code, out)
		}
	}
	if code, _, errOut := call(); code != 2 || !strings.Contains(errOut, "commands:") {
		t.Errorf("pulse with no command: exit %d, %q", code, errOut)
	}
	if code, _, errOut := call("frobnicate"); code != 2 || errOut != "pulse: unknown command \"frobnicate\" (run 'pulse help' for the list)\n" {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			for _, h := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
				code, out, errOut := call(h...)
				if code != 0 || !strings.HasPrefix(out, "pulse "+name+": ") || errOut != "" {
					t.Fatalf("pulse %v: exit %d, stdout %.300q, stderr %q; want 0 and the help", h, code, out, errOut)
				}
				if !strings.Contains(out, "\nexample:\n  pulse "+name) {
					t.Errorf("pulse %v: no example in %q", h, out)
				}
				if !strings.Contains(out, "\nusage: pulse "+name) {
					t.Errorf("pulse %v: no usage line", h)
				}
			}
			code, _, errOut := call(name, "--no-such-flag")
			if name == "dashboards" {
				code, _, errOut = call(name, "push", "--no-such-flag")
				name = "dashboards push"
			}
			if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "-no-such-flag") || !strings.Contains(errOut, "--help") {
				t.Errorf("pulse %s --no-such-flag: exit %d, %q; want 2 and one line naming the flag and --help", name, code, errOut)
			}
		})
	}
}

// TestMissingDataFolderIsAnError: a --dir that does not exist is a usage
// error (a typo must not make a new, empty warehouse), for every command
// that reads a data folder.
func TestMissingDataFolderIsAnError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "demo-dta")
	file := filepath.Join(t.TempDir(), "x.csv")
	if err := os.WriteFile(file, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"query", "--dir", missing, "SELECT 1"},
		{"drop", file, "--dataset", "app_users", "--dir", missing},
		{"replay", "--dataset", "app_users", "--dir", missing},
		{"backfill", "--dir", missing},
		{"dashboard", "--dir", missing},
		{"status", "--dir", missing},
	} {
		if _, ok := commands[args[0]]; !ok {
			t.Errorf("no command %s", args[0])
			continue
		}
		code, _, errOut := call(args...)
		if code != 2 || !strings.Contains(errOut, "no such data folder") {
			t.Errorf("pulse %v: exit %d, %q; want 2 naming the missing folder", args, code, errOut)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("pulse %v created %s", args, missing)
		}
	}
}

// TestQueryIsReadOnlyUnlessWrite: pulse query refuses to change the
// warehouse without --write, and prints CSV and JSON.
func TestQueryIsReadOnlyUnlessWrite(t *testing.T) {
	dir := t.TempDir()
	wh, err := duckdb.Open(context.Background(), filepath.Join(dir, "warehouse.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Exec(context.Background(), "CREATE TABLE T AS SELECT 1 AS ID, 'a' AS NAME UNION ALL SELECT 2, 'b'"); err != nil {
		t.Fatal(err)
	}
	wh.Close()
	code, _, errOut := call("query", "--dir", dir, "DELETE FROM T")
	if code != 1 || !strings.Contains(errOut, "add --write") {
		t.Fatalf("DELETE without --write: exit %d, %q; want 1 and the hint", code, errOut)
	}
	code, out, _ := call("query", "--dir", dir, "--format", "csv", "SELECT ID, NAME FROM T ORDER BY ID")
	if code != 0 || !strings.HasSuffix(out, "ID,NAME\n1,a\n2,b\n") {
		t.Fatalf("csv: exit %d, %q", code, out)
	}
	if code, _, errOut = call("query", "--dir", dir, "--write", "DELETE FROM T WHERE ID = 1"); code != 0 {
		t.Fatalf("DELETE with --write: exit %d, %q", code, errOut)
	}
	code, out, _ = call("query", "--dir", dir, "--format", "json", "SELECT ID, NAME FROM T")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); code != 0 || err != nil || len(rows) != 1 || rows[0]["NAME"] != "b" {
		t.Fatalf("json after the delete: exit %d, %q (%v)", code, out, err)
	}
	if code, _, _ := call("query", "--dir", dir, "--format", "xml", "SELECT 1"); code != 2 {
		t.Errorf("--format xml: exit %d, want 2", code)
	}
}
