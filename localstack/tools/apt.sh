#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo use, when missing:
# Java 17 (DynamoDB Local), kcat (the kcat test), chromium (the web dashboard test).
# Idempotent: a package whose command is already there is skipped.
set -euo pipefail
want=()
command -v java >/dev/null 2>&1 || want+=(openjdk-17-jre-headless)
command -v kcat >/dev/null 2>&1 || want+=(kcat)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
if [ ${#want[@]} -eq 0 ]; then
  echo "apt: java, kcat and chromium already installed"
  exit 0
fi
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
echo "apt: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -q >/dev/null || echo "apt: update failed, trying the cached package lists" >&2
$sudo_cmd apt-get install -y -q --no-install-recommends "${want[@]}" >/dev/null
echo "apt: installed ${want[*]}"
