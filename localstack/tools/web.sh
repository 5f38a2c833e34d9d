#!/usr/bin/env bash
# Installs the web dashboard's front-end packages into .tools/web (git-ignored):
# echarts@6 (charts, served from dist/echarts.min.js) and playwright-core (drives
# Debian's /usr/bin/chromium in the dashboard test; it never downloads a browser).
# Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.tools/web"
if [ -f "$dest/node_modules/echarts/dist/echarts.min.js" ] && [ -f "$dest/node_modules/playwright-core/package.json" ]; then
  echo "web: echarts and playwright-core already at $dest"
  exit 0
fi
mkdir -p "$dest"
npm install --silent --no-audit --no-fund --prefix "$dest" echarts@6 playwright-core@1
echo "web: echarts $(node -p "require('$dest/node_modules/echarts/package.json').version") and playwright-core $(node -p "require('$dest/node_modules/playwright-core/package.json').version") installed at $dest"
