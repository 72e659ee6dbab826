#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end, in the VM, as root: the sectag LUKS2 token plugin
# (build/libcryptsetup-token-sectag.so, copied into libcryptsetup's token
# directory of the guest's overlay root) and `sectag unlock`, with real
# cryptsetup, dm-crypt and keyutils. Host and portable bindings; opening
# through the plugin with sectagd and without it; a portable volume
# opened with an empty store, a host one refused without its store;
# malformed tokens refused by the plugin's validate; no wait for a tap
# when a key file is given or no reader is there (with and without the
# agent); a tap on any reader when none is named; revoke.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/token.sh
#
# TAP on stdout ("ok N name"); the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/e2e/lib.sh
token_env sectag-token-marker
UID_A=04A2000000000A
UID_P=04B200000000BB
trap 'token_cleanup e2e e2e-pass e2e-unl e2e-port' EXIT

# --------------------------------------------------------------- helpers

meta() { cryptsetup luksDump --dump-json-metadata "$LOOP"; }
# The id of the sectag token for keyslot KS ("" if none).
sectag_token() {
	meta | jq -r --arg ks "$1" '.tokens | to_entries[] |
		select(.value.type == "sectag" and .value.keyslots == [$ks]) |
		.key'
}
token_field() {	# keyslot field
	meta | jq -r --arg ks "$1" --arg f "$2" '.tokens | to_entries[] |
		select(.value.type == "sectag" and .value.keyslots == [$ks]) |
		.value[$f]'
}
has_keyslot() { meta | jq -e --arg ks "$1" '.keyslots | has($ks)' >/dev/null; }
n_tokens() { meta | jq '.tokens | length'; }

# The token's JSON holds the mode, the tag and, for portable, salt and
# read key; a host token no secret at all.
token_is() {	# keyslot mode uid
	local j
	j=$(meta | jq -c --arg ks "$1" '.tokens[] |
		select(.type == "sectag" and .keyslots == [$ks])') || return 1
	echo "$j"
	[ "$(jq -r .bind <<<"$j")" = "$2" ] &&
		[ "$(jq -r .uid <<<"$j")" = "${3,,}" ] &&
		[ "$(jq -r .kdf <<<"$j")" = hkdf-sha256 ] || return 1
	if [ "$2" = host ]; then
		jq -e 'has("salt") or has("read_key") | not' <<<"$j"
	else
		jq -e '(.salt | length) == 64 and (.read_key | length) == 32' <<<"$j"
	fi
}

dump_shows() {	# pattern...
	local out p
	out=$(cryptsetup luksDump "$LOOP") || return 1
	echo "$out"
	for p; do grep -q -- "$p" <<<"$out" || return 1; done
}
dump_hides_read_key() {
	local k
	k=$(token_field "$KS_P" read_key)
	[ -n "$k" ] && ! cryptsetup luksDump "$LOOP" | grep -qi "$k"
}

# import_refused FILE REASON: token import fails, saying REASON, and
# the header keeps its tokens.
import_refused() {
	local before out rc=0
	before=$(n_tokens)
	out=$(cryptsetup token import --json-file "$1" "$LOOP" 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" != 0 ] && grep -q -- "$2" <<<"$out" &&
		[ "$(n_tokens)" = "$before" ]
}

broken() {	# name sed-expression: A's token, edited
	meta | jq -c --arg ks "$KS_A" '.tokens[] |
		select(.type == "sectag" and .keyslots == [$ks])' |
		sed "$2" >"$W/$1.json"
}

# cryptsetup open through our plugin only (no luks2-keyring token).
plugin_open() {	# name [store]
	SECTAG_STORE=${2:-$STORE} cryptsetup open --token-only \
		--token-type sectag "$LOOP" "$1"
}
opens() {	# name cmd...: CMD opens /dev/mapper/NAME, which reads MARK
	local name=$1
	shift
	"$@" && reads_marker "$name" && cryptsetup close "$name"
}

enroll_json() {	# mode (the tag is on the reader)
	$S --json enroll --issuer-key "$W/issuer.key" --luks "$LOOP" \
		--key-file "$PASS" --store "$STORE" --reader "$DEV" \
		--timeout 10 --bind "$1"
}

stop_agent() {
	[ -z "$AGENT" ] || { kill "$AGENT"; wait "$AGENT"; }
	AGENT=
}

setup_all() {
	token_setup "$W/vol.img" || return 1
	P=$(new_tag $UID_P) && C=$(new_tag $UID_A) || return 1
	provision "$P" "$W/issuer.key" && provision "$C" "$W/other.key" ||
		return 1
	write_conf "key_timeout = 30"
}

echo "# work directory $W"
setup_all >"$LOG" 2>&1 || bail "setup failed"
# The plugin and unlock take the first ISO 14443 reader unless told.
export SECTAG_READER=$DEV
echo "# reader $DEV, tags A=$A portable=$P clone=$C, $LOOP $UUID, plugin $PLUGIN"

# --- enrolment writes the token
st enroll_refuses_bad_bind 2 $S enroll --issuer-key "$W/issuer.key" \
	--luks "$LOOP" --key-file "$PASS" --store "$STORE" --bind tpm3
tap "$A"
ENR_A=$(enroll_json host 2>>"$LOG")
echo "$ENR_A" >>"$LOG"
ID_A=$(json_num id "$ENR_A")
KS_A=$(json_num keyslot "$ENR_A")
t enroll_host_binding test "$(json_str bind "$ENR_A")" = host
t host_token_written token_is "$KS_A" host "$UID_A"
tap "$P"
ENR_P=$(enroll_json portable 2>>"$LOG")
echo "$ENR_P" >>"$LOG"
ID_P=$(json_num id "$ENR_P")
KS_P=$(json_num keyslot "$ENR_P")
t enroll_portable_binding test "$(json_str bind "$ENR_P")" = portable
t portable_token_written token_is "$KS_P" portable "$UID_P"
list_modes() {
	local out
	out=$($S list --store "$STORE") || return 1
	echo "$out"
	grep -q "$UID_A.*bind host" <<<"$out" &&
		grep -q "$UID_P.*bind portable" <<<"$out"
}
t list_shows_bind_modes list_modes

# --- luksDump and validate, through the plugin
t luksdump_shows_token dump_shows "sectag" "bind:       host" "$UID_A" \
	"bind:       portable" "$UID_P"
t luksdump_hides_read_key dump_hides_read_key
broken bind 's/"bind":"host"/"bind":"tpm3"/'
t validate_refuses_bad_bind import_refused "$W/bind.json" '"bind" must be'
broken secret 's/}$/,"read_key":"00112233445566778899aabbccddeeff"}/'
t validate_refuses_secret_in_host_token import_refused "$W/secret.json" \
	'host token has no'
broken nokdf 's/,"kdf":"hkdf-sha256"//'
t validate_refuses_missing_field import_refused "$W/nokdf.json" 'missing'
printf '{"type":"sectag","keyslots":["%s"],' "$KS_A" >"$W/trunc.json"
t validate_refuses_truncated_json import_refused "$W/trunc.json" ''

# --- cryptsetup open through the plugin, no agent: it reads the tag
drop_keys
tap "$A"
t plugin_opens_host_binding opens e2e plugin_open e2e
t plugin_left_no_key not key_serial user "sectag:luks:$UUID"
tap "$C"
t plugin_refuses_clone not plugin_open e2e

# --- sectag unlock, no agent
tap "$A"
t unlock_opens_named opens e2e-unl $S unlock "$LOOP" e2e-unl --store "$STORE"
tap "$A"
t unlock_default_name_luks_uuid opens "luks-$UUID" $S unlock "$LOOP" \
	--store "$STORE"
tap "$C"
st unlock_refuses_clone 4 $S unlock "$LOOP" e2e-unl --store "$STORE"
untap
st unlock_no_tag_times_out 5 $S unlock "$LOOP" e2e-unl --store "$STORE" \
	--timeout 2

# --- portable: an empty store suffices; host: refused without its store
tap "$P"
t plugin_opens_portable_empty_store opens e2e-port plugin_open e2e-port "$EMPTY"
tap "$P"
t unlock_portable_empty_store opens e2e-port $S unlock "$LOOP" e2e-port \
	--store "$EMPTY"
# exit 1, saying why
host_refused() {
	local out rc=0
	out=$($S unlock "$LOOP" e2e-unl --store "$EMPTY" 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" = 1 ] && grep -q "bound to the host" <<<"$out"
}
tap "$A"
t unlock_host_refused_without_store host_refused
tap "$A"
t plugin_host_refused_without_store not env SECTAG_STORE="$EMPTY" \
	cryptsetup open --token-only --token-id "$(sectag_token "$KS_A")" \
	"$LOOP" e2e

# --- with sectagd: the plugin and unlock ask it (AUTH luks)
drop_keys
untap
t agent_starts start_agent
t plugin_asks_agent with_agent_tap "$A" e2e plugin_open e2e
t agent_answered_request agent_logged "answered by binding $ID_A"
drop_keys
t unlock_asks_agent with_agent_tap "$A" e2e-unl $S unlock "$LOOP" e2e-unl \
	--store "$STORE"
drop_keys
t agent_unlock_portable with_agent_tap "$P" e2e-port $S unlock "$LOOP" \
	e2e-port --store "$STORE"
t agent_still_alive kill -0 "$AGENT"
stop_agent

# --- no wait when a tap cannot help. cryptsetup runs the tokens before
# it reads a --key-file or asks for a passphrase; the plugin's wait is
# set to its longest (600 s) and each command must end long before it:
# `timeout 120` bounds them, and its status 124 fails the test.
export SECTAG_TOKEN_TIMEOUT=600
drop_keys
untap
t keyfile_open_not_held_by_token opens e2e-pass \
	timeout 120 cryptsetup open --key-file "$PASS" "$LOOP" e2e-pass
# gives_up CMD...: CMD fails at once, saying there is no reader.
gives_up() {
	local out rc=0
	out=$(timeout 120 "$@" 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "no NFC reader" <<<"$out"
}
no_nfc_device() { [ -z "$(ls /sys/class/nfc)" ]; }
passphrase_on_stdin() {
	timeout 120 cryptsetup open "$LOOP" e2e-pass <"$PASS"
}
t reader_removed $S sim reader del "$RID"
t no_nfc_device_left eventually 10 no_nfc_device
export SECTAG_READER=
t plugin_no_reader_gives_up gives_up env SECTAG_STORE="$STORE" \
	cryptsetup open --token-only --token-type sectag "$LOOP" e2e
t passphrase_on_stdin_no_reader opens e2e-pass passphrase_on_stdin
st unlock_no_reader_unavailable 3 timeout 120 $S unlock "$LOOP" e2e-unl \
	--store "$STORE"
t agent_starts_without_reader start_agent
# sectagd knows the volume but has no reader to wait on.
t plugin_with_agent_no_reader_gives_up gives_up env SECTAG_STORE="$STORE" \
	cryptsetup open --token-only --token-type sectag "$LOOP" e2e
t agent_no_request_left not pending 1
stop_agent
unset SECTAG_TOKEN_TIMEOUT

# --- no reader named: a tap on any reader (two here, the tag on the
# second); the keyscript's cue names both.
setup_reader >>"$LOG" 2>&1
R1=$RID
r=$($S --json sim reader add)
R2=$(json_num id "$r")
DEV2=$(json_str device "$r")
on_second() { RID=$R2 && tap "$1"; RID=$R1; }
on_second "$A"
t unlock_tap_on_second_reader opens e2e-unl $S unlock "$LOOP" e2e-unl \
	--store "$STORE"
cue_names_both() {
	grep "Tap your tag to unlock ks on " "$W/ks.err" | grep -qw "$DEV" &&
		grep "Tap your tag to unlock ks on " "$W/ks.err" | grep -qw "$DEV2"
}
keyscript_any() {
	local job
	untap
	CRYPTTAB_SOURCE=$LOOP CRYPTTAB_NAME=ks SECTAG_STORE=$STORE \
		$S keyscript timeout=60 >"$W/ks.out" 2>"$W/ks.err" &
	job=$!
	eventually 15 cue_names_both || { kill "$job"; cat "$W/ks.err"; return 1; }
	on_second "$A"
	wait "$job" || { cat "$W/ks.err"; return 1; }
	cat "$W/ks.err"
	cryptsetup open --test-passphrase --key-file "$W/ks.out" "$LOOP"
}
t keyscript_waits_on_every_reader keyscript_any
rm -f "$W/ks.out"
export SECTAG_READER=$DEV

# --- revoke takes the token with the keyslot
t revoke_portable_binding_first $S revoke "$ID_P" --store "$STORE"
t revoke_removed_portable_token test -z "$(sectag_token "$KS_P")"
t revoke_removed_portable_keyslot not has_keyslot "$KS_P"
t host_token_kept test -n "$(sectag_token "$KS_A")"
tap "$P"
st revoked_portable_opens_nothing 4 $S unlock "$LOOP" e2e-port \
	--store "$STORE"

# --- then A as a binding enrolled before tokens (no sectag token): from the store
t legacy_binding_without_token cryptsetup token remove --token-id \
	"$(sectag_token "$KS_A")" "$LOOP"
tap "$A"
t unlock_legacy_binding_from_store opens e2e-unl $S unlock "$LOOP" e2e-unl \
	--store "$STORE"
list_shows() { $S list --store "$STORE" | grep -q "$1"; }
t list_legacy_binding_is_host list_shows "$UID_A.*bind host"

t revoke_host_binding $S revoke "$ID_A" --store "$STORE"
t revoke_removed_keyslot not has_keyslot "$KS_A"
t revoke_removed_sectag_token test -z "$(sectag_token "$KS_A")"
t no_sectag_token_left test "$(meta | jq '[.tokens[] | select(.type == "sectag")] | length')" = 0

echo "# $n tests, $failed failed"
exit "$failed"
