/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One tap to the passphrase of a sectag keyslot: shared by the LUKS2
 * token plugin (plugin.c) and `sectag unlock` (userspace/cli/unlock.c).
 *
 * With sectagd running and knowing the volume (HAS luks UUID), it asks
 * the agent (AUTH luks UUID: the agent waits for the tap and puts the
 * key into root's keyring, where we read it). Otherwise it talks to the
 * reader itself, borrowing it from the agent if one runs: a host binding
 * needs this host's store (its host secret), a portable one only the
 * token.
 */
#ifndef SECTAG_TOKEN_OPEN_H
#define SECTAG_TOKEN_OPEN_H

#include <stddef.h>

#include "token.h"

#define SECTAG_PASS_LEN		64	/* hex of the 32-byte secret */

struct token_open_opts {
	const char *store;		/* host bindings' store */
	const char *reader;		/* NULL: any ISO 14443 reader */
	const char *what;		/* for the cue: "unlock NAME" */
	int timeout_ms;			/* the tap's wait */
};

/*
 * The passphrase (64 hex digits and a NUL) of one of the keyslots that
 * tokens @tok[0..n-1] of volume @uuid stand for, into @pass, after one
 * tap: the tag tapped decides which. *@keyslot tells it (-1 when the
 * agent released the key: any keyslot of the volume may take it). 0, or
 * an exit code of the CLI (cli.h) after saying why on stderr.
 */
int token_open(const char *uuid, const struct sectag_token *tok, size_t n,
	       const struct token_open_opts *o,
	       char pass[SECTAG_PASS_LEN + 1], int *keyslot);

/* Defaults from the environment: SECTAG_STORE, SECTAG_READER, ... */
void token_open_defaults(struct token_open_opts *o);

#endif
