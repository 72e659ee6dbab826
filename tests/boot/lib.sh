# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Host-side helpers of tests/boot/boot.sh and tests/bench/boot.sh (sourced,
# from the repository): qemu boots of the test guest's own disks and
# initramfs (DIR as tests/boot/guest.sh prepare left it), the serial
# console logged and driven from here. None of this takes the VM lock:
# callers run under `flock /tmp/sectag-vm.lock`.
#
# Environment: SECTAG_VM_ACCEL (tcg default, kvm), SECTAG_VM_CACHE as
# tests/vm/run; SECTAG_BOOT_TPM: a directory where swtpm's socket
# (swtpm-sock) is served (boot_tpm_start): the guest then gets a TPM 2.0
# (tpm-tis), for the tpm2 binding's boots. BOOT_ROOT: the root disk's
# image in DIR (root.img).

BOOT_KVER=$(tests/vm/kver)
BOOT_CACHE=${SECTAG_VM_CACHE:-$PWD/.vm-cache}
BOOT_QEMU_PID=
BOOT_CAT_PID=
BOOT_SWTPM_PID=

# The kernel tests/vm/run boots: its cached ELF vmlinux (PVH entry, no
# decompression under emulation) if there is one, else the bzImage. With
# a TPM, the bzImage (as tests/vm/run: SeaBIOS's TPM set-up leaves ACPI
# tables the PVH entry refuses).
boot_kernel() {
	local v=
	[ -n "${SECTAG_BOOT_TPM:-}" ] ||
		v=$(find "$BOOT_CACHE" -maxdepth 1 -name "vmlinux-$BOOT_KVER-*" 2>/dev/null | head -n 1)
	if [ -n "$v" ]; then
		BOOT_KERNEL=$v
		BOOT_APPEND=
	else
		BOOT_KERNEL=/boot/vmlinuz-$BOOT_KVER
		BOOT_APPEND=" edd=off"
	fi
}

# boot_tpm_start DIR: swtpm (TPM 2.0) with its state in DIR (kept: the
# same DIR again is the same TPM), serving SECTAG_BOOT_TPM=DIR's socket.
boot_tpm_start() {
	local _
	mkdir -p "$1"
	rm -f "$1/swtpm-sock"
	setpriv --pdeathsig KILL swtpm socket --tpm2 --tpmstate "dir=$1" \
		--ctrl "type=unixio,path=$1/swtpm-sock" \
		--log "file=$1/swtpm.log" </dev/null &
	BOOT_SWTPM_PID=$!
	SECTAG_BOOT_TPM=$1
	# No event for the socket's creation: poll it, swtpm alive.
	for _ in $(seq 100); do
		[ -S "$1/swtpm-sock" ] && return 0
		kill -0 "$BOOT_SWTPM_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# swtpm did not start: $(cat "$1/swtpm.log" 2>/dev/null)"
	boot_tpm_stop
	return 1
}

# boot_tpm_stop: that swtpm stopped, no TPM for the next boot.
boot_tpm_stop() {
	SECTAG_BOOT_TPM=
	[ -n "$BOOT_SWTPM_PID" ] || return 0
	kill "$BOOT_SWTPM_PID" 2>/dev/null
	wait "$BOOT_SWTPM_PID" 2>/dev/null
	BOOT_SWTPM_PID=
}

# boot_start DIR INITRD TAG LOG: qemu in the background, root on
# DIR/$BOOT_ROOT (vda), the tag's state DIR/tag.state (vdb), TAG placed or
# absent (sectag_test.tag= for the test-only init-premount script), the
# console (ttyS0) into LOG and from boot_send.
# shellcheck disable=SC2054 # the commas are QEMU's
boot_start() {
	local d=$1 initrd=$2 tag=$3 log=$4 accel tpm=()
	boot_kernel
	accel=(-accel tcg -cpu qemu64,+rdrand)
	[ "${SECTAG_VM_ACCEL:-tcg}" = kvm ] && accel=(-accel kvm -cpu host)
	if [ -n "${SECTAG_BOOT_TPM:-}" ]; then
		tpm=(-chardev "socket,id=tpm0,path=$SECTAG_BOOT_TPM/swtpm-sock"
			-tpmdev emulator,id=tpm0,chardev=tpm0
			-device tpm-tis,tpmdev=tpm0)
	fi
	rm -f "$d/con.in" "$d/con.out"
	mkfifo "$d/con.in" "$d/con.out"
	: >"$log"
	cat "$d/con.out" >>"$log" &
	BOOT_CAT_PID=$!
	setpriv --pdeathsig KILL qemu-system-x86_64 -nodefaults -no-user-config \
		-display none -no-reboot -m 512 -smp 2 "${accel[@]}" \
		-kernel "$BOOT_KERNEL" -initrd "$d/$initrd" \
		-append "console=ttyS0 loglevel=4 panic=-1 root=/dev/mapper/root_crypt sectag_test.tag=$tag$BOOT_APPEND" \
		-drive "file=$d/${BOOT_ROOT:-root.img},format=raw,if=virtio" \
		-drive "file=$d/tag.state,format=raw,if=virtio" \
		"${tpm[@]}" \
		-chardev "pipe,id=s0,path=$d/con" -serial chardev:s0 \
		</dev/null >>"$log.qemu" 2>&1 &
	BOOT_QEMU_PID=$!
	BOOT_T0=$(date +%s%3N)
}

# boot_wait LOG PATTERN SECONDS: the console showed PATTERN (fixed
# string) in time, while the guest runs; BOOT_MS: when, since the start.
boot_wait() {
	local end=$(($(date +%s) + $3))
	until grep -qF -- "$2" "$1"; do
		if [ "$(date +%s)" -ge "$end" ] ||
			! kill -0 "$BOOT_QEMU_PID" 2>/dev/null; then
			grep -qF -- "$2" "$1"
			return
		fi
		sleep 0.1
	done
	# shellcheck disable=SC2034 # the caller's
	BOOT_MS=$(($(date +%s%3N) - BOOT_T0))
}

# boot_send DIR TEXT: typed on the console, then Enter.
boot_send() { printf '%s\r' "$2" >"$1/con.in"; }

# boot_stop: the guest powered off (its init does) within 60 s, or killed.
boot_stop() {
	local _
	[ -n "$BOOT_QEMU_PID" ] || return 0
	for _ in $(seq 600); do
		kill -0 "$BOOT_QEMU_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$BOOT_QEMU_PID" 2>/dev/null
	wait "$BOOT_QEMU_PID" 2>/dev/null
	BOOT_QEMU_PID=
	wait "$BOOT_CAT_PID" 2>/dev/null
	BOOT_CAT_PID=
}
