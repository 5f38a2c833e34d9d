// Package layering enforces the import rules of CONTRIBUTING.md over the
// whole module, from `go list -json ./...`:
//
//   - the domain packages (shared/port, dataset, record, table, star,
//     window, session, sqlmodel) and the use cases (shared/batch, stream,
//     gold, marts, catalog, datatest) depend on no AWS code
//     (github.com/aws/..., the Lambda runtime included), directly or not,
//     and import none of the outer layers (adapters, handlers, wire,
//     dashboards, functions, cmd, infra, localstack, tests);
//   - a domain package imports no use case (shared/port depends on the
//     domain types alone);
//   - an adapter (shared/adapters/...) imports, of the module, only
//     shared/port, the domain packages, other adapters and events (the
//     Avro schemas): never a use case, a handler or the wiring (batch,
//     stream, gold, marts, catalog, datatest, handlers, wire, dashboards);
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

// domain are the packages of Pulse's vocabulary and rules: the ports, the
// dataset registry, the readers, typed rows, the dimensional model, windows
// and sessions, the SQL dialect layer. They know nothing of AWS or of the
// use cases.
var domain = []string{"shared/port", "shared/dataset", "shared/record", "shared/table", "shared/star", "shared/window",
	"shared/session", "shared/sqlmodel"}

// useCases are the packages that run Pulse's work over the ports; like the
// domain, they know nothing of AWS.
var useCases = []string{"shared/batch", "shared/stream", "shared/gold", "shared/marts", "shared/catalog", "shared/datatest"}

// adapterMay are what an adapter may import of the module besides the
// domain: the ports' own subpackages (conformance suites), other adapters
// and events (the Avro schemas).
var adapterMay = []string{"shared/port/", "shared/adapters/", "events/"}

// outer are the layers neither the domain nor a use case reaches.
var outer = []string{"shared/adapters/", "shared/handlers", "shared/wire", "dashboards/", "functions/", "cmd/", "infra/", "localstack/", "tests/"}

// allowed are the known exceptions, each with the move that removes it
// (none today).
var allowed = map[[2]string]string{}

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
		isUseCase := slices.Contains(useCases, self)
		isAdapter := under(self, []string{"shared/adapters/"})
		kind := "domain"
		if isUseCase {
			kind = "use case"
		}
		for _, d := range p.Deps {
			if (isDomain || isUseCase) && strings.HasPrefix(d, "github.com/aws/") {
				out = append(out, fmt.Sprintf("%s (%s) depends on %s (AWS)", self, kind, d))
			}
		}
		for _, i := range p.Imports {
			dep, mine := rel(i)
			switch {
			case !mine:
			case allowed[[2]string{self, dep}] != "":
			case (isDomain || isUseCase) && under(dep, outer):
				out = append(out, fmt.Sprintf("%s (%s) imports %s (an outer layer)", self, kind, dep))
			case isDomain && slices.Contains(useCases, dep):
				out = append(out, fmt.Sprintf("%s (domain) imports %s (a use case)", self, dep))
			case isAdapter && !slices.Contains(domain, dep) && !under(dep, adapterMay):
				out = append(out, fmt.Sprintf("%s (adapter) imports %s (neither a port, the domain nor an adapter)", self, dep))
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
	for _, d := range slices.Concat(domain, useCases) {
		if !slices.ContainsFunc(pkgs, func(p pkg) bool { return p.ImportPath == module+d }) {
			t.Errorf("package %s (domain or use case) not found", d)
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
		{ImportPath: m("shared/port"), Deps: []string{"github.com/aws/aws-sdk-go-v2/aws"}, Imports: []string{m("shared/batch")}},
		{ImportPath: m("shared/window"), Imports: []string{m("shared/adapters/memory")}},
		{ImportPath: m("shared/batch"), Imports: []string{m("shared/handlers"), m("shared/port"), m("shared/datatest")}},
		{ImportPath: m("shared/adapters/s3"), Imports: []string{m("shared/port"), m("shared/handlers")}},
		{ImportPath: m("shared/adapters/dynamo"), Imports: []string{m("shared/stream"), m("shared/window"), m("shared/port/dedupetest")}},
		{ImportPath: m("shared/adapters/msk"), Imports: []string{m("shared/catalog"), m("events")}},
		{ImportPath: m("shared/adapters/sfn"), Imports: []string{m("shared/batch"), m("shared/wire")}},
		{ImportPath: m("tests/e2e"), XTestImports: []string{m("cmd/pulse")}},
		{ImportPath: m("shared/handlers"), Imports: []string{m("functions/stream")}},
		{ImportPath: m("cmd/pulse/sub"), Imports: []string{m("cmd/pulse")}},                                                                  // allowed: same folder
		{ImportPath: m("shared/adapters/snowflake"), Imports: []string{m("shared/adapters/sqldb"), m("shared/sqlmodel"), m("shared/table")}}, // allowed
		{ImportPath: m("shared/adapters/s3"), Deps: []string{"github.com/aws/aws-sdk-go-v2/service/s3"}},                                     // allowed: an adapter
	}
	got := violations(pkgs)
	want := []string{
		"shared/adapters/dynamo (adapter) imports shared/stream (neither a port, the domain nor an adapter)",
		"shared/adapters/msk (adapter) imports shared/catalog (neither a port, the domain nor an adapter)",
		"shared/adapters/s3 (adapter) imports shared/handlers (neither a port, the domain nor an adapter)",
		"shared/adapters/sfn (adapter) imports shared/batch (neither a port, the domain nor an adapter)",
		"shared/adapters/sfn (adapter) imports shared/wire (neither a port, the domain nor an adapter)",
		"shared/batch (use case) imports shared/handlers (an outer layer)",
		"shared/handlers imports functions/stream (nothing outside functions/ may)",
		"shared/port (domain) depends on github.com/aws/aws-sdk-go-v2/aws (AWS)",
		"shared/port (domain) imports shared/batch (a use case)",
		"shared/stream (use case) depends on github.com/aws/aws-lambda-go/events (AWS)",
		"shared/window (domain) imports shared/adapters/memory (an outer layer)",
		"tests/e2e imports cmd/pulse (nothing outside cmd/ may)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations\n got %q\nwant %q", got, want)
	}
}
