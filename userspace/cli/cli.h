/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the sectag CLI's source files. */
#ifndef SECTAG_CLI_H
#define SECTAG_CLI_H

#include <stdint.h>

#include "nfc.h"

/* Exit codes, documented in sectag(1). */
#define EX_FAIL		1	/* the operation failed */
#define EX_USAGE	2	/* bad command line */
#define EX_UNAVAIL	3	/* NFC subsystem, simulator or reader missing */
#define EX_REFUSED	4	/* not genuine, or a tag we must not touch */
#define EX_NOTAG	5	/* no tag presented within the timeout */

extern const char *prog;
extern int json;

/* Prints "what: strerror" (with a root hint for EPERM); EX_FAIL. */
int fail(int rc, const char *what);
/* 0, or EX_UNAVAIL after saying why. */
int open_nfc(struct sectag_nfc **nfc);
/* 0, or -1 after saying what is wrong with @s. */
int parse_u32(const char *s, uint32_t *out);

/*
 * Verbs: argv[0] is the verb's name, its options follow, so getopt
 * works on them as on a program's.
 */
int cmd_keygen(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_provision(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* enroll.c */
int cmd_enroll(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_revoke(int argc, char **argv);

#endif
