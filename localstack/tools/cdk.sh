#!/usr/bin/env bash
# Installs the CDK CLI (npm aws-cdk@2; 3.x rejects the cloud-assembly schema awscdk v2.270 writes)
# into .tools/cdk. Idempotent. Then run it with: .tools/cdk/node_modules/.bin/cdk synth
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.tools/cdk"
spec="${PULSE_CDK_CLI:-aws-cdk@2}"
if [ -x "$dest/node_modules/.bin/cdk" ]; then
  echo "cdk: $("$dest/node_modules/.bin/cdk" --version 2>/dev/null) already at $dest/node_modules/.bin/cdk"
  exit 0
fi
mkdir -p "$dest"
npm install --silent --no-audit --no-fund --prefix "$dest" "$spec"
echo "cdk: $("$dest/node_modules/.bin/cdk" --version 2>/dev/null) installed at $dest/node_modules/.bin/cdk"
