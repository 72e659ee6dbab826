/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the sectag CLI's source files. */
#ifndef SECTAG_CLI_H
#define SECTAG_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nfc.h"
#include "ntag424.h"
#include "pcsc.h"

/* Exit codes, documented in sectag(1). */
#define EX_FAIL		1	/* the operation failed */
#define EX_USAGE	2	/* bad command line */
#define EX_UNAVAIL	3	/* NFC subsystem, simulator or reader missing */
#define EX_REFUSED	4	/* not genuine, or a tag we must not touch */
#define EX_NOTAG	5	/* no tag presented within the timeout */

#define DEFAULT_TIMEOUT_S	30
#define MAX_TIMEOUT_S		86400

extern const char *prog;
extern int json;

/*
 * Every verb's getopt_long table ends with CLI_OPTS_END: --json is
 * accepted anywhere on the line (getopt sets json itself, returning 0),
 * --help returns 'h'. Optstrings start with ':' (after '+' if any), so
 * that a missing value returns ':' and getopt_error() can say which.
 */
#define CLI_OPTS_END \
	{ "json", no_argument, &json, 1 }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ NULL, 0, NULL, 0 }

/*
 * A usage error: "sectag VERB: why" and the verb's usage on stderr,
 * nothing on stdout. Returns EX_USAGE.
 */
int usage_error(const char *verb, void (*usage)(FILE *), const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* usage_error() for what getopt_long stopped at ('?' or ':'). */
int getopt_error(const char *verb, void (*usage)(FILE *), char **argv, int c);

/* Prints "what: strerror" (with a root hint for EPERM); EX_FAIL. */
int fail(int rc, const char *what);
/* 0, or EX_UNAVAIL after saying why. */
int open_nfc(struct sectag_nfc **nfc);
/* 0, or -1 after saying what is wrong with @s. */
int parse_u32(const char *s, uint32_t *out);

/* Seconds (0: forever) into milliseconds (-1); -1 after saying why. */
int parse_timeout(const char *s, int *ms);

/* A tag presented on a reader, connected (tap.c). */
struct tap {
	struct sectag_nfc *nfc;
	struct sectag_nfc_dev dev;
	struct sectag_nfc_target target;
	struct sectag_nfc_link link;
	struct sectag_ntag *t;
	bool polling;			/* we started it and it still runs */
	int agent_fd;			/* borrowed from sectagd, or -1 */
	/* A PC/SC reader (pcsc.c): then nfc is NULL, dev.idx its id. */
	struct sectag_pcsc *pcsc;
	struct sectag_pcsc_card *card;
	char name[sizeof(SECTAG_PCSC_PREFIX) + SECTAG_PCSC_NAME_MAX];
};

/*
 * The agent's socket: $SECTAG_AGENT_SOCKET, else the default. While
 * sectagd runs, tap_begin() borrows the reader from it (BORROW) and
 * tap_end() gives it back; closing the connection would too.
 */
const char *agent_socket(void);

/*
 * Reader @reader (name or index; NULL: the first ISO 14443 one;
 * tap_any_reader: whichever ISO 14443 reader the tag is tapped on)
 * powered, a tag found within @timeout_ms (< 0: forever) and a session
 * connected.
 * @prompt (NULL: a default on a terminal) tells the user what to do.
 * 0, or an exit code after saying what went wrong.
 */
extern const char tap_any_reader[];
int tap_begin(struct tap *tp, const char *reader, int timeout_ms,
	      const char *prompt);
void tap_end(struct tap *tp);
/* tap.c, for pcsc.c: borrow tp->dev.idx from sectagd, give it back. */
int tap_borrow(struct tap *tp, int timeout_ms);
void tap_return(struct tap *tp);

/* pcsc.c: tap_begin()/tap_end() on a reader named pcsc:NAME. */
bool pcsc_reader_name(const char *reader);
int pcsc_tap_begin(struct tap *tp, const char *reader, int timeout_ms,
		   const char *prompt);
void pcsc_tap_end(struct tap *tp);
/* " pcsc:A, pcsc:B" (cut at @size), or "" without PC/SC readers. */
void pcsc_reader_names(char *out, size_t size);

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
/* unlock.c */
int cmd_unlock(int argc, char **argv);
/*
 * The sectag tokens of loaded volume @cd (a struct crypt_device *), then
 * host tokens for bindings of @store enrolled before tokens existed.
 */
struct sectag_token;
size_t unlock_tokens(void *cd, const char *store, struct sectag_token *tok,
		     size_t max);
/* keyscript.c: crypttab keyscript and the initramfs hook's store. */
int cmd_keyscript(int argc, char **argv);
int cmd_initramfs_store(int argc, char **argv);
/* status.c */
int cmd_status(int argc, char **argv);

#endif
