// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a hostile kernel (or a forged sender) on the
 * nfc_sectag generic netlink family. The input is what one recvmsg()
 * returned: one or more netlink messages. Each goes, as the socket layer
 * would hand it over, to the parsers of reader and tag replies and of
 * relay frames (sectag_sim_parse_*, behind the transport seam of
 * lib/sim.c); the whole input is also handed over as one message, so
 * nlmsg_len can lie about the bytes that are there.
 *
 * Oracles, besides no crash, sanitizer report or leak:
 * - a message whose nlmsg_len does not fit the bytes, or cannot hold
 *   the genl header, is refused with -EPROTO;
 * - what is accepted is sane (terminated name, frame within bounds) and
 *   survives a round trip: encoded again the way the kernel does, it
 *   parses back to the same values.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "genl_feed.h"
#include "sim.h"

#define FAMILY	0x1e	/* any id: parsers do not look at it */

static void reader_round_trip(const struct sectag_sim_reader *r)
{
	struct nl_msg *msg =
		genl_feed_new_msg(FAMILY, NFC_SECTAG_CMD_GET_READER);
	struct sectag_sim_reader again;
	struct nlmsghdr *nlh;

	if (nla_put_u32(msg, NFC_SECTAG_ATTR_READER_ID, r->id) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_NFC_INDEX, r->nfc_index) ||
	    nla_put_string(msg, NFC_SECTAG_ATTR_NAME, r->name) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FLAGS, r->flags) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_POWERED, r->powered) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_POLLING, r->polling))
		abort();
	nlh = nlmsg_hdr(msg);
	if (sectag_sim_parse_reader(nlh, nlh->nlmsg_len, &again) ||
	    again.id != r->id || again.nfc_index != r->nfc_index ||
	    again.flags != r->flags || again.powered != r->powered ||
	    again.polling != r->polling || strcmp(again.name, r->name))
		abort();
	nlmsg_free(msg);
}

static void tag_round_trip(const struct sectag_sim_tag *t)
{
	struct nl_msg *msg =
		genl_feed_new_msg(FAMILY, NFC_SECTAG_CMD_GET_TAG);
	struct sectag_sim_tag again;
	struct nlmsghdr *nlh;

	if (nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, t->id) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_PROFILE, t->profile) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FLAGS, t->flags) ||
	    nla_put(msg, NFC_SECTAG_ATTR_UID, sizeof(t->uid), t->uid) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_PERSONALISED, t->personalised) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_RANDOM_ID, t->random_id) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FAIL_CTR, t->fail_ctr) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_READER_ID, t->reader_id))
		abort();
	nlh = nlmsg_hdr(msg);
	if (sectag_sim_parse_tag(nlh, nlh->nlmsg_len, &again) ||
	    again.id != t->id || again.profile != t->profile ||
	    again.flags != t->flags || again.reader_id != t->reader_id ||
	    memcmp(again.uid, t->uid, sizeof(t->uid)) ||
	    again.personalised != t->personalised ||
	    again.random_id != t->random_id || again.fail_ctr != t->fail_ctr)
		abort();
	nlmsg_free(msg);
}

static void frame_round_trip(const struct sectag_sim_frame *f)
{
	struct nl_msg *msg =
		genl_feed_new_msg(FAMILY, NFC_SECTAG_CMD_RELAY_FRAME);
	struct sectag_sim_frame again;
	struct nlmsghdr *nlh;

	if (nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, f->tag_id) ||
	    nla_put_u64(msg, NFC_SECTAG_ATTR_COOKIE, f->cookie) ||
	    nla_put(msg, NFC_SECTAG_ATTR_FRAME, (int)f->len, f->data))
		abort();
	nlh = nlmsg_hdr(msg);
	if (sectag_sim_parse_frame(nlh, nlh->nlmsg_len, &again) != 1 ||
	    again.tag_id != f->tag_id || again.cookie != f->cookie ||
	    again.len != f->len || memcmp(again.data, f->data, f->len))
		abort();
	nlmsg_free(msg);
}

static void one(const struct nlmsghdr *nlh, size_t len)
{
	struct sectag_sim_reader r;
	struct sectag_sim_frame f;
	struct sectag_sim_tag t;
	bool refuse = genl_feed_must_refuse(nlh, len);
	int rc;

	rc = sectag_sim_parse_reader(nlh, len, &r);
	if ((rc != 0 && rc != -EPROTO) || (refuse && rc != -EPROTO))
		abort();
	if (!rc) {
		if (!memchr(r.name, 0, sizeof(r.name)))
			abort();
		reader_round_trip(&r);
	}

	rc = sectag_sim_parse_tag(nlh, len, &t);
	if ((rc != 0 && rc != -EPROTO) || (refuse && rc != -EPROTO))
		abort();
	if (!rc)
		tag_round_trip(&t);

	rc = sectag_sim_parse_frame(nlh, len, &f);
	if ((rc != 1 && rc != 0 && rc != -EPROTO) ||
	    (refuse && rc != -EPROTO))
		abort();
	if (rc == 1) {
		if (f.len > sizeof(f.data))
			abort();
		frame_round_trip(&f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	genl_feed(data, size, one);
	return 0;
}
