/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tests/usb/emu.c: what every reader emulator (pn533emu, ncidevemu,
 * vpcdbridge) shares besides the engine: its log, its options and the
 * signals it is driven by.
 */
#ifndef SECTAG_EMU_H
#define SECTAG_EMU_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --verbose: frames and events logged too (emu_vlog, emu_dbg_hex). */
extern bool emu_verbose;

/* Log lines on stderr start with @name (the program's). */
void emu_set_name(const char *name);
void emu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* emu_log only with --verbose. */
void emu_vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* @what and the first 48 bytes of @p, with --verbose. */
void emu_dbg_hex(const char *what, const uint8_t *p, size_t n);
/* --uid: 14 hex digits, an NXP UID (first byte 04h). 0 or -1. */
int emu_parse_uid(const char *s, uint8_t uid[7]);

/*
 * The options of every emulator, --uid HEX14 (into @uid), --tag-present
 * (@present) and --verbose, then the program's own: @own (at most 8, ended
 * by a zeroed entry), each handed to @parse, which returns 0 or -1 for a
 * bad value. Any usage error prints "usage: NAME [--uid HEX14]
 * [--tag-present] [--verbose] @usage" and exits 2.
 */
void emu_parse_args(int argc, char **argv, const struct option *own,
		    int (*parse)(int opt, const char *arg), const char *usage,
		    uint8_t uid[7], bool *present);
/* SIGUSR1 (place the tag), SIGUSR2 (lift it), SIGTERM and SIGINT. */
void emu_signals(sigset_t *set);

#endif
