#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/boot/mkinitrd.sh DIR NAME MODE: the real mkinitramfs for the VM's
# kernel (tests/vm/kver), run on this host in a private mount namespace
# whose root is a throw-away overlay of ours, so that the product can be
# installed and /etc/crypttab written as on the machine being set up,
# without touching the host. Writes DIR/initrd.NAME.
#
#   MODE host      crypttab: root_crypt with the sectag keyscript, the
#                  store DIR/store (the prepare guest's) as this host's
#   MODE fresh     the same on a fresh host: an empty store
#   MODE tpm2      root_crypt on the tpm2-bound disk (DIR/tpm2root.uuid)
#                  with the sectag keyscript, this host's store
#   MODE keyfile   no sectag: the passphrase (DIR/pass) as a key file in
#                  the initramfs (KEYFILE_PATTERN), for the benchmark
#
# Why here rather than in the prepare guest: mkinitramfs takes about 70 s
# under emulation and 3-4 s natively (tests/boot/boot.sh prints both).
# Uses the test-only configuration directory tests/boot/initramfs-conf
# (mkinitramfs -d), which adds the test tag (tagd, nfc_sectag.ko).
set -euo pipefail
cd "$(dirname "$0")/../.."

D=$1
NAME=$2
MODE=$3
REPO=$PWD
KVER=$(tests/vm/kver)
TIMEOUT=${SECTAG_BOOT_TAP_TIMEOUT:-10}

# Inside the namespace, from the overlay root's point of view.
inside() {
	local uuid store
	uuid=$(cat "$D/root.uuid")
	[ "$MODE" != tpm2 ] || uuid=$(cat "$D/tpm2root.uuid")
	mkdir -p "$D/build-it"
	install -D -m 0755 "$REPO/build/sectag" /usr/local/bin/sectag
	make -C "$REPO" -s --no-print-directory install-initramfs \
		PREFIX=/usr/local B="$D/build-it" >/dev/null
	mkdir -p /etc/sectag
	case $MODE in
	host | fresh | tpm2)
		[ "$MODE" = fresh ] && store=$D/empty-store || store=$D/store
		echo "SECTAG_STORE=$store" >/etc/sectag/initramfs.conf
		echo "root_crypt UUID=$uuid timeout=$TIMEOUT luks,initramfs,keyscript=/usr/lib/sectag/keyscript" \
			>/etc/crypttab ;;
	keyfile)
		mkdir -p /etc/keys /etc/cryptsetup-initramfs
		install -m 0600 "$D/pass" /etc/keys/root.key
		echo 'KEYFILE_PATTERN="/etc/keys/*.key"' >/etc/cryptsetup-initramfs/conf-hook
		echo "root_crypt UUID=$uuid /etc/keys/root.key luks,initramfs" >/etc/crypttab ;;
	esac
	cat /etc/crypttab
	rm -rf "$D/itconf" && cp -a "$REPO/tests/boot/initramfs-conf" "$D/itconf"
	SECTAG_TEST_KO=$REPO/kernel/nfc_sectag.ko \
		SECTAG_TEST_TAGD=$REPO/build/boot/tagd \
		mkinitramfs -d "$D/itconf" -o "$D/initrd.$NAME" "$KVER"
}

outside() {
	local ov
	ov=$(mktemp -d /tmp/sectag-boot-root.XXXXXX)
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare -m --propagation private bash -c '
		set -e
		ov=$1; shift
		mount -t tmpfs tmpfs "$ov"
		mkdir "$ov/u" "$ov/w" "$ov/m"
		mount -t overlay overlay -o "lowerdir=/,upperdir=$ov/u,workdir=$ov/w" "$ov/m"
		for m in proc sys dev run; do mount --rbind "/$m" "$ov/m/$m"; done
		mkdir -p "$ov/m/tmp" && mount -t tmpfs tmpfs "$ov/m/tmp"
		# Other mounts (the repository, DIR) at the same paths.
		for p in "$@"; do
			mkdir -p "$ov/m$p"
			mount --bind "$p" "$ov/m$p"
		done
		exec chroot "$ov/m" env INSIDE=1 "$REPO/tests/boot/mkinitrd.sh" "$D" "$NAME" "$MODE"
	' mkinitrd "$ov" "$REPO" "$D"
	rmdir "$ov"
}

case $MODE in
host | fresh | tpm2 | keyfile) ;;
*) echo "usage: $0 DIR NAME host|fresh|tpm2|keyfile" >&2; exit 2 ;;
esac
export REPO D NAME MODE
if [ "${INSIDE:-0}" = 1 ]; then inside; else outside; fi
