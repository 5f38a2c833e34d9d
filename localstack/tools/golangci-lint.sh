#!/usr/bin/env bash
# Installs golangci-lint (Go module github.com/golangci/golangci-lint/v2) at a pinned version into
# .tools/bin/golangci-lint (git-ignored). Idempotent: does nothing when that version is there.
# Built from source through the Go proxy: about 3 minutes on 2 cores the first time (PINS.md).
# make lint / make check / make test run it with the repository's .golangci.yml.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.tools/bin"
version="${PULSE_GOLANGCI_LINT_VERSION:-v2.15.0}"
bin="$dest/golangci-lint"
if [ -x "$bin" ] && [ "v$("$bin" version --short 2>/dev/null)" = "$version" ]; then
  echo "golangci-lint: $version already at $bin"
  exit 0
fi
mkdir -p "$dest"
echo "golangci-lint: building $version into $bin (the first time: about 3 minutes)"
GOBIN="$dest" CGO_ENABLED=0 go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"
echo "golangci-lint: $("$bin" version --short) installed at $bin"
