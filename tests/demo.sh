#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make demo, inside the VM: a virtual reader seen through the standard
# NFC API.
set -e
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sectag=build/sectag

say "nfc_sectag is loaded; it created one reader at load (nr_readers=1)"
$sectag sim reader list

say "create a second reader through the nfc_sectag genl family"
$sectag sim reader add

say "the kernel NFC core lists both like hardware readers (nfc genl family)"
$sectag readers

say "as JSON"
$sectag --json readers
