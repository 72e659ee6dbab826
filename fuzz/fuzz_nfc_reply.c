// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a hostile kernel (or a forged sender) on the "nfc"
 * generic netlink family. The input is what one recvmsg() returned: one
 * or more netlink messages. Each goes, as the socket layer would hand it
 * over, to the parsers libsectag uses for GET_DEVICE, GET_TARGET and
 * events (sectag_nfc_parse_*, behind the transport seam of lib/nfc.c);
 * the whole input is also handed over as one message, so nlmsg_len can
 * lie about the bytes that are there.
 *
 * Oracles, besides no crash, sanitizer report or leak:
 * - a message whose nlmsg_len does not fit the bytes, or cannot hold
 *   the genl header, is refused with -EPROTO;
 * - what is accepted is sane (terminated name, NFCID1 within bounds,
 *   an event of a known type) and survives a round trip: encoded again
 *   the way the kernel does, it parses back to the same values.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/nfc.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "genl_feed.h"
#include "nfc.h"

#define FAMILY	0x1d	/* any id: parsers do not look at it */

static void dev_round_trip(const struct sectag_nfc_dev *d)
{
	struct nl_msg *msg = genl_feed_new_msg(FAMILY, NFC_CMD_GET_DEVICE);
	struct sectag_nfc_dev again;
	struct nlmsghdr *nlh;

	if (nla_put_string(msg, NFC_ATTR_DEVICE_NAME, d->name) ||
	    nla_put_u32(msg, NFC_ATTR_DEVICE_INDEX, d->idx) ||
	    nla_put_u32(msg, NFC_ATTR_PROTOCOLS, d->protocols) ||
	    nla_put_u8(msg, NFC_ATTR_DEVICE_POWERED, d->powered))
		abort();
	nlh = nlmsg_hdr(msg);
	if (sectag_nfc_parse_dev(nlh, nlh->nlmsg_len, &again) ||
	    again.idx != d->idx || again.protocols != d->protocols ||
	    again.powered != d->powered || strcmp(again.name, d->name))
		abort();
	nlmsg_free(msg);
}

static void target_round_trip(const struct sectag_nfc_target *t)
{
	struct nl_msg *msg = genl_feed_new_msg(FAMILY, NFC_CMD_GET_TARGET);
	struct sectag_nfc_target again;
	struct nlmsghdr *nlh;

	if (nla_put_u32(msg, NFC_ATTR_TARGET_INDEX, t->idx) ||
	    nla_put_u32(msg, NFC_ATTR_PROTOCOLS, t->protocols) ||
	    nla_put_u16(msg, NFC_ATTR_TARGET_SENS_RES, t->sens_res) ||
	    nla_put_u8(msg, NFC_ATTR_TARGET_SEL_RES, t->sel_res) ||
	    (t->nfcid1_len &&
	     nla_put(msg, NFC_ATTR_TARGET_NFCID1, t->nfcid1_len, t->nfcid1)))
		abort();
	nlh = nlmsg_hdr(msg);
	if (sectag_nfc_parse_target(nlh, nlh->nlmsg_len, t->dev_idx, &again) ||
	    again.dev_idx != t->dev_idx || again.idx != t->idx ||
	    again.protocols != t->protocols || again.sens_res != t->sens_res ||
	    again.sel_res != t->sel_res || again.nfcid1_len != t->nfcid1_len ||
	    memcmp(again.nfcid1, t->nfcid1, t->nfcid1_len))
		abort();
	nlmsg_free(msg);
}

static void one(const struct nlmsghdr *nlh, size_t len)
{
	struct sectag_nfc_target t;
	struct sectag_nfc_event ev;
	struct sectag_nfc_dev d;
	bool refuse = genl_feed_must_refuse(nlh, len);
	int rc;

	rc = sectag_nfc_parse_dev(nlh, len, &d);
	if (rc != 0 && rc != -EPROTO)
		abort();
	if (refuse && rc != -EPROTO)
		abort();
	if (!rc) {
		if (!memchr(d.name, 0, sizeof(d.name)))
			abort();
		dev_round_trip(&d);
	}

	rc = sectag_nfc_parse_target(nlh, len, 7, &t);
	if ((rc != 0 && rc != -EPROTO) || (refuse && rc != -EPROTO))
		abort();
	if (!rc) {
		if (t.dev_idx != 7 || t.nfcid1_len > sizeof(t.nfcid1))
			abort();
		target_round_trip(&t);
	}

	rc = sectag_nfc_parse_event(nlh, len, &ev);
	if ((rc != 1 && rc != 0 && rc != -EPROTO) ||
	    (refuse && rc != -EPROTO))
		abort();
	if (rc == 1 && (ev.type < SECTAG_NFC_EV_DEVICE_ADDED ||
			ev.type > SECTAG_NFC_EV_TARGET_LOST))
		abort();
	if (rc != 1 && (ev.type || ev.dev_idx || ev.target_idx))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	genl_feed(data, size, one);
	return 0;
}
