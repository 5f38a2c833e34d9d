#!/usr/bin/env bash
# Installs AWS's Lambda Runtime Interface Emulator (Go module
# github.com/aws/aws-lambda-runtime-interface-emulator, cmd/aws-lambda-rie) at a pinned commit into
# .tools/rie/bin/aws-lambda-rie (git-ignored). Idempotent: does nothing when that version is there.
# The proxy here refuses the tagged versions (v1.x), so the pin is a pseudo-version (PINS.md).
# localstack/cloud runs each function's bootstrap under it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.tools/rie"
version="${PULSE_RIE_VERSION:-v0.0.0-20261030222936-bef5c4ba774d}"
bin="$dest/bin/aws-lambda-rie"
if [ -x "$bin" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ]; then
  echo "rie: aws-lambda-rie $version already at $bin"
  exit 0
fi
mkdir -p "$dest/bin"
GOBIN="$dest/bin" CGO_ENABLED=0 go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$version"
echo "$version" > "$dest/VERSION"
echo "rie: aws-lambda-rie $version installed at $bin"
