// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a hostile tag. The input is the stream of answers
 * the tag gives, each as <length byte> <bytes>; every reader-side
 * command and its response parser runs against it, outside and inside
 * a session. Success is: no crash, no sanitizer report, no leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntag424.h"
#include "ntag424_sm.h"

struct feed {
	const uint8_t *p;
	size_t n;
};

static int feed_xfer(void *ctx, const uint8_t *c, size_t clen, uint8_t *r,
		     size_t rsize, size_t *rlen)
{
	struct feed *f = ctx;
	size_t len;

	(void)c;
	(void)clen;
	if (!f->n)
		return -5;	/* -EIO: the tag went away */
	len = f->p[0];
	if (f->p[0] == 0xff)
		len = 258;	/* the longest legal answer */
	f->p++;
	f->n--;
	if (len > f->n)
		len = f->n;
	if (len > rsize)
		return -90;	/* -EMSGSIZE */
	memcpy(r, f->p, len);
	f->p += len;
	f->n -= len;
	*rlen = len;
	return 0;
}

static int zero_rng(void *ctx, uint8_t *buf, size_t n)
{
	(void)ctx;
	memset(buf, 0x5a, n);
	return 0;
}

static void enter_session(struct sectag_ntag *t)
{
	struct sm_session *s = sm_session_of(t);

	memset(s, 0, sizeof(*s));
	memset(s->enc, 0x11, sizeof(s->enc));
	memset(s->mac, 0x22, sizeof(s->mac));
	s->active = true;
	s->keyno = 0;
}

static void commands(struct sectag_ntag *t)
{
	static const uint8_t key[16];
	struct sectag_ntag_version v;
	struct sectag_ntag_file f;
	uint8_t buf[300], ver;

	sectag_ntag_select_app(t);
	sectag_ntag_get_version(t, &v);
	sectag_ntag_get_file_settings(t, 3, &f);
	sectag_ntag_get_key_version(t, 1, &ver);
	sectag_ntag_read(t, 2, SECTAG_NTAG_PLAIN, 0, buf, sizeof(buf));
	sectag_ntag_iso_read(t, 0, buf, 15);
	sectag_ntag_read_sig(t, buf);
	sectag_ntag_auth(t, 2, key);
	sectag_ntag_auth_nonfirst(t, 0, key);
}

static void session_commands(struct sectag_ntag *t)
{
	static const uint8_t key[16];
	struct sectag_ntag_version v;
	struct sectag_ntag_file f = { .mode = SECTAG_NTAG_FULL };
	uint8_t buf[300], ver;

	enter_session(t);
	sectag_ntag_get_version(t, &v);
	enter_session(t);
	sectag_ntag_get_file_settings(t, 3, &f);
	enter_session(t);
	sectag_ntag_get_key_version(t, 1, &ver);
	enter_session(t);
	sectag_ntag_read(t, 3, SECTAG_NTAG_FULL, 0, buf, 290);
	enter_session(t);
	sectag_ntag_read(t, 3, SECTAG_NTAG_MAC, 0, buf, 260);
	enter_session(t);
	sectag_ntag_get_card_uid(t, buf);
	enter_session(t);
	sectag_ntag_read_sig(t, buf);
	enter_session(t);
	sectag_ntag_change_key(t, 2, key, key, 1);
	enter_session(t);
	sectag_ntag_change_key(t, 0, NULL, key, 1);
	enter_session(t);
	sectag_ntag_change_file_settings(t, 3, &f);
	enter_session(t);
	sectag_ntag_auth_nonfirst(t, 0, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed feed = { data, size };
	struct sectag_ntag *t;

	if (sectag_ntag_new(&t, feed_xfer, &feed))
		return 0;
	sectag_ntag_set_rng(t, zero_rng, NULL);
	commands(t);
	session_commands(t);
	sectag_ntag_free(t);
	return 0;
}
