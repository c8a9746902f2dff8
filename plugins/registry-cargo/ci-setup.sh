#!/usr/bin/env bash
# The cargo end-to-end tests drive the real cargo. CI machines have a Rust toolchain installed;
# this script only checks that it is there, and never downloads one.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "registry-cargo: cargo is not on PATH. Install a Rust toolchain (rustup or the distribution's cargo package) before running the tests." >&2
  exit 1
fi
if ! version="$(cargo --version 2>&1)"; then
  echo "registry-cargo: 'cargo --version' failed: $version" >&2
  exit 1
fi
echo "registry-cargo: using $version"
