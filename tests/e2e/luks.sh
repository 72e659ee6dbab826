#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end, in the VM, as root: simulated NTAG 424 DNA tags are issued,
# enrolled for a LUKS2 volume on a loop device, and a tap releases the
# unlock secret into the kernel keyring, where cryptsetup's builtin
# luks2-keyring token finds it. Real cryptsetup, dm-crypt and keyutils.
# build/e2e/release plays the agent's part of a tap, so that the library
# is tested alone; tests/e2e/agent.sh does the same through sectagd.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/luks.sh
#
# TAP on stdout ("ok N name"); the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/e2e/lib.sh
REL=build/e2e/release
STORE=$W/store
PASS=$W/passphrase
MARK=sectag-e2e-marker
UID_A=04A1B2C3D4E5F6
UID_B=04B1B2C3D4E5F6
LOOP=

# --------------------------------------------------------------- helpers

has_keyslot() {
	cryptsetup luksDump "$LOOP" | sed -n '/^Keyslots:/,/^Tokens:/p' |
		grep -q "^  $1: luks2"
}
token_json() { cryptsetup token export --token-id "$1" "$LOOP" 2>/dev/null; }
has_token() { token_json "$1" >/dev/null; }

# Our token: luks2-keyring, our key description, assigned to KEYSLOT.
token_is_ours() {	# token keyslot
	local j
	j=$(token_json "$1") || return 1
	echo "$j"
	grep -q '"type":"luks2-keyring"' <<<"$j" &&
		grep -q "\"key_description\":\"sectag:luks:$UUID\"" <<<"$j" &&
		grep -q "\"keyslots\":\[\"$2\"\]" <<<"$j"
}

luks_key() { key_serial user "sectag:luks:$UUID"; }
no_key() { ! luks_key; }
drop_key() {
	local s
	s=$(luks_key) && keyctl invalidate "$s"
	return 0
}

open_token() {	# name
	cryptsetup open --token-only "$LOOP" "$1"
}

open_read_close() {	# name
	open_token "$1" && reads_marker "$1" && cryptsetup close "$1"
}

enroll() {	# issuer-key: enrols the tag on the reader, prints the JSON
	$S --json enroll --issuer-key "$1" --luks "$LOOP" --key-file "$PASS" \
		--store "$STORE" --reader "$DEV" --timeout 10
}

release() { $REL --store "$STORE" --reader "$DEV" "$@"; }


list_has() { $S list --store "$STORE" | grep -q "$1"; }

key_described() {	# serial description
	local d
	d=$(keyctl rdescribe "$1") || return 1
	echo "$d"
	[ "$d" = "$2" ]
}

nonempty() {
	local v
	for v; do [ -n "$v" ] || return 1; done
}

# Two bindings: ids, keyslots and tokens all present and all different.
differ() {	# id:keyslot:token id:keyslot:token
	local a b i
	IFS=: read -ra a <<<"$1"
	IFS=: read -ra b <<<"$2"
	for i in 0 1 2; do
		nonempty "${a[i]:-}" "${b[i]:-}" && [ "${a[i]}" != "${b[i]}" ] ||
			return 1
	done
}

# list shows the binding, and neither its host secret nor its read key.
list_no_secrets() {
	local out v
	out=$($S list --store "$STORE" && $S --json list --store "$STORE") ||
		return 1
	echo "$out"
	grep -q "$UID_A" <<<"$out" || return 1
	while read -r v; do
		! grep -qi "$v" <<<"$out" || return 1
	done < <(grep -o '\(host-secret\|read-key\)=[0-9a-f]*' "$STORE" | cut -d= -f2)
}

cleanup() {
	local m
	for m in e2e e2e-auto e2e-spare e2e-pass; do
		[ -e "/dev/mapper/$m" ] && cryptsetup close "$m"
	done
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -rf "$W"
}
trap cleanup EXIT

# ----------------------------------------------------------------- setup

setup_tags() {
	$S keygen "$W/issuer.key" && $S keygen "$W/other.key" || return 1
	TAG_A=$(new_tag $UID_A) && TAG_B=$(new_tag $UID_B) &&
		TAG_C=$(new_tag $UID_A)	# a clone of A's UID
}

echo "# work directory $W"
setup_reader >"$LOG" 2>&1 || bail "cannot create a simulated reader"
setup_tags >"$LOG" 2>&1 || bail "cannot create the keys and tags"
setup_volume "$W/vol.img" >"$LOG" 2>&1 || bail "cannot create the LUKS2 volume"
echo "# reader $DEV (sim $RID), tags A=$TAG_A B=$TAG_B clone=$TAG_C, $LOOP $UUID"

# ----------------------------------------------------------------- tests

tap "$TAG_A"
t provision_tag_a $S provision --issuer-key "$W/issuer.key" --reader "$DEV"
tap "$TAG_B"
t provision_spare_tag_b $S provision --issuer-key "$W/issuer.key" --reader "$DEV"
tap "$TAG_C"
t provision_clone_with_other_issuer_key \
	$S provision --issuer-key "$W/other.key" --reader "$DEV"

tap "$TAG_A"
st enroll_refuses_wrong_passphrase 1 $S enroll --issuer-key "$W/issuer.key" \
	--luks "$LOOP" --key-file /etc/hostname --store "$STORE" --reader "$DEV"
tap "$TAG_C"
st enroll_refuses_clone 4 enroll "$W/issuer.key"
t refused_enrolments_added_no_keyslot not has_keyslot 1
tap "$TAG_A"
ENR_A=$(enroll "$W/issuer.key" 2>"$LOG")
echo "$ENR_A" >>"$LOG"
ID_A=$(json_num id "$ENR_A")
KS_A=$(json_num keyslot "$ENR_A")
TK_A=$(json_num token "$ENR_A")
t enroll_tag_a nonempty "$ID_A" "$KS_A" "$TK_A"
t enroll_added_keyslot has_keyslot "$KS_A"
t enroll_added_keyring_token token_is_ours "$TK_A" "$KS_A"
t store_is_0600 test "$(stat -c %a "$STORE")" = 600
t list_shows_binding_no_secrets list_no_secrets
tap "$TAG_A"
st enroll_same_tag_twice_refused 1 enroll "$W/issuer.key"

t no_key_before_tap no_key
t token_open_fails_without_key not open_token e2e

tap "$TAG_A"
t tap_releases_key release
SERIAL=$(luks_key)
t key_is_user_key_root_only key_described "$SERIAL" "user;0;0;0b0b0000;sectag:luks:$UUID"
t key_unreadable_by_other_user \
	not setpriv --reuid=65534 --regid=65534 --clear-groups keyctl print "$SERIAL"
t cryptsetup_token_only_opens open_read_close e2e

drop_key
tap "$TAG_A"
t auto_open_through_token release --open e2e-auto
t auto_open_mapping_reads reads_marker e2e-auto
t close_auto_open cryptsetup close e2e-auto

tap "$TAG_B"
ENR_B=$(enroll "$W/issuer.key" 2>"$LOG")
echo "$ENR_B" >>"$LOG"
ID_B=$(json_num id "$ENR_B")
KS_B=$(json_num keyslot "$ENR_B")
TK_B=$(json_num token "$ENR_B")
t enroll_spare_tag_b differ "$ID_B:$KS_B:$TK_B" "$ID_A:$KS_A:$TK_A"
t spare_has_own_token token_is_ours "$TK_B" "$KS_B"

drop_key
tap "$TAG_C"
st clone_releases_nothing 4 release
t clone_left_no_key no_key
t clone_opens_nothing not open_token e2e

tap "$TAG_A"
t short_key_timeout_release release --key-timeout 3
t key_present_before_timeout luks_key
sleep 4
t key_expired_after_timeout no_key

t revoke_tag_a $S revoke "$ID_A" --store "$STORE"
t revoke_removed_keyslot not has_keyslot "$KS_A"
t revoke_removed_token not has_token "$TK_A"
t revoke_removed_binding not list_has "$UID_A"
t spare_keyslot_untouched has_keyslot "$KS_B"
t passphrase_keyslot_untouched has_keyslot 0

drop_key
tap "$TAG_A"
st revoked_tag_releases_nothing 4 release
t revoked_tag_opens_nothing not open_token e2e

tap "$TAG_B"
t spare_still_releases release
t spare_still_opens open_read_close e2e-spare

# The revoked tag is still good for other purposes: a label, a logon key.
tap "$TAG_A"
ENR_N=$($S --json enroll --issuer-key "$W/issuer.key" --name e2e-job \
	--store "$STORE" --reader "$DEV" --timeout 10 2>"$LOG")
ID_N=$(json_num id "$ENR_N")
t enroll_name_binding_fresh_id test "${ID_N:-0}" -gt "${ID_B:-0}"
tap "$TAG_A"
t name_binding_released release
LOGON=$(keyctl search @u logon sectag:name:e2e-job 2>/dev/null)
t logon_key_root_only key_described "$LOGON" "logon;0;0;1b1b0000;sectag:name:e2e-job"
t logon_key_unreadable_even_by_root not keyctl print "$LOGON"
t revoke_name_binding $S revoke "$ID_N" --store "$STORE"
t revoke_dropped_logon_key not keyctl search @u logon sectag:name:e2e-job

cryptsetup luksKillSlot --batch-mode "$LOOP" 0 >"$LOG" 2>&1
st revoke_refuses_last_keyslot 1 $S revoke "$ID_B" --store "$STORE"
t last_keyslot_kept has_keyslot "$KS_B"
t binding_kept_after_refusal list_has "$UID_B"

echo "# $n tests, $failed failed"
exit "$failed"
