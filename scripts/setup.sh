#!/usr/bin/env bash
# Install every Debian package ustack needs to build, test and run. Idempotent: installs only what
# is missing, and refreshes the package lists only when something is.
set -euo pipefail

packages=(
	build-essential cmake pkg-config git  # build
	check libpcap-dev                      # unit tests, pcap devices
	python3-scapy tshark tcpdump           # test pcaps and their judges
	iproute2 iputils-ping                  # live tests: namespaces, TAP, ping
	clang libclang-rt-dev                  # libFuzzer harnesses
	netcat-openbsd                         # live TCP and UDP tests
	curl wrk                               # live socket tests: HTTP clients against httpd
	valgrind bc                            # bench/rx_instructions.sh
	gnuplot-nox                            # scripts/plot_trace.sh (congestion-control traces)
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#packages[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer no, quietly
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
