// SPDX-License-Identifier: GPL-2.0
/*
 * tagd: an NTAG 424 DNA that survives reboots, for the boot tests
 * (tests/boot/boot.sh). The real engine (kernel/ntag424.c built against
 * tests/unit/kshim, as for the emulators) answers as a relay tag
 * (NFC_SECTAG_PROFILE_RELAY) on a virtual reader of nfc_sectag.ko that
 * tagd creates; its non-volatile memory is kept in a state file, written
 * (and synced) after every command that changed it. The state file may
 * be a block device: a guest gets it as a virtio disk and, in its
 * initramfs, serves the same tag the previous boot provisioned.
 *
 *   tagd --state FILE [--uid HEX14] [--absent]
 *
 * A state file without a valid header (new, or zeroed) starts a virgin
 * tag with --uid. Prints "ready reader=ID device=nfcN tag=ID" once set
 * up. The tag is placed unless --absent. SIGUSR1 places it, SIGUSR2 lifts
 * it (the engine is power-cycled), SIGTERM/SIGINT end tagd.
 *
 * Why a relay tag rather than an emulated real reader (pn533emu): the
 * initramfs then needs only nfc.ko and nfc_sectag.ko besides tagd, not
 * dummy_hcd, libcomposite and FunctionFS, and the keyscript still goes
 * through the kernel's NFC API as with any reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_api.h"
#include "sim.h"
#include "tagstate.h"

#define MAGIC		"SECTAGD1"
#define MAGIC_LEN	8
#define RECV_MS		500

static volatile sig_atomic_t want_place, want_lift, want_exit;

static struct {
	int fd;
	struct ntag424 *tag;
	size_t nv_len;
	uint8_t *nv, *saved;	/* saved: what the file holds */
} D = { .fd = -1 };

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_place = 1;
	else if (sig == SIGUSR2)
		want_lift = 1;
	else
		want_exit = 1;
}

static int parse_uid(const char *s, uint8_t uid[ENGINE_UID_LEN])
{
	unsigned int i, v;

	if (strlen(s) != 2 * ENGINE_UID_LEN)
		return -1;
	for (i = 0; i < ENGINE_UID_LEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		uid[i] = (uint8_t)v;
	}
	return uid[0] == 0x04 ? 0 : -1;
}

/* Header, length, blob, at offset 0; synced before we answer. */
static int save(void)
{
	uint32_t len = (uint32_t)D.nv_len;
	uint8_t *buf = calloc(1, MAGIC_LEN + 4 + D.nv_len);
	int rc = -1;

	if (!buf)
		return -1;
	memcpy(buf, MAGIC, MAGIC_LEN);
	memcpy(buf + MAGIC_LEN, &len, 4);
	memcpy(buf + MAGIC_LEN + 4, D.nv, D.nv_len);
	if (pwrite(D.fd, buf, MAGIC_LEN + 4 + D.nv_len, 0) ==
	    (ssize_t)(MAGIC_LEN + 4 + D.nv_len) && !fsync(D.fd))
		rc = 0;
	free(buf);
	if (!rc)
		memcpy(D.saved, D.nv, D.nv_len);
	else
		perror("tagd: saving the state");
	return rc;
}

/* 1: the state was loaded; 0: no valid state there. */
static int load(void)
{
	uint8_t hdr[MAGIC_LEN + 4];
	uint32_t len;

	if (pread(D.fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, MAGIC, MAGIC_LEN))
		return 0;
	memcpy(&len, hdr + MAGIC_LEN, 4);
	if (len != D.nv_len) {
		fprintf(stderr, "tagd: state of another build (%u bytes)\n",
			len);
		return 0;
	}
	if (pread(D.fd, D.nv, D.nv_len, sizeof(hdr)) != (ssize_t)D.nv_len)
		return 0;
	engine_nv_set(D.tag, D.nv);
	memcpy(D.saved, D.nv, D.nv_len);
	return 1;
}

/* A loaded state brings its own UID: @uid is updated. */
static int open_state(const char *path, uint8_t *uid)
{
	D.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	D.nv_len = engine_nv_size();
	D.nv = calloc(1, D.nv_len);
	D.saved = calloc(1, D.nv_len);
	D.tag = ntag424_create(uid);
	if (D.fd < 0 || !D.nv || !D.saved || !D.tag) {
		perror("tagd: state");
		return -1;
	}
	if (load()) {
		/* The blob starts with the UID (tagstate.c). */
		memcpy(uid, D.nv, ENGINE_UID_LEN);
		ntag424_power_cycle(D.tag);
		return 0;
	}
	engine_nv_get(D.tag, D.nv);
	return save();
}

static void serve(struct sectag_sim *relay, const struct sectag_sim_frame *f)
{
	uint8_t r[ENGINE_MAX_RAPDU];
	int n = ntag424_process(D.tag, f->data, f->len, r);

	if (n < 0) {
		sectag_sim_relay_answer(relay, f->tag_id, f->cookie, NULL, 0,
					-n);
		return;
	}
	/* On the tag's memory before the reader learns it took effect. */
	engine_nv_get(D.tag, D.nv);
	if (memcmp(D.nv, D.saved, D.nv_len))
		save();
	sectag_sim_relay_answer(relay, f->tag_id, f->cookie, r, (size_t)n, 0);
}

static int place(struct sectag_sim *ctl, uint32_t tag, uint32_t reader,
		 bool on)
{
	int rc;

	ntag424_power_cycle(D.tag);
	rc = on ? sectag_sim_tag_place(ctl, tag, reader) :
		  sectag_sim_tag_remove(ctl, tag);
	if (rc)
		fprintf(stderr, "tagd: %s: %s\n", on ? "place" : "lift",
			strerror(-rc));
	return rc;
}

static int run(struct sectag_sim *ctl, struct sectag_sim *relay,
	       const uint8_t *uid, bool absent)
{
	struct sectag_sim_reader rd;
	struct sectag_sim_tag t;
	struct sectag_sim_frame f;
	int rc;

	rc = sectag_sim_reader_add(ctl, 0, &rd);
	if (!rc)
		rc = sectag_sim_tag_add(relay, NFC_SECTAG_PROFILE_RELAY, uid,
					NFC_SECTAG_F_OWNED, &t);
	if (!rc && !absent)
		rc = place(ctl, t.id, rd.id, true);
	if (rc) {
		fprintf(stderr, "tagd: simulator: %s\n", strerror(-rc));
		return 1;
	}
	printf("ready reader=%u device=nfc%u tag=%u\n", rd.id, rd.nfc_index,
	       t.id);
	fflush(stdout);
	while (!want_exit) {
		if (want_place || want_lift) {
			place(ctl, t.id, rd.id, want_place);
			want_place = want_lift = 0;
		}
		rc = sectag_sim_relay_recv(relay, &f, RECV_MS);
		if (rc == -ETIMEDOUT || rc == -EINTR)
			continue;
		if (rc) {
			fprintf(stderr, "tagd: relay: %s\n", strerror(-rc));
			return 1;
		}
		serve(relay, &f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "uid", required_argument, NULL, 'u' },
		{ "absent", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t uid[ENGINE_UID_LEN] = { 0x04, 0xB0, 0x07, 0, 0, 0, 0x01 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct sectag_sim *ctl, *relay;
	const char *state = NULL;
	bool absent = false, bad = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			state = optarg;
		else if (c == 'a')
			absent = true;
		else if (c != 'u' || parse_uid(optarg, uid))
			bad = true;
	}
	if (bad || !state || optind != argc) {
		fprintf(stderr, "usage: tagd --state FILE [--uid HEX14] "
			"[--absent]\n");
		return 2;
	}
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (open_state(state, uid))
		return 1;
	if (sectag_sim_open(&ctl) || sectag_sim_open(&relay)) {
		fprintf(stderr, "tagd: nfc_sectag is not loaded\n");
		return 1;
	}
	rc = run(ctl, relay, uid, absent);
	sectag_sim_close(relay);
	sectag_sim_close(ctl);
	ntag424_destroy(D.tag);
	close(D.fd);
	return rc;
}
