#!/usr/bin/env bash
# The end-to-end tests drive the real go command (Debian's golang-go).
set -euo pipefail
if ! command -v go >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends golang-go
fi
go version
