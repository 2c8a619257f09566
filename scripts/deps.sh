#!/usr/bin/env bash
# Installs the toolchain shim6 builds and tests with, from Debian packages,
# and prints the versions. Idempotent; run as root (CI does).
set -euo pipefail
PKGS=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make g++
      iproute2 ethtool tcpdump iperf3 procps iputils-ping python3 util-linux groff-base systemd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages ${missing[*]}; run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "toolchain:"
echo "  clang:   $(clang --version | head -1)"
echo "  bpftool: $(bpftool version | head -1)"
echo "  libbpf:  $(dpkg-query -W -f='${Version}' libbpf-dev)"
echo "  ip:      $(ip -V)"
echo "  ethtool: $(ethtool --version | head -1)"
echo "  iperf3:  $(iperf3 --version | head -1)"
echo "  node:    $(node --version)"
echo "  kernel:  $(uname -r)"
