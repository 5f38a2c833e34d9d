#!/usr/bin/env bash
# Builds every Lambda function (functions/<name>/main.go) for the provided.al2023 runtime:
# GOOS=linux, GOARCH=arm64 (PULSE_LAMBDA_ARCH=amd64 for x86_64, e.g. LocalStack on an x86 host),
# CGO_ENABLED=0, -tags lambda.norpc,minicore_disabled (no RPC shim; gosnowflake without its native
# library), into .build/lambda/<name>/bootstrap, and prints each binary's size.
# Usage: infra/build-lambdas.sh [name...]   (default: every function)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${PULSE_LAMBDA_DIR:-.build/lambda}"
arch="${PULSE_LAMBDA_ARCH:-arm64}"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in functions/*/; do
    [ -f "$d/main.go" ] && names+=("$(basename "$d")")
  done
fi
printf '%-10s %12s  %s\n' function bytes path
total=0
for name in "${names[@]}"; do
  mkdir -p "$out/$name"
  GOOS=linux GOARCH="$arch" CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -tags lambda.norpc,minicore_disabled -ldflags='-s -w' \
    -o "$out/$name/bootstrap" "./functions/$name"
  size=$(stat -c %s "$out/$name/bootstrap")
  total=$((total + size))
  printf '%-10s %12d  %s\n' "$name" "$size" "$out/$name/bootstrap"
done
printf '%-10s %12d  (linux/%s)\n' total "$total" "$arch"
