#!/usr/bin/env bash
# Lists the module's packages that have tests, for the Makefile, derived from `go list` (nothing to keep by hand):
#   race   the pure-Go ones: no cgo package (DuckDB's binding is cgo) in the closure of the package and its
#          tests; `make test` runs them with -race.
#   check  the ones whose tests need none of the tools `make tools` installs (DynamoDB Local, Node and
#          aws-local-stepfunctions, the CDK CLI, Chromium, kcat, the Lambda emulator); `make check` runs them.
#          A package needs the tools when its tests reach localstack/ddblocal, localstack/cloud or
#          tests/stepfunctions, or is listed in needs_tools below (it runs one by itself).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode="${1:?usage: tests/packages.sh race|check}"
tags="${TAGS:-minicore_disabled}"
module="$(go list -m)"
# Packages that run an installed tool themselves rather than through the packages above.
needs_tools="$module/dashboards/web" # Chromium and Node, for the browser test
case "$mode" in
race)
  marks="$(go list -tags "$tags" -deps -test -f '{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}' ./... | sort -u)" ;;
check)
  marks="$module/localstack/ddblocal $module/localstack/cloud $module/tests/stepfunctions" ;;
*)
  echo "tests/packages.sh: unknown mode $mode (race or check)" >&2; exit 2 ;;
esac
# A test binary p.test depends on everything its package and its tests reach; a package without tests has none.
go list -tags "$tags" -test -f '{{if .ForTest}}{{else if .Name}}{{.ImportPath}} {{join .Deps " "}}{{end}}' ./... |
  awk -v marks="$marks" -v skip="$needs_tools" -v mode="$mode" '
    BEGIN { n = split(marks, m, /[ \n]+/); for (i = 1; i <= n; i++) bad[m[i]] = 1
            if (mode == "check") { n = split(skip, s, / +/); for (i = 1; i <= n; i++) own[s[i]".test"] = 1 } }
    $1 !~ /\.test$/ { next }
    $1 in own { next }
    { for (i = 2; i <= NF; i++) { d = $i; sub(/ \[.*$/, "", d); if (d in bad) next } ; p = $1; sub(/\.test$/, "", p); print p }'
