# SPDX-License-Identifier: GPL-2.0
#
# The NTAG 424 engine as plain sources: Kbuild builds it into the module,
# and every userspace build of it against tests/unit/kshim (unit tests,
# emulators, bridges) takes its file list from here, so a new engine file
# is added once.
ENGINE_SRC	:= kernel/ntag424.c kernel/ntag424_sm.c
ENGINE_HDR	:= kernel/ntag424.h kernel/ntag424_sm.h
