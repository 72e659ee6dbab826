#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages (make deb, build/deb/) installed and used in the VM,
# as root: dpkg -i of sectag, libpam-sectag and sectag-dkms; DKMS builds
# nfc_sectag for the guest's kernel and modprobe loads that build from
# updates/dkms; the module is not autoloaded (no genl family alias) and
# creates no reader when loaded; then the user story against the
# INSTALLED paths and defaults only (/usr/bin/sectag, /usr/sbin/sectagd
# with /etc/sectag/sectagd.conf, the store in /var/lib/sectag, the udev
# rule in /lib/udev/rules.d, the token plugin in libcryptsetup's plugin
# directory, pam_sectag.so through the pam-auth-update profile): provision,
# enrol a LUKS2 volume and a user, a tap releases the key and
# `cryptsetup open --token-only` opens the volume, the plugin opens it
# with a tap, pamtester logs in with a tap; finally dpkg -r and --purge
# leave none of the packages' files, and the module unloads cleanly.
#
# The VM must boot without our freshly built module (the packages bring
# their own), and the packages must be built first:
#
#   make deb
#   SECTAG_VM_NOMODULE=1 flock /tmp/sectag-vm.lock tests/vm/run --timeout 900 -- tests/e2e/deb.sh
#
# TAP on stdout ("ok N name"); the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

# Installed paths only from here on (lib.sh's helpers use $S).
S=/usr/bin/sectag
SECTAGD=/usr/sbin/sectagd
SOCK=/run/sectag/sectagd.sock
STORE=/var/lib/sectag/store
KVER=$(uname -r)
TOKENDIR=$(cryptsetup --help |
	sed -n 's/^LUKS2 external token plugin path: \(.*\)\.$/\1/p')
PASS=$W/passphrase
ALOG=$W/agent.log
# shellcheck disable=SC2034 # lib.sh's reads_marker
MARK=sectag-deb-marker
UID_T=04DEB000000DEB
PAMSVC=/etc/pam.d/sectag-deb
FILES=$W/package-files
WAIT=30
LOOP=
AGENT=
UDEVD=
RID=
export DEBIAN_FRONTEND=noninteractive

debs() { ls build/deb/sectag_*.deb build/deb/libpam-sectag_*.deb \
	build/deb/sectag-dkms_*.deb 2>/dev/null; }
[ "$(debs | wc -l)" = 3 ] || bail "no packages in build/deb: run make deb first"
[ "${SECTAG_VM:-0}" = 1 ] || bail "installs packages: run it in the VM (tests/vm/run)"

cleanup() {
	[ -z "$AGENT" ] || { kill "$AGENT" && wait "$AGENT"; } 2>/dev/null
	[ -z "$UDEVD" ] || udevadm control --exit >/dev/null 2>&1
	[ -e /dev/mapper/e2e-deb ] && cryptsetup close e2e-deb
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -f "$PAMSVC"
	rm -rf "$W"
}
trap cleanup EXIT

# --------------------------------------------------------------- helpers

loaded() { [ -e /sys/module/nfc_sectag ]; }
nfc_devices() { find /sys/class/nfc -mindepth 1 -maxdepth 1 | wc -l; }
as_alice() { setpriv --reuid alice --regid alice --clear-groups -- "$@"; }

install_debs() {
	# man-db's trigger would index every manual again, and initramfs-tools'
	# (our hook in /usr/share/initramfs-tools) rebuild the host's
	# initramfs (a minute under emulation): neither is under test here
	# (tests/boot builds initramfs images with the hook).
	# The debconf answer only counts when man-db is configured again;
	# its trigger looks for this file (measured: 80-115 s per dpkg run).
	echo 'man-db man-db/auto-update boolean false' | debconf-set-selections
	rm -f /var/lib/man-db/auto-update
	sed -i 's/^update_initramfs=.*/update_initramfs=no/' \
		/etc/initramfs-tools/update-initramfs.conf
	dpkg -i build/deb/sectag_*.deb build/deb/libpam-sectag_*.deb
}
install_dkms() {
	local t0=${EPOCHREALTIME//[!0-9]/}
	dpkg -i build/deb/sectag-dkms_*.deb || return 1
	echo "# dpkg -i sectag-dkms (DKMS build and install): $(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000)) ms" >&3
}
dkms_installed() {
	dkms status sectag | tee /dev/stderr | grep -q "^sectag/.*, $KVER, .*: installed"
}
module_from_dkms() {
	local f
	f=$(modinfo -n nfc_sectag) || return 1
	echo "$f"
	[[ $f == /lib/modules/$KVER/updates/dkms/nfc_sectag.ko* ]]
}
no_family_alias() { [ -z "$(modinfo -F alias nfc_sectag)" ]; }
# What modprobe loaded is that file: same srcversion, the package's version.
loaded_is_dkms_build() {
	[ "$(cat /sys/module/nfc_sectag/srcversion)" = \
		"$(modinfo -F srcversion nfc_sectag)" ] &&
		[ "$(cat /sys/module/nfc_sectag/version)" = "$(cat VERSION)" ]
}
version_is_package() {
	local v
	v=$(dpkg-query -W -f='${Version}' sectag) || return 1
	$S --version | grep -qx "sectag $v" && $SECTAGD --version | grep -q " $v$"
}
conffile() { dpkg-query -W -f='${Conffiles}' sectag | grep -q '^ /etc/sectag/sectagd.conf '; }

start_udevd() {
	/lib/systemd/systemd-udevd --daemon --resolve-names=never || return 1
	UDEVD=1
	eventually 10 udevadm control --ping
}
# The installed rule asks systemd for sectagd.service on the new reader.
rule_wants_agent() {
	udevadm info -q property "/sys/class/nfc/$DEV" | grep -qx 'SYSTEMD_WANTS=sectagd.service'
}

start_agent_installed() {
	$SECTAGD --foreground --debug 2>"$ALOG" &
	AGENT=$!
	eventually 10 test -S "$SOCK"
}
luks_key() { key_serial user "sectag:luks:$UUID"; }
open_read_close() {	# cryptsetup options...
	cryptsetup open "$@" "$LOOP" e2e-deb && reads_marker e2e-deb &&
		cryptsetup close e2e-deb
}
tapped() { agent_logged ": binding [0-9]* (.*): released$"; }

# cmd... in the background, which shows CUE in its output once it waits
# for a tap; then the tag is placed. Its status is the command's.
answered_by_tap() {	# cue cmd...
	local cue=$1 pid rc=0 out=$W/tap.out
	shift
	untap
	"$@" >"$out" 2>&1 &
	pid=$!
	eventually "$WAIT" grep -q "$cue" "$out" && tap "$TAG"
	wait "$pid" || rc=$?
	cat "$out"
	return "$rc"
}
plugin_open() {
	answered_by_tap "Tap your tag" open_read_close --token-only --token-type sectag
}
pam_login() {
	answered_by_tap "Tap your tag" timeout -s KILL $((WAIT + 30)) \
		stdbuf -o0 -e0 pamtester -v sectag-deb alice authenticate &&
		grep -q "successfully authenticated" "$W/tap.out"
}
pam_profile_enabled() { grep -q '^auth.*pam_sectag\.so' /etc/pam.d/common-auth; }

stop_agent() {
	kill "$AGENT" && wait "$AGENT"
	local rc=$?
	AGENT=
	return "$rc"
}
none_left() {	# the packages' files (not directories) are all gone
	local f left=0
	while IFS= read -r f; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			echo "left: $f"
			left=1
		fi
	done <"$FILES"
	return "$left"
}
no_module_file() { [ -z "$(find "/lib/modules/$KVER" -name 'nfc_sectag.ko*')" ]; }

# ----------------------------------------------------------------- test

exec 3>&1
echo "# kernel $KVER, packages: $(debs | tr '\n' ' ')"
id alice >/dev/null 2>&1 || useradd -M alice || bail "no user alice"

t module_not_loaded_at_boot not loaded
t install_sectag_libpam_sectag install_debs
echo "# ${SECONDS} s: sectag, libpam-sectag installed"
t install_sectag_dkms install_dkms
t dkms_status_installed dkms_installed
t modinfo_finds_dkms_build module_from_dkms
t no_genl_family_alias no_family_alias
# Resolving the nfc_sectag family (sectag status does), as a user or as
# root, loads nothing (what status says is not the point here).
{ as_alice $S status; $S status; } >"$LOG" 2>&1
t family_lookup_loads_nothing not loaded
t modprobe_loads_it modprobe nfc_sectag
t loaded_module_is_dkms_build loaded_is_dkms_build
t no_reader_at_load test "$(nfc_devices)" = 0
t user_cannot_create_reader not as_alice $S sim reader add
t still_no_reader test "$(nfc_devices)" = 0

echo "# ${SECONDS} s: module checked"
t installed_version version_is_package
t sectagd_conf_is_conffile conffile
t store_dir_root_only test "$(stat -c %a /var/lib/sectag)" = 700
t plugin_in_plugin_dir test -f "$TOKENDIR/libcryptsetup-token-sectag.so"
t udev_rule_installed test -f /lib/udev/rules.d/60-sectag.rules
t pam_profile_installed test -f /usr/share/pam-configs/sectag
t pam_profile_off_by_default not pam_profile_enabled

# --- the story, against the installed paths
echo "# ${SECONDS} s: installed; the story"
{ modprobe loop && modprobe dm_crypt; } || bail "no loop or dm_crypt"
setup_volume "$W/vol.img" >"$LOG" 2>&1 || bail "no LUKS volume"
t udevd_starts start_udevd
t reader_added setup_reader
t udev_rule_wants_agent eventually 10 rule_wants_agent
TAG=$(new_tag "$UID_T")
t tag_created test -n "$TAG"
tap "$TAG"
t keygen $S keygen "$W/issuer.key"
t provision $S provision --issuer-key "$W/issuer.key" --reader "$DEV" --timeout "$WAIT"
t verify_genuine $S verify --issuer-key "$W/issuer.key" --reader "$DEV" --timeout "$WAIT"
t enroll_luks_default_store $S enroll --issuer-key "$W/issuer.key" --reader "$DEV" \
	--timeout "$WAIT" --luks "$LOOP" --key-file "$PASS"
t enroll_user $S enroll --issuer-key "$W/issuer.key" --reader "$DEV" \
	--timeout "$WAIT" --user alice
t store_in_var_lib test -s "$STORE"
untap

drop_keys
t agent_starts_on_defaults start_agent_installed
tap "$TAG"
t tap_released eventually "$WAIT" tapped
t key_in_keyring eventually "$WAIT" luks_key
t token_only_opens open_read_close --token-only
t plugin_opens_with_tap plugin_open

t pam_auth_update_enable pam-auth-update --enable sectag
t pam_profile_enabled pam_profile_enabled
cat >"$PAMSVC" <<-EOS
# written by tests/e2e/deb.sh
@include common-auth
account	required	pam_permit.so
EOS
t pam_login_by_tap pam_login
untap
t agent_stops_cleanly stop_agent

# --- removal: remove, then purge; the module goes first
echo "# ${SECONDS} s: removal"
[ -z "$RID" ] || $S sim reader del "$RID" >/dev/null 2>&1
RID=
t module_unloads modprobe -r nfc_sectag
t module_gone not loaded
dpkg -L sectag libpam-sectag sectag-dkms 2>/dev/null |
	while IFS= read -r f; do
		[ -d "$f" ] || echo "$f"	# /lib too: a symlink (merged /usr)
	done >"$FILES"
echo "# $(wc -l <"$FILES") files in the packages"
t dpkg_remove dpkg -r libpam-sectag sectag sectag-dkms
t pam_profile_gone not grep -q pam_sectag /etc/pam.d/common-auth
t dkms_removed not dkms_installed
t no_module_file no_module_file
t conffile_kept_after_remove test -f /etc/sectag/sectagd.conf
echo "# ${SECONDS} s: removed"
t dpkg_purge dpkg --purge libpam-sectag sectag sectag-dkms
t no_package_files_left none_left
t no_etc_sectag not test -e /etc/sectag
t no_var_lib_sectag not test -e /var/lib/sectag
t no_dkms_tree not test -e /var/lib/dkms/sectag
t no_usr_src not test -e "/usr/src/sectag-$(cat VERSION)"
t modprobe_finds_nothing not modinfo nfc_sectag
# deb-systemd-helper's enablement links go with the purge as well.
t no_unit_links test -z "$(find /etc/systemd -name 'sectagd*')"

[ "$failed" = 0 ] || tail -n 40 "$ALOG" 2>/dev/null | sed 's/^/# agent: /'
echo "# $n tests, $failed failed in $SECONDS s"
echo "1..$n"
exit "$failed"
