#!/usr/bin/env bash
# scripts/deps.sh - install the Debian/Ubuntu packages comb needs, if missing.
#
# Usage: scripts/deps.sh [build|test|demo|bench|fuzz|all]   (default: test)
# python3 runs tests/e2e/xdp_kernel_replay.py; python3-scapy regenerates the examples' pcaps.
# As root it runs apt-get; otherwise it prints the exact command and stops.
set -euo pipefail

what=${1:-test}
build=(make gcc libc6-dev libbpf-dev libelf-dev zlib1g-dev libzydis-dev libpcap-dev libxdp-dev)
lib=(linux-libc-dev)
case "$what" in
	build) need=("${build[@]}") ;;
	# Real third-party BPF objects the tests open: xdp-tools/libxdp1 (xdp-filter, xdpdump, the
	# dispatcher) and libbpf-tools (CO-RE objects embedded in each tool); bpftool as a reference.
	test)  need=("${build[@]}" "${lib[@]}" clang-19 llvm-19 xdp-tools libxdp1 libbpf-tools bpftool python3 iproute2) ;;
	demo)  need=("${build[@]}" "${lib[@]}" clang-19) ;;
	bench) need=("${build[@]}" "${lib[@]}" clang-19 llvm-19 libbpf-tools) ;;
	fuzz)  need=("${build[@]}" clang-19 libclang-rt-19-dev) ;;
	all)   need=("${build[@]}" "${lib[@]}" clang-19 llvm-19 libclang-rt-19-dev xdp-tools libxdp1 libbpf-tools bpftool python3 python3-scapy iproute2) ;;
	*) echo "usage: scripts/deps.sh [build|test|demo|bench|fuzz|all]" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "comb: not a Debian/Ubuntu system; make sure these are installed: ${need[*]}" >&2
	exit 0
fi

missing=()
for pkg in "${need[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ $status == *"install ok installed"* ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "comb: missing packages: ${missing[*]}" >&2
	echo "comb: install them with:  sudo sh -c '$cmd'" >&2
	exit 1
fi
echo "comb: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
