// Package functions holds one folder per Lambda function (see README.md);
// this test guards what their binaries may contain.
package functions

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildTags are the tags infra/build-lambdas.sh builds with.
const buildTags = "lambda.norpc,minicore_disabled"

// goList lists the non-standard packages in the import graph of pkg for
// linux/arm64 with cgo allowed, so that a package that would use cgo shows
// its cgo files: "path cgo" or "path".
func goList(t *testing.T, pkg, tags string) []string {
	t.Helper()
	args := []string{"list", "-deps", "-f", `{{if not .Standard}}{{.ImportPath}}{{if .CgoFiles}} cgo{{end}}{{end}}`}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(strings.ReplaceAll(string(out), " cgo", "|cgo"))
}

// TestNoCgoNoDuckDB: no function's import graph holds DuckDB or any
// package with cgo files (under the build's tags), so the binaries build
// with CGO_ENABLED=0 and run on provided.al2023 without native libraries.
func TestNoCgoNoDuckDB(t *testing.T) {
	mains, err := filepath.Glob("*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions found: %v", err)
	}
	for _, m := range mains {
		name := filepath.Dir(m)
		t.Run(name, func(t *testing.T) {
			deps := goList(t, "./"+name, buildTags)
			for _, d := range deps {
				if strings.Contains(strings.ToLower(d), "duckdb") {
					t.Errorf("%s imports %s", name, strings.TrimSuffix(d, "|cgo"))
				}
				if strings.HasSuffix(d, "|cgo") {
					t.Errorf("%s imports %s, which has cgo files", name, strings.TrimSuffix(d, "|cgo"))
				}
			}
			if len(deps) < 5 {
				t.Errorf("%s: only %d dependencies listed: %v", name, len(deps), deps)
			}
		})
	}
}

// TestCgoCheckSeesGosnowflake: without minicore_disabled, gosnowflake has
// cgo files, and the check above would say so (it is not vacuous).
func TestCgoCheckSeesGosnowflake(t *testing.T) {
	for _, d := range goList(t, "./load", "lambda.norpc") {
		if d == "github.com/snowflakedb/gosnowflake|cgo" {
			return
		}
	}
	t.Error("without minicore_disabled the load function should import gosnowflake's cgo files")
}

// TestMainsThin: every function's main.go stays under 30 lines; what the
// mains share lives in shared/wire.
func TestMainsThin(t *testing.T) {
	mains, err := filepath.Glob("*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions found: %v", err)
	}
	for _, m := range mains {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n >= 30 {
			t.Errorf("%s has %d lines, want under 30 (move its wiring to shared/wire)", m, n)
		}
	}
}
