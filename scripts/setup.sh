#!/usr/bin/env bash
# One-step set-up on a fresh Debian 12 machine: the system packages Pallas and its tests use,
# the npm dependencies, and the build (wire files, native addon, TypeScript).
#   DPDK 22.11 and its PMDs (dpdk, dpdk-dev, libdpdk-dev), RocksDB (librocksdb-dev), pkg-config,
#   iproute2 (network namespaces for the DPDK tests), clang + compiler-rt (libFuzzer), a C++ toolchain,
#   clang-format 14 (the C++ style check in `npm run lint`), cmake, doctest and nlohmann-json (the
#   C++ tests under native/), clang-tidy 14 and llvm-14 (llvm-cov, for C++ coverage),
#   fonts-dejavu-core (the text of the PNG plots, which @resvg/resvg-js renders), OpenSSH (the testbed mode's tests log in to a
#   private sshd on loopback), what the Tofino compiler in ../shared/tools/bf-p4c links against
#   (the program is compiled by a test), and ansible-core + ansible-lint (deploy/ansible is linted).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(dpdk dpdk-dev libdpdk-dev librocksdb-dev pkg-config iproute2 clang libclang-rt-14-dev clang-format-14 clang-tidy-14 llvm-14 cmake doctest-dev nlohmann-json3-dev g++ make python3 fonts-dejavu-core openssh-client openssh-server
  libboost-iostreams1.74.0 libgc1 libprotobuf32 libz3-4 python3-jsonschema ansible-core ansible-lint)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# --check: only say whether every system package is there (scripts/ensure.mjs asks).
if [ "${1:-}" = "--check" ]; then
  if ((${#missing[@]})); then echo "${missing[*]}"; exit 1; fi
  exit 0
fi
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --prefer-offline: packages already in npm's cache are not fetched again (hosts with no registry in reach build from it).
npm ci --prefer-offline --no-audit --no-fund
npm run build
