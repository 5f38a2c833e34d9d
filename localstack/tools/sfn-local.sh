#!/usr/bin/env bash
# Installs aws-local-stepfunctions@3.0.0 (runs ASL locally) into .tools/sfn, and Node 22 via node.sh.
# Idempotent. tests/stepfunctions finds it at .tools/sfn/node_modules/aws-local-stepfunctions.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="$root/.tools/sfn"
version="3.0.0"
"$here/node.sh"
pkg="$dest/node_modules/aws-local-stepfunctions/package.json"
if [ -f "$pkg" ] && grep -q "\"version\": \"$version\"" "$pkg"; then
  echo "aws-local-stepfunctions: $version already at $dest"
  exit 0
fi
mkdir -p "$dest"
npm install --silent --no-audit --no-fund --prefix "$dest" "aws-local-stepfunctions@$version"
echo "aws-local-stepfunctions: $version installed at $dest"
