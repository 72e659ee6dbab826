#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2016 # jq programs and bash -c scripts: single-quoted
#
# --json: accepted anywhere on the line, the same document wherever it
# is; every document parses with jq; strings with quotes, backslashes,
# control characters and non-ASCII come back from jq byte for byte.
# Host only: a store written here, status without readers.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/host/lib.sh

S=$B/sectag
export SECTAG_AGENT_SOCKET=$T/nosocket
HEX16=00112233445566778899aabbccddeeff
DEV='/dev/odd"dev\ice'
UUID=01234567-89ab-cdef-0123-456789abcdef

# A store as sectag writes it (store.c's format): a LUKS binding on a
# device whose path needs escaping, and a label.
STORE=$T/store
{
	echo "sectag-store 1"
	echo "next-id 3"
	echo "binding id=1 kind=luks target=$UUID device=$DEV auto-open=vol" \
		"keyslot=1 token=0 uid=04112233445566 read-key=$HEX16" \
		"host-secret=$HEX16$HEX16"
	echo "binding id=2 kind=name target=door@x+y device= auto-open=" \
		"keyslot=-1 token=-1 uid=04112233445567 read-key=$HEX16" \
		"host-secret=$HEX16$HEX16"
} >"$STORE"
chmod 600 "$STORE"

# same_json NAME CMD...: CMD's stdout parses and is $T/want, exactly.
same_json() {
	local name=$1
	shift
	"$@" >"$T/got" 2>/dev/null
	if jq -e . "$T/got" >/dev/null 2>&1 && cmp -s "$T/got" "$T/want"; then
		ok "$name"
	else
		not_ok "$name" "$(head -c 400 "$T/got")"
	fi
}

$S --json list --store "$STORE" >"$T/want" 2>/dev/null
check "list --json parses" jq -e 'length == 2' "$T/want"
check "a device path with a quote and a backslash round-trips" \
	jq -e --arg d "$DEV" '.[0].device == $d' "$T/want"
check "absent values are null" jq -e '.[0].bind == null' "$T/want"
check "one line of JSON" test "$(wc -l <"$T/want")" = 1
same_json "--json after the verb" "$S" list --json --store "$STORE"
same_json "--json after the options" "$S" list --store "$STORE" --json

# Status: the store's path comes back as given, whatever it holds.
ODD=$T/$'ctl\x01\x1f\x7f tab\t nl\n quote" back\\ é ü 字'
$S --json status --store "$ODD" >"$T/want" 2>/dev/null
check "status --json parses" jq -e 'has("healthy") and has("readers")' "$T/want"
check "control characters, quotes, backslashes, non-ASCII round-trip" \
	jq -e --arg p "$ODD" '.enrolments.store == $p' "$T/want"
check "control characters are escaped, never raw" \
	bash -c '! tr -d "\n" <"$1" | LC_ALL=C grep -qP "[\x00-\x1f]"' _ "$T/want"
same_json "status --json after the verb" "$S" status --json --store "$ODD"
same_json "status --json at the end" "$S" status --store "$ODD" --json

# readers: a JSON array even with no reader at all (exit 3 then).
$S readers --json >"$T/got" 2>/dev/null
check "readers --json is an array" jq -e 'type == "array"' "$T/got"

# revoke --json, on the label (no volume, no reader needed).
$S revoke 2 --store "$STORE" --json >"$T/got" 2>"$T/err"
check "revoke --json" jq -e '.revoked == 2' "$T/got"
check "the binding is gone" \
	bash -c '"$1" --json list --store "$2" | jq -e "length == 1"' _ "$S" "$STORE"

# Nothing prints JSON by hand any more: json-c writes it all.
check "no hand-rolled JSON in the CLI" \
	bash -c '! grep -nE "printf\(\"[^\"]*[{,]\\\\\"|json_str\(|json_string\(" userspace/cli/*.c'

done_testing
