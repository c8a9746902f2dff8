#!/usr/bin/env bash
# Installs the Python clients the registry-pypi end-to-end tests drive: pip (python3 -m pip),
# venv, and twine. Debian; CI runs it as root before `npm ci`. Idempotent: when everything is
# present it returns without touching apt.
set -euo pipefail

need=()
command -v /usr/bin/python3 >/dev/null 2>&1 || need+=(python3)
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
[ -x /usr/bin/twine ] || need+=(twine)

if [ "${#need[@]}" -eq 0 ]; then
  echo "registry-pypi: python3, pip, venv and twine already installed"
  exit 0
fi

echo "registry-pypi: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# Other set-up scripts may hold the dpkg lock; wait for it rather than fail.
apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
if ! apt-get install "${apt_opts[@]}" "${need[@]}"; then
  apt-get update -q -o DPkg::Lock::Timeout=300
  apt-get install "${apt_opts[@]}" "${need[@]}"
fi
/usr/bin/python3 -m pip --version
/usr/bin/twine --version
