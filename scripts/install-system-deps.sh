#!/usr/bin/env bash
# Installs the Debian packages Burrow's tests and benchmarks drive as real outside tools.
# Skips what is already there, so a second run costs a few milliseconds.
# Usage: scripts/install-system-deps.sh [test|bench|all]   (default: test)
set -euo pipefail
what="${1:-test}"
need=()
have() { command -v "$1" >/dev/null 2>&1; }
# tool-binary:debian-package
test_tools=(chromium:chromium transmission-cli:transmission-cli mktorrent:mktorrent ip:iproute2)
bench_tools=(jdupes:jdupes rdfind:rdfind syncthing:syncthing b3sum:b3sum mktorrent:mktorrent hyperfine:hyperfine rsync:rsync)
case "$what" in
  test) list=("${test_tools[@]}") ;;
  bench) list=("${bench_tools[@]}") ;;
  all) list=("${test_tools[@]}" "${bench_tools[@]}") ;;
  *) echo "usage: $0 [test|bench|all]" >&2; exit 2 ;;
esac
for pair in "${list[@]}"; do
  bin="${pair%%:*}"; pkg="${pair##*:}"
  have "$bin" || need+=("$pkg")
done
if [ "${#need[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Burrow needs these Debian packages: ${need[*]}. Run as root, or: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
