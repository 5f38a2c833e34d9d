#!/usr/bin/env bash
# Installs cdklocal (npm aws-cdk-local, the CDK CLI wrapper that targets LocalStack) with the CDK CLI
# it drives (aws-cdk@2) into .tools/cdklocal. Idempotent. Only localstack/deploy.sh needs it (Docker
# users); make tools does not install it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.tools/cdklocal"
if [ -x "$dest/node_modules/.bin/cdklocal" ]; then
  echo "cdklocal: already at $dest/node_modules/.bin/cdklocal"
  exit 0
fi
mkdir -p "$dest"
npm install --silent --no-audit --no-fund --prefix "$dest" aws-cdk-local@3.0.4 "${PULSE_CDK_CLI:-aws-cdk@2}"
echo "cdklocal: installed at $dest/node_modules/.bin/cdklocal"
