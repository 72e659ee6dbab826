#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package that building, testing and the demo need.
# Idempotent and quiet when everything is present.
set -euo pipefail

# The kernel the VM boots: whatever linux-image-amd64 points at today.
kernel_abi() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n1
}

packages() {
	local abi=$1
	echo linux-image-amd64 linux-headers-amd64
	[ -n "$abi" ] && echo "linux-image-$abi linux-headers-$abi"
	echo linux-source-6.1 qemu-system-x86 busybox-static kmod cpio xz-utils
	echo build-essential pkg-config sparse clang libclang-rt-14-dev
	echo shellcheck	# make style
	echo libnl-3-dev libnl-genl-3-dev libssl-dev libkeyutils-dev keyutils
	echo libpam0g-dev pamtester cryptsetup-bin libcryptsetup-dev libjson-c-dev
	echo udev jq e2fsprogs valgrind
	echo libpcsclite-dev pcscd vsmartcard-vpcd
	# boot (initramfs, TPM2), packages, systemd
	echo initramfs-tools cryptsetup-initramfs swtpm swtpm-tools tpm2-tools libtss2-dev
	echo debhelper devscripts dkms dh-dkms lintian fakeroot bash-completion libsystemd-dev systemd-sysv
	echo man-db
}

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

main() {
	local abi want need
	abi=$(kernel_abi || true)
	# shellcheck disable=SC2046
	want=$(packages "$abi")
	# shellcheck disable=SC2086
	need=$(missing $want)
	[ -z "$need" ] && return 0

	if [ "$(id -u)" != 0 ]; then
		echo "make deps: missing packages: ${need//$'\n'/ }" >&2
		echo "make deps: run it as root (or: sudo make deps)" >&2
		return 1
	fi
	echo "make deps: installing: ${need//$'\n'/ }"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# Try the kernel ABI package again: apt-get update may have moved it.
	abi=$(kernel_abi || true)
	# shellcheck disable=SC2046,SC2086
	apt-get install -y -q --no-install-recommends $(missing $(packages "$abi")) \
		>/tmp/sectag-deps.log 2>&1 || {
		tail -n 30 /tmp/sectag-deps.log >&2
		echo "make deps: apt-get install failed (log: /tmp/sectag-deps.log)" >&2
		return 1
	}
	echo "make deps: done"
}

main "$@"
