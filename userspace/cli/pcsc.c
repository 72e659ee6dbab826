// SPDX-License-Identifier: GPL-2.0
/*
 * The CLI on PC/SC readers (--reader pcsc:NAME): the same tap as on a
 * kernel NFC device (tap.c), over libsectag's PC/SC transport. While
 * sectagd runs, the reader is borrowed from it as an nfcN is (BORROW
 * with the reader's PC/SC id), so that the agent does not take our tag
 * for a tap; the card itself is connected shared, inside a transaction,
 * so other PC/SC programs wait for us rather than fail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "cli.h"
#include "pcsc.h"

#define PREFIX_LEN	(sizeof(SECTAG_PCSC_PREFIX) - 1)

bool pcsc_reader_name(const char *reader)
{
	return reader && !strncmp(reader, SECTAG_PCSC_PREFIX, PREFIX_LEN);
}

static int pcsc_fail(int rc, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, sectag_pcsc_strerror(rc));
	return rc == -ECONNREFUSED || rc == -ENODEV ? EX_UNAVAIL : EX_FAIL;
}

static int open_reader(struct tap *tp, const char *want)
{
	char name[SECTAG_PCSC_NAME_MAX];
	int rc;

	rc = sectag_pcsc_open(&tp->pcsc);
	if (rc)
		return pcsc_fail(rc, "cannot use PC/SC");
	rc = sectag_pcsc_find(tp->pcsc, want, name);
	if (rc == -ENODEV || rc == -EEXIST) {
		fprintf(stderr, "%s: %s PC/SC reader '%s'\n", prog,
			rc == -ENODEV ? "no" : "more than one", want);
		pcsc_reader_names(name, sizeof(name));
		fprintf(stderr, "%s: PC/SC readers:%s\n", prog,
			*name ? name : " none");
		return EX_UNAVAIL;
	}
	if (rc)
		return pcsc_fail(rc, "cannot list PC/SC readers");
	snprintf(tp->name, sizeof(tp->name), SECTAG_PCSC_PREFIX "%s", name);
	snprintf(tp->dev.name, sizeof(tp->dev.name), "pcsc");
	tp->dev.idx = sectag_pcsc_reader_id(name);
	return 0;
}

static int wait_card(struct tap *tp, int timeout_ms, const char *prompt)
{
	const char *name = tp->name + PREFIX_LEN;
	int rc;

	if (prompt || isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s on %s...\n", prog,
			prompt ? prompt : "waiting for a tag", tp->name);
	rc = sectag_pcsc_wait_card(tp->pcsc, name, timeout_ms);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "%s: no tag on %s within %d s\n", prog,
			tp->name, timeout_ms / 1000);
		return EX_NOTAG;
	}
	if (rc == -ENODEV) {
		fprintf(stderr, "%s: reader %s went away\n", prog, tp->name);
		return EX_UNAVAIL;
	}
	return rc ? pcsc_fail(rc, "waiting for a tag") : 0;
}

static int connect_card(struct tap *tp)
{
	size_t len = 0;
	int rc;

	rc = sectag_pcsc_connect(tp->pcsc, tp->name + PREFIX_LEN, &tp->card);
	if (rc == -EPROTONOSUPPORT) {
		fprintf(stderr, "%s: the tag does not speak ISO 14443-4: not "
			"an NTAG 424 DNA\n", prog);
		return EX_REFUSED;
	}
	if (rc)
		return pcsc_fail(rc, "cannot connect to the tag");
	/* As the NFC core's target: what tag.c reports before auth. */
	if (!sectag_pcsc_uid(tp->card, tp->target.nfcid1, &len))
		tp->target.nfcid1_len = (uint8_t)len;
	tp->target.protocols = NFC_PROTO_ISO14443_MASK;
	rc = sectag_ntag_new(&tp->t, sectag_pcsc_xfer, tp->card);
	return rc ? fail(rc, "cannot start a tag session") : 0;
}

int pcsc_tap_begin(struct tap *tp, const char *reader, int timeout_ms,
		   const char *prompt)
{
	int rc;

	memset(tp, 0, sizeof(*tp));
	tp->link.fd = -1;
	tp->agent_fd = -1;
	rc = open_reader(tp, reader + PREFIX_LEN);
	if (!rc)
		rc = tap_borrow(tp, timeout_ms);
	if (!rc)
		rc = wait_card(tp, timeout_ms, prompt);
	if (!rc)
		rc = connect_card(tp);
	if (rc)
		pcsc_tap_end(tp);
	return rc;
}

void pcsc_tap_end(struct tap *tp)
{
	sectag_ntag_free(tp->t);
	sectag_pcsc_disconnect(tp->card);
	sectag_pcsc_close(tp->pcsc);
	tap_return(tp);
	memset(tp, 0, sizeof(*tp));
	tp->link.fd = -1;
	tp->agent_fd = -1;
}

void pcsc_reader_names(char *out, size_t size)
{
	struct sectag_pcsc_reader *v;
	struct sectag_pcsc *p;
	size_t n, i, len = 0;
	int w;

	out[0] = 0;
	if (sectag_pcsc_open(&p))
		return;		/* no pcscd: no PC/SC reader */
	if (!sectag_pcsc_list(p, &v, &n)) {
		for (i = 0; i < n && len < size; i++) {
			w = snprintf(out + len, size - len, "%s " SECTAG_PCSC_PREFIX
				     "%s", i ? "," : "", v[i].name);
			len += w > 0 ? (size_t)w : 0;
		}
		free(v);
	}
	sectag_pcsc_close(p);
}
