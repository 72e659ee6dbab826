#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# completion/sectag, sourced under bash: COMPREPLY for a few command
# lines. `sectag` and `lsblk` are stand-ins on PATH here, so that the
# readers, bindings and LUKS devices offered are known.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/host/lib.sh

mkdir -p "$T/bin"
cat >"$T/bin/sectag" <<'EOS'
#!/bin/sh
case $1 in
readers) printf '%s\n' "nfc0   index 0  powered  protocols 0x1" \
	"nfc3   index 3  off  protocols 0x1" \
	"pcsc:ACS ACR1252 1S CL Reader [ACR1252 Reader PICC] 00 00  (PC/SC)  no card" ;;
list) printf '%s\n' "ID   KIND  TARGET   UID" "3    name  door     04112233445566" \
	"12   user  alice    04112233445567" ;;
esac
EOS
cat >"$T/bin/lsblk" <<'EOS'
#!/bin/sh
printf '%s\n' "/dev/sda1 ext4" "/dev/sdb2 crypto_LUKS" "/dev/vdc crypto_LUKS"
EOS
chmod +x "$T/bin/sectag" "$T/bin/lsblk"
PATH=$T/bin:$PATH
touch "$T/issuer.key"

# shellcheck source=completion/sectag
. completion/sectag

# replies LINE: COMPREPLY, sorted, one a line, for LINE with the cursor
# at its end; words split as bash does (blanks, and ':' on its own).
replies() {
	local -a w=()
	local word
	read -r -a w <<<"$1"
	[[ $1 == *' ' ]] && w+=("")
	COMP_WORDS=()
	for word in "${w[@]}"; do
		while [[ $word == *:* ]]; do
			COMP_WORDS+=("${word%%:*}" ":")
			word=${word#*:}
		done
		COMP_WORDS+=("$word")
	done
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$1
	COMP_POINT=${#1}
	COMPREPLY=()
	_sectag sectag
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

# offers NAME LINE WANT...: the replies are exactly WANT.
offers() {
	local name=$1 line=$2 got want
	shift 2
	got=$(replies "$line")
	want=$(printf '%s\n' "$@" | sort)
	if [ "$got" = "$want" ]; then ok "$name"
	else not_ok "$name" "for '$line' got: ${got//$'\n'/ }"; fi
}

check "complete -F _sectag sectag" bash -c '. completion/sectag; complete -p sectag'
offers "verbs" "sectag s" scan sim status
offers "verbs after --json" "sectag --json re" readers revoke
offers "global options" "sectag --v" --version
offers "options of scan" "sectag scan --" --reader --timeout --issuer-key \
	--json --help
offers "options of provision" "sectag provision --r" --reader --random-id
offers "options of list" "sectag list --" --store --json --help
offers "enroll --b" "sectag enroll --b" --bind
offers "--bind values" "sectag enroll --bind " host portable
offers "readers for --reader" "sectag scan --reader " nfc0 nfc3 \
	'pcsc:ACS\ ACR1252\ 1S\ CL\ Reader\ \[ACR1252\ Reader\ PICC\]\ 00\ 00'
offers "--reader nfc" "sectag verify --reader nf" nfc0 nfc3
offers "--reader pcsc: (after bash's ':' break)" "sectag scan --reader pcsc:AC" \
	'ACS\ ACR1252\ 1S\ CL\ Reader\ \[ACR1252\ Reader\ PICC\]\ 00\ 00'
offers "--on takes readers too" "sectag sim tag new --on nfc3" nfc3
offers "LUKS devices for --luks" "sectag enroll --luks /dev/" /dev/sdb2 /dev/vdc
offers "LUKS devices for unlock" "sectag unlock " /dev/sdb2 /dev/vdc
offers "binding ids for revoke" "sectag revoke " 3 12
offers "revoke's options after the id" "sectag revoke 3 --f" --force
offers "files for --issuer-key" "sectag provision --issuer-key $T/iss" \
	"$T/issuer.key"
offers "sim" "sectag sim " reader tag --json
offers "sim tag" "sectag sim tag " new del list place remove --json
offers "sim reader" "sectag --json sim reader " add del list --json
offers "nothing to offer for --timeout" "sectag scan --timeout "

done_testing
