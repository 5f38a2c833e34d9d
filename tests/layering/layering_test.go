// Package layering enforces the import rules of CONTRIBUTING.md over the
// whole module, from `go list -json ./...`:
//
//   - the domain packages (shared/dataset, record, table, star, window,
//     session, pipeline, stream, gold, marts, sqlmodel, datatest, catalog)
//     depend on no AWS code
//     (github.com/aws/..., the Lambda runtime included), directly or not,
//     and import none of the outer layers (adapters, handlers, wire,
//     dashboards, functions, cmd, infra, localstack, tests);
//   - an adapter (shared/adapters/...) imports neither a handler nor a use
//     case (stream, gold, catalog, datatest, handlers, wire, dashboards);
//     it may import shared/pipeline, where the ports live until they move
//     to their own package;
//   - nothing imports functions/ or cmd/ (tests included) but the packages
//     under the same folder.
//
// .golangci.yml's depguard rules check the same rules on direct imports
// (golangci-lint, in make test and make check, and in an editor): this test
// is the authority (the whole closure, the exceptions); keep the package lists
// of both in step.
package layering

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/pulse-analytics/pulse/"

// pkg is what the rules read of one `go list -json` package.
type pkg struct {
	ImportPath                string
	Imports, Deps             []string
	TestImports, XTestImports []string
}

// domain are the packages that hold Pulse's rules and know nothing of AWS.
var domain = []string{"shared/dataset", "shared/record", "shared/table", "shared/star", "shared/window", "shared/session",
	"shared/pipeline", "shared/stream", "shared/gold", "shared/marts", "shared/sqlmodel", "shared/datatest", "shared/catalog"}

// outer are the layers the domain never reaches.
var outer = []string{"shared/adapters/", "shared/handlers", "shared/wire", "dashboards/", "functions/", "cmd/", "infra/", "localstack/", "tests/"}

// useCases are what an adapter never reaches.
var useCases = []string{"shared/stream", "shared/gold", "shared/catalog", "shared/datatest", "shared/handlers", "shared/wire", "dashboards/"}

// allowed are the known exceptions, each with the move that removes it.
var allowed = map[[2]string]string{
	{"shared/adapters/msk", "shared/catalog"}: "catalog.Movie and the Producer port: to move to the ports package",
}

func rel(path string) (string, bool) { return strings.CutPrefix(path, module) }

func under(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == strings.TrimSuffix(p, "/") || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// violations lists every broken rule, one line each, sorted.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		self, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		isDomain := slices.Contains(domain, self)
		isAdapter := under(self, []string{"shared/adapters/"})
		for _, d := range p.Deps {
			if isDomain && strings.HasPrefix(d, "github.com/aws/") {
				out = append(out, fmt.Sprintf("%s (domain) depends on %s (AWS)", self, d))
			}
		}
		for _, i := range p.Imports {
			dep, mine := rel(i)
			switch {
			case !mine:
			case allowed[[2]string{self, dep}] != "":
			case isDomain && under(dep, outer):
				out = append(out, fmt.Sprintf("%s (domain) imports %s (an outer layer)", self, dep))
			case isAdapter && under(dep, useCases):
				out = append(out, fmt.Sprintf("%s (adapter) imports %s (a use case or handler)", self, dep))
			}
		}
		for _, imps := range [][]string{p.Imports, p.TestImports, p.XTestImports} {
			for _, i := range imps {
				dep, mine := rel(i)
				if !mine {
					continue
				}
				for _, top := range []string{"functions", "cmd"} {
					if under(dep, []string{top + "/"}) && !under(self, []string{top + "/"}) {
						out = append(out, fmt.Sprintf("%s imports %s (nothing outside %s/ may)", self, dep, top))
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestLayering: the module keeps the rules.
func TestLayering(t *testing.T) {
	cmd := exec.Command("go", "list", "-tags", "minicore_disabled", "-json", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 50 {
		t.Fatalf("go list gave %d packages; want the whole module", len(pkgs))
	}
	for _, d := range domain {
		if !slices.ContainsFunc(pkgs, func(p pkg) bool { return p.ImportPath == module+d }) {
			t.Errorf("domain package %s not found", d)
		}
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
	// An exception that no package needs any more is taken off the list.
	for pair, why := range allowed {
		if !slices.ContainsFunc(pkgs, func(p pkg) bool {
			return p.ImportPath == module+pair[0] && slices.Contains(p.Imports, module+pair[1])
		}) {
			t.Errorf("exception %s -> %s (%s) is no longer needed: remove it", pair[0], pair[1], why)
		}
	}
}

// TestRulesCatch: each rule catches its violation (packages made up here).
func TestRulesCatch(t *testing.T) {
	m := func(s string) string { return module + s }
	pkgs := []pkg{
		{ImportPath: m("shared/stream"), Deps: []string{"github.com/aws/aws-lambda-go/events", m("shared/record")}},
		{ImportPath: m("shared/window"), Imports: []string{m("shared/adapters/memory")}},
		{ImportPath: m("shared/adapters/s3"), Imports: []string{m("shared/pipeline"), m("shared/handlers")}},
		{ImportPath: m("shared/adapters/dynamo"), Imports: []string{m("shared/stream")}},
		{ImportPath: m("tests/e2e"), XTestImports: []string{m("cmd/pulse")}},
		{ImportPath: m("shared/handlers"), Imports: []string{m("functions/stream")}},
		{ImportPath: m("cmd/pulse/sub"), Imports: []string{m("cmd/pulse")}},                              // allowed: same folder
		{ImportPath: m("shared/adapters/msk"), Imports: []string{m("shared/catalog")}},                   // allowed: listed
		{ImportPath: m("shared/adapters/s3"), Deps: []string{"github.com/aws/aws-sdk-go-v2/service/s3"}}, // allowed: an adapter
	}
	got := violations(pkgs)
	want := []string{
		"shared/adapters/dynamo (adapter) imports shared/stream (a use case or handler)",
		"shared/adapters/s3 (adapter) imports shared/handlers (a use case or handler)",
		"shared/handlers imports functions/stream (nothing outside functions/ may)",
		"shared/stream (domain) depends on github.com/aws/aws-lambda-go/events (AWS)",
		"shared/window (domain) imports shared/adapters/memory (an outer layer)",
		"tests/e2e imports cmd/pulse (nothing outside cmd/ may)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations\n got %q\nwant %q", got, want)
	}
}
