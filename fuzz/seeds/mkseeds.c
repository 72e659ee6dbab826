// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpora of the fuzz harnesses (fuzz/corpus/<harness>/)
 * with the production code: a store saved by sectag_store_save(), and
 * netlink replies and events encoded with libnl as the kernel lays them
 * out. Run by `make fuzz-seeds`; the output is committed.
 *
 *   mkseeds <corpus dir>
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/nfc.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "nfc_sectag.h"
#include "store.h"

static const char *root;

static void die(const char *what)
{
	fprintf(stderr, "mkseeds: %s\n", what);
	exit(1);
}

static void path_of(char *buf, size_t size, const char *harness,
		    const char *name)
{
	snprintf(buf, size, "%s/%s", root, harness);
	if (mkdir(buf, 0755) && errno != EEXIST)
		die(buf);
	snprintf(buf, size, "%s/%s/%s", root, harness, name);
}

static void put_file(const char *harness, const char *name, const void *p,
		     size_t n)
{
	char path[512];
	FILE *f;

	path_of(path, sizeof(path), harness, name);
	f = fopen(path, "we");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f))
		die(path);
}

/* ---- store ---- */

static void binding(struct sectag_store *s, enum sectag_binding_kind kind,
		    const char *target, uint8_t seed)
{
	struct sectag_binding b = { .kind = kind, .keyslot = -1, .token = -1 };
	uint32_t id;

	snprintf(b.target, sizeof(b.target), "%s", target);
	if (kind == SECTAG_BIND_LUKS) {
		snprintf(b.device, sizeof(b.device), "/dev/vdb");
		snprintf(b.auto_open, sizeof(b.auto_open), "secret");
		b.keyslot = 1;
		b.token = 0;
	}
	memset(b.uid, seed, sizeof(b.uid));
	b.uid[0] = 0x04;
	memset(b.read_key, seed + 1, sizeof(b.read_key));
	memset(b.host_secret, seed + 2, sizeof(b.host_secret));
	if (sectag_store_add(s, &b, &id))
		die("sectag_store_add");
}

static void store_seeds(void)
{
	struct sectag_store s = { .next_id = 1 };
	char path[512];

	path_of(path, sizeof(path), "fuzz_store", "empty");
	if (sectag_store_save(path, &s))
		die("save empty");
	binding(&s, SECTAG_BIND_LUKS, "0b7b6a6e-3c1f-4f52-9d55-6a3c1f2e9a10",
		0x11);
	binding(&s, SECTAG_BIND_USER, "alice", 0x22);
	binding(&s, SECTAG_BIND_NAME, "backup-disk_1", 0x33);
	path_of(path, sizeof(path), "fuzz_store", "three");
	if (sectag_store_save(path, &s))
		die("save three");
	/* Version 2: a Random ID tag's issuer identification key. */
	s.has_ident = true;
	memset(s.ident_key, 0x44, sizeof(s.ident_key));
	path_of(path, sizeof(path), "fuzz_store", "ident");
	if (sectag_store_save(path, &s))
		die("save ident");
	/* bind tpm2: no host secret in the store ("host-secret=tpm2"). */
	binding(&s, SECTAG_BIND_LUKS, "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
		0x55);
	s.b[s.n - 1].tpm2 = true;
	memset(s.b[s.n - 1].host_secret, 0, sizeof(s.b[s.n - 1].host_secret));
	path_of(path, sizeof(path), "fuzz_store", "tpm2");
	if (sectag_store_save(path, &s))
		die("save tpm2");
	sectag_store_free(&s);
}

/* ---- netlink ---- */

/* The encoded messages of one datagram. */
static uint8_t dgram[8192];
static size_t dgram_len;

static struct nl_msg *msg_new(int family, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, 1234, 7, family, 0, flags, cmd, 1))
		die("genlmsg_put");
	return msg;
}

/* Appends @msg (freed) to the datagram. */
static void push(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len);

	if (dgram_len + len > sizeof(dgram))
		die("datagram too big");
	memset(dgram + dgram_len, 0, len);
	memcpy(dgram + dgram_len, nlh, nlh->nlmsg_len);
	dgram_len += len;
	nlmsg_free(msg);
}

static void push_done(void)
{
	struct nlmsghdr done = {
		.nlmsg_len = NLMSG_HDRLEN + 4,
		.nlmsg_type = NLMSG_DONE,
		.nlmsg_flags = NLM_F_MULTI,
		.nlmsg_seq = 7,
	};

	memcpy(dgram + dgram_len, &done, sizeof(done));
	memset(dgram + dgram_len + sizeof(done), 0, 4);
	dgram_len += NLMSG_HDRLEN + 4;
}

static void flush(const char *harness, const char *name)
{
	put_file(harness, name, dgram, dgram_len);
	dgram_len = 0;
}

#define NFC_FAMILY	0x1d
#define SIM_FAMILY	0x1e

static struct nl_msg *nfc_dev(uint8_t cmd, uint32_t idx, int flags)
{
	struct nl_msg *msg = msg_new(NFC_FAMILY, cmd, flags);
	char name[16];

	snprintf(name, sizeof(name), "nfc%u", idx);
	if (nla_put_string(msg, NFC_ATTR_DEVICE_NAME, name) ||
	    nla_put_u32(msg, NFC_ATTR_DEVICE_INDEX, idx) ||
	    nla_put_u32(msg, NFC_ATTR_PROTOCOLS, NFC_PROTO_ISO14443_MASK |
			NFC_PROTO_MIFARE_MASK) ||
	    nla_put_u8(msg, NFC_ATTR_DEVICE_POWERED, 1) ||
	    nla_put_u8(msg, NFC_ATTR_RF_MODE, 0))
		die("nfc_dev");
	return msg;
}

static struct nl_msg *nfc_target(uint32_t idx, int flags)
{
	static const uint8_t uid[7] = { 0x04, 0x51, 0x2a, 0x6c, 0x11, 0x90, 0x80 };
	struct nl_msg *msg = msg_new(NFC_FAMILY, NFC_CMD_GET_TARGET, flags);

	if (nla_put_u32(msg, NFC_ATTR_TARGET_INDEX, idx) ||
	    nla_put_u32(msg, NFC_ATTR_PROTOCOLS, NFC_PROTO_ISO14443_MASK) ||
	    nla_put_u16(msg, NFC_ATTR_TARGET_SENS_RES, 0x0344) ||
	    nla_put_u8(msg, NFC_ATTR_TARGET_SEL_RES, 0x20) ||
	    nla_put(msg, NFC_ATTR_TARGET_NFCID1, sizeof(uid), uid))
		die("nfc_target");
	return msg;
}

static struct nl_msg *nfc_event(uint8_t cmd, uint32_t dev, bool by_name,
				uint32_t target)
{
	struct nl_msg *msg = msg_new(NFC_FAMILY, cmd, 0);
	char name[16];

	snprintf(name, sizeof(name), "nfc%u", dev);
	if ((by_name ? nla_put_string(msg, NFC_ATTR_DEVICE_NAME, name) :
		       nla_put_u32(msg, NFC_ATTR_DEVICE_INDEX, dev)) ||
	    (target && nla_put_u32(msg, NFC_ATTR_TARGET_INDEX, target)))
		die("nfc_event");
	return msg;
}

static void nfc_seeds(void)
{
	const char *h = "fuzz_nfc_reply";

	push(nfc_dev(NFC_CMD_GET_DEVICE, 0, 0));
	flush(h, "get-device");
	push(nfc_dev(NFC_CMD_GET_DEVICE, 0, NLM_F_MULTI));
	push(nfc_dev(NFC_CMD_GET_DEVICE, 3, NLM_F_MULTI));
	push_done();
	flush(h, "dump-devices");
	push(nfc_target(1, NLM_F_MULTI));
	push(nfc_target(2, NLM_F_MULTI));
	push_done();
	flush(h, "dump-targets");
	push(nfc_dev(NFC_EVENT_DEVICE_ADDED, 2, 0));
	flush(h, "event-device-added");
	push(nfc_event(NFC_EVENT_TARGETS_FOUND, 2, false, 0));
	flush(h, "event-targets-found");
	push(nfc_event(NFC_EVENT_TARGET_LOST, 2, true, 1));
	flush(h, "event-target-lost");
	push(nfc_event(NFC_EVENT_DEVICE_REMOVED, 2, false, 0));
	push(nfc_event(NFC_EVENT_TARGETS_FOUND, 1, false, 0));
	flush(h, "events-two");
}

static struct nl_msg *sim_reader(uint32_t id, int flags)
{
	struct nl_msg *msg = msg_new(SIM_FAMILY, NFC_SECTAG_CMD_GET_READER,
				     flags);

	if (nla_put_u32(msg, NFC_SECTAG_ATTR_READER_ID, id) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_NFC_INDEX, id + 1) ||
	    nla_put_string(msg, NFC_SECTAG_ATTR_NAME, "nfc1") ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FLAGS, 0) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_POWERED, 1) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_POLLING, 0))
		die("sim_reader");
	return msg;
}

static struct nl_msg *sim_tag(uint32_t id, int flags)
{
	static const uint8_t uid[7] = { 0x04, 0x32, 0x6b, 0x1a, 0x7c, 0x59, 0x80 };
	struct nl_msg *msg = msg_new(SIM_FAMILY, NFC_SECTAG_CMD_GET_TAG, flags);

	if (nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, id) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_PROFILE,
			NFC_SECTAG_PROFILE_NTAG424) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FLAGS, 0) ||
	    nla_put(msg, NFC_SECTAG_ATTR_UID, sizeof(uid), uid) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_PERSONALISED, 1) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_RANDOM_ID, 0) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FAIL_CTR, 3) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_READER_ID, 1))
		die("sim_tag");
	return msg;
}

static struct nl_msg *sim_frame(void)
{
	static const uint8_t apdu[] = { 0x90, 0x60, 0x00, 0x00, 0x00 };
	struct nl_msg *msg = msg_new(SIM_FAMILY, NFC_SECTAG_CMD_RELAY_FRAME, 0);

	if (nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, 5) ||
	    nla_put_u64(msg, NFC_SECTAG_ATTR_COOKIE, 0x0123456789abcdefULL) ||
	    nla_put(msg, NFC_SECTAG_ATTR_FRAME, sizeof(apdu), apdu))
		die("sim_frame");
	return msg;
}

static void sim_seeds(void)
{
	const char *h = "fuzz_sim_reply";

	push(sim_reader(1, 0));
	flush(h, "get-reader");
	push(sim_tag(1, 0));
	flush(h, "get-tag");
	push(sim_reader(1, NLM_F_MULTI));
	push(sim_reader(2, NLM_F_MULTI));
	push_done();
	flush(h, "dump-readers");
	push(sim_tag(1, NLM_F_MULTI));
	push(sim_tag(2, NLM_F_MULTI));
	push_done();
	flush(h, "dump-tags");
	push(sim_frame());
	flush(h, "relay-frame");
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: mkseeds <corpus dir>");
	root = argv[1];
	if (mkdir(root, 0755) && errno != EEXIST)
		die(root);
	store_seeds();
	nfc_seeds();
	sim_seeds();
	return 0;
}
