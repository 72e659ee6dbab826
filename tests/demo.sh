#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, inside the VM: the whole story. A virgin NTAG 424 DNA tag
# (emulated in the kernel) is issued with keys nobody can read back,
# enrolled for a LUKS2 volume, and a tap opens the volume through the
# agent and cryptsetup's token; a clone of its UID opens nothing.
set -eu
cd "$(dirname "$0")/.."
B=build
W=$(mktemp -d /tmp/sectag-demo.XXXXXX)
AGENT=
LOOP=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
cleanup() {
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null || true
	[ -e /dev/mapper/demo ] && cryptsetup close demo
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -rf "$W"
}
trap cleanup EXIT
json_num() { sed -n "s/.*\"$1\":\(-\?[0-9]*\).*/\1/p" <<<"$2"; }
json_str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$2"; }
wait_for() {	# seconds cmd...
	local end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

say "1. A virtual reader, registered with the kernel NFC core"
r=$($B/sectag --json sim reader add)
RID=$(json_num id "$r")
DEV=$(json_str device "$r")
run $B/sectag readers

say "2. A virgin tag: five all-zero AES keys, straight from the factory"
TAG=$(json_num id "$($B/sectag --json sim tag new --uid 04A1B2C3D4E5F6)")
run $B/sectag sim tag place "$TAG" "$RID"
run $B/sectag scan --reader "$DEV" --timeout 10

say "3. Issue it: per-tag keys from an issuer key, a secret only the tag holds"
run $B/sectag keygen "$W/issuer.key"
run $B/sectag provision --issuer-key "$W/issuer.key" --reader "$DEV" --timeout 10
run $B/sectag verify --issuer-key "$W/issuer.key" --reader "$DEV" --timeout 10
echo "(the kernel's view: no key, no secret in any attribute)"
run $B/sectag sim tag list

say "4. A LUKS2 volume on a loop file, with a file inside"
modprobe loop
modprobe dm_crypt
printf 'demo passphrase' >"$W/pass"
truncate -s 32M "$W/vol.img"
LOOP=$(losetup -f --show "$W/vol.img")
run cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
	--pbkdf-force-iterations 1000 --key-file "$W/pass" "$LOOP"
cryptsetup open --key-file "$W/pass" "$LOOP" demo
mkfs.ext4 -q /dev/mapper/demo
mkdir -p "$W/mnt"
mount /dev/mapper/demo "$W/mnt"
echo "the tag opened this volume" >"$W/mnt/hello.txt"
umount "$W/mnt"
cryptsetup close demo
echo "$LOOP: LUKS2, UUID $(cryptsetup luksUUID "$LOOP"), hello.txt written"

say "5. Enrol the tag for the volume: a new keyslot and a luks2-keyring token"
run $B/sectag enroll --issuer-key "$W/issuer.key" --luks "$LOOP" \
	--key-file "$W/pass" --store "$W/store" --reader "$DEV" --timeout 10
run $B/sectag list --store "$W/store"
$B/sectag sim tag remove "$TAG"

say "6. Meanwhile, an attacker makes a clone: same UID, keys of another issuer"
CLONE=$(json_num id "$($B/sectag --json sim tag new --uid 04A1B2C3D4E5F6)")
$B/sectag keygen "$W/other.key" >/dev/null
$B/sectag sim tag place "$CLONE" "$RID"
run $B/sectag provision --issuer-key "$W/other.key" --reader "$DEV" --timeout 10
$B/sectag sim tag remove "$CLONE"

say "7. Start the agent"
cat >"$W/sectagd.conf" <<EOC
store = $W/store
socket = $W/sectagd.sock
EOC
$B/sectagd --foreground --config "$W/sectagd.conf" &
AGENT=$!
wait_for 10 test -S "$W/sectagd.sock"
sleep 0.5

say "8. Tap the clone first: it cannot authenticate with the real tag's key"
run $B/sectag sim tag place "$CLONE" "$RID"
sleep 3
if keyctl search @u user "sectag:luks:$(cryptsetup luksUUID "$LOOP")" \
	>/dev/null 2>&1; then
	echo "BUG: the clone released a key" >&2
	exit 1
fi
echo "no key released; the agent logged the refusal above"
if cryptsetup open --token-only "$LOOP" demo 2>/dev/null; then
	echo "BUG: the volume opened" >&2
	exit 1
fi
echo "cryptsetup open --token-only: refused"
$B/sectag sim tag remove "$CLONE"

say "9. Now the real tag: mutual authentication, the unlock key goes to the kernel keyring"
run $B/sectag sim tag place "$TAG" "$RID"
wait_for 10 keyctl search @u user "sectag:luks:$(cryptsetup luksUUID "$LOOP")"
run keyctl show @u

say "10. cryptsetup opens the volume with the token alone, no passphrase"
run cryptsetup open --token-only "$LOOP" demo
mount -o ro /dev/mapper/demo "$W/mnt"
run cat "$W/mnt/hello.txt"
umount "$W/mnt"
cryptsetup close demo
$B/sectag sim tag remove "$TAG"
for k in $(keyctl rlist @u); do keyctl invalidate "$k"; done

say "Done: the clone opened nothing; the tag opened the volume and its file was read."
