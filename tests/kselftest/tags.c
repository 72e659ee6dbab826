// SPDX-License-Identifier: GPL-2.0
/*
 * Tags and the NFC core: creation, placement, target reports, exchanges
 * over AF_NFC, removal while connected, relay tags, and a lifecycle storm.
 */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netlink/genl/ctrl.h>

#include "kselftest_harness.h"
#include "genl.h"
#include "helpers.h"

static const uint8_t get_version[] = { 0x90, 0x60, 0x00, 0x00, 0x00 };

FIXTURE(tags) {
	struct sectag_sim *sim;
	struct sectag_nfc *nfc;
	struct sectag_sim_reader reader;
};

FIXTURE_SETUP(tags)
{
	ASSERT_EQ(0, sectag_sim_open(&self->sim));
	ASSERT_EQ(0, sectag_nfc_open(&self->nfc));
	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, NFC_SECTAG_F_OWNED,
					   &self->reader));
	ASSERT_EQ(0, sectag_nfc_dev_up(self->nfc, self->reader.nfc_index));
}

FIXTURE_TEARDOWN(tags)
{
	sectag_nfc_close(self->nfc);
	sectag_sim_close(self->sim);	/* owned reader and tags go */
}

static int poll_reader(struct sectag_nfc *nfc, uint32_t idx)
{
	return sectag_nfc_start_poll(nfc, idx, NFC_PROTO_ISO14443_MASK);
}

/*
 * Poll and wait for a target reported by this poll: the core keeps the
 * previous report's targets until the new one replaces them.
 */
static int poll_new_target(struct sectag_nfc *nfc, uint32_t dev,
			   int64_t after, struct sectag_nfc_target *tg)
{
	int rc, left;

	/* A deactivation may still be on its way from a close(). */
	for (left = 3000; (rc = poll_reader(nfc, dev)) == -EBUSY && left > 0;
	     left -= 10)
		test_sleep_ms(10);
	if (rc)
		return rc;
	return wait_for(sectag_nfc_wait_target(nfc, dev, 100, tg) == 0 &&
			(int64_t)tg->idx > after, 5000) ? 0 : -ETIMEDOUT;
}

static int set_param(const char *name, const char *val)
{
	char path[128];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/sys/module/nfc_sectag/parameters/%s",
		 name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	rc = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f))
		rc = -errno;
	return rc;
}

static long get_param(const char *name)
{
	char path[128], buf[32];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/sys/module/nfc_sectag/parameters/%s",
		 name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = buf[0] == 'Y' ? 1 : buf[0] == 'N' ? 0 : strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

/* Fork a child without any capability (nobody); its exit code. */
#define AS_NOBODY(body) ({					\
	int __st = -1;						\
	pid_t __pid = fork();					\
	if (__pid == 0) {					\
		if (setgid(65534) || setuid(65534))		\
			_exit(100);				\
		body;						\
		_exit(0);					\
	}							\
	if (__pid > 0 && waitpid(__pid, &__st, 0) == __pid &&	\
	    WIFEXITED(__st))					\
		__st = WEXITSTATUS(__st);			\
	else							\
		__st = -1;					\
	__st;							\
})

TEST_F(tags, born_virgin_with_nxp_uid)
{
	static const uint8_t uid[7] = { 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	struct sectag_sim_tag t, got;

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	EXPECT_EQ(0x04, t.uid[0]);
	EXPECT_EQ((uint32_t)NFC_SECTAG_PROFILE_NTAG424, t.profile);
	EXPECT_FALSE(t.personalised);
	EXPECT_FALSE(t.random_id);
	EXPECT_EQ(0U, t.fail_ctr);
	EXPECT_EQ(0U, t.reader_id);

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					uid, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, sectag_sim_tag_get(self->sim, t.id, &got));
	EXPECT_EQ(0, memcmp(uid, got.uid, 7));
	EXPECT_EQ(0, sectag_sim_tag_del(self->sim, t.id));
	EXPECT_EQ(-ENOENT, sectag_sim_tag_get(self->sim, t.id, &got));
}

/* The policy rejects what the kernel must never accept. */
TEST_F(tags, strict_policy)
{
	struct sectag_genl g;
	struct nl_msg *msg;
	uint8_t short_uid[4] = { 4, 1, 2, 3 };

	/* Netlink range checks answer ERANGE. */
	EXPECT_EQ(-ERANGE, sectag_sim_tag_add(self->sim, 0, NULL, 0, NULL));
	EXPECT_EQ(-ERANGE, sectag_sim_tag_add(self->sim, 77, NULL, 0, NULL));

	ASSERT_EQ(0, sectag_genl_open(&g, NFC_SECTAG_GENL_NAME));
	msg = sectag_genl_msg(&g, NFC_SECTAG_CMD_NEW_TAG, 0);
	nla_put_u32(msg, NFC_SECTAG_ATTR_PROFILE, NFC_SECTAG_PROFILE_NTAG424);
	nla_put(msg, NFC_SECTAG_ATTR_UID, sizeof(short_uid), short_uid);
	EXPECT_EQ(-ERANGE, sectag_genl_call(&g, msg, 0, NULL, NULL));

	/* Attributes only the kernel sends are refused on input. */
	msg = sectag_genl_msg(&g, NFC_SECTAG_CMD_NEW_TAG, 0);
	nla_put_u32(msg, NFC_SECTAG_ATTR_PROFILE, NFC_SECTAG_PROFILE_NTAG424);
	nla_put_u8(msg, NFC_SECTAG_ATTR_PERSONALISED, 1);
	EXPECT_EQ(-EINVAL, sectag_genl_call(&g, msg, 0, NULL, NULL));

	/* Missing required attributes. */
	msg = sectag_genl_msg(&g, NFC_SECTAG_CMD_PLACE_TAG, 0);
	nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, 1);
	EXPECT_EQ(-EINVAL, sectag_genl_call(&g, msg, 0, NULL, NULL));
	sectag_genl_close(&g);
}

TEST_F(tags, placed_tag_is_reported_as_iso_dep_target)
{
	struct sectag_nfc_target tg;
	struct sectag_sim_tag t;
	uint8_t r[300];
	size_t rlen;
	int fd;

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, poll_reader(self->nfc, self->reader.nfc_index));
	/* Nothing in the field yet. */
	EXPECT_EQ(-ETIMEDOUT, sectag_nfc_wait_target(self->nfc,
			self->reader.nfc_index, 200, &tg));

	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, t.id, self->reader.id));
	ASSERT_EQ(0, sectag_nfc_wait_target(self->nfc, self->reader.nfc_index,
					    3000, &tg));
	EXPECT_TRUE(!!(tg.protocols & NFC_PROTO_ISO14443_MASK));
	EXPECT_EQ(0x0344, tg.sens_res);
	EXPECT_EQ(0x20, tg.sel_res);
	ASSERT_EQ(7, tg.nfcid1_len);
	EXPECT_EQ(0, memcmp(t.uid, tg.nfcid1, 7));

	fd = sectag_nfc_connect(tg.dev_idx, tg.idx);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, sectag_nfc_transceive(fd, get_version,
					   sizeof(get_version), r, sizeof(r),
					   &rlen, 2000));
	ASSERT_EQ(9U, rlen);
	EXPECT_EQ(0x04, r[0]);		/* vendor NXP */
	EXPECT_EQ(0x91, r[7]);
	EXPECT_EQ(0xAF, r[8]);

	/* Lifted off while connected: the reader hears nothing more. */
	ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, t.id));
	EXPECT_NE(0, sectag_nfc_transceive(fd, get_version,
					   sizeof(get_version), r, sizeof(r),
					   &rlen, 2000));
	close(fd);
	EXPECT_EQ(-EALREADY, sectag_sim_tag_remove(self->sim, t.id));
}

/* A tag placed with a frame budget answers exactly that many frames. */
TEST_F(tags, leaves_the_field_after_n_frames)
{
	static const uint8_t more[] = { 0x90, 0xAF, 0x00, 0x00, 0x00 };
	struct sectag_nfc_target tg;
	struct sectag_sim_tag t, got;
	uint8_t r[300];
	size_t rlen;
	int fd;

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, poll_reader(self->nfc, self->reader.nfc_index));
	ASSERT_EQ(0, sectag_sim_tag_place_n(self->sim, t.id, self->reader.id,
					    2));
	ASSERT_EQ(0, sectag_nfc_wait_target(self->nfc, self->reader.nfc_index,
					    3000, &tg));
	fd = sectag_nfc_connect(tg.dev_idx, tg.idx);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, sectag_nfc_transceive(fd, get_version,
					   sizeof(get_version), r, sizeof(r),
					   &rlen, 2000));
	EXPECT_EQ(0, sectag_nfc_transceive(fd, more, sizeof(more), r,
					   sizeof(r), &rlen, 2000));
	/* The third frame finds no tag, and the simulator says it left. */
	EXPECT_NE(0, sectag_nfc_transceive(fd, more, sizeof(more), r,
					   sizeof(r), &rlen, 2000));
	close(fd);
	EXPECT_TRUE(wait_for(sectag_sim_tag_get(self->sim, t.id, &got) == 0 &&
			     got.reader_id == 0, 2000));

	/* A budget of zero frames is refused by the policy. */
	{
		struct sectag_genl g;
		struct nl_msg *msg;

		ASSERT_EQ(0, sectag_genl_open(&g, NFC_SECTAG_GENL_NAME));
		msg = sectag_genl_msg(&g, NFC_SECTAG_CMD_PLACE_TAG, 0);
		nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, t.id);
		nla_put_u32(msg, NFC_SECTAG_ATTR_READER_ID, self->reader.id);
		nla_put_u32(msg, NFC_SECTAG_ATTR_FRAMES_LEFT, 0);
		EXPECT_EQ(-ERANGE, sectag_genl_call(&g, msg, 0, NULL, NULL));
		sectag_genl_close(&g);
	}
}

/*
 * Several tags on one reader: one is reported per poll, as anticollision
 * selects one card, the same one every time (the first placed) until it
 * is lifted; then the other.
 */
TEST_F(tags, one_target_per_poll)
{
	struct sectag_nfc_target *tg, cur;
	struct sectag_sim_tag a, b;
	int64_t last = -1;
	uint8_t r[300];
	size_t rlen, n;
	int fd, i;

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &a));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &b));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, a.id, self->reader.id));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, b.id, self->reader.id));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, poll_new_target(self->nfc, self->reader.nfc_index,
					     last, &cur));
		last = cur.idx;
		ASSERT_EQ(0, sectag_nfc_targets(self->nfc,
						self->reader.nfc_index, &tg,
						&n));
		EXPECT_EQ(1U, n);
		free(tg);
		/* a, a, then b once a is gone */
		EXPECT_EQ(0, memcmp(cur.nfcid1, i < 2 ? a.uid : b.uid, 7));
		fd = sectag_nfc_connect(cur.dev_idx, cur.idx);
		ASSERT_GE(fd, 0);
		EXPECT_EQ(0, sectag_nfc_transceive(fd, get_version,
					sizeof(get_version), r, sizeof(r),
					&rlen, 2000));
		close(fd);
		if (i == 1)
			ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, a.id));
	}
}

/*
 * Lifting a tag that is not in use must not disturb the one that is: the
 * NFC core and the reader keep agreeing on the active target, the busy
 * connection goes on, and afterwards the reader polls again (no EBUSY
 * left behind) and finds the tag that remained, in a fresh session.
 */
TEST_F(tags, lifting_the_idle_tag_keeps_the_busy_one)
{
	static const uint8_t more[] = { 0x90, 0xAF, 0x00, 0x00, 0x00 };
	struct sectag_sim_tag a, b, *busy, *idle;
	struct sectag_nfc_target tg, again;
	uint8_t r[300];
	size_t rlen;
	int fd, k;

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &a));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &b));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, a.id, self->reader.id));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, b.id, self->reader.id));
	ASSERT_EQ(0, poll_new_target(self->nfc, self->reader.nfc_index, -1,
				     &tg));
	busy = !memcmp(tg.nfcid1, a.uid, 7) ? &a : &b;
	idle = busy == &a ? &b : &a;
	ASSERT_EQ(0, memcmp(tg.nfcid1, busy->uid, 7));

	fd = sectag_nfc_connect(tg.dev_idx, tg.idx);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, sectag_nfc_transceive(fd, get_version,
					   sizeof(get_version), r, sizeof(r),
					   &rlen, 2000));
	EXPECT_EQ(0xAF, r[rlen - 1]);

	ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, idle->id));
	/* The busy tag answers on: GetVersion parts 2 and 3. */
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, sectag_nfc_transceive(fd, more, sizeof(more), r,
						   sizeof(r), &rlen, 2000));
		ASSERT_GE(rlen, 2U);
		EXPECT_EQ(0x91, r[rlen - 2]);
		EXPECT_EQ(k ? 0x00 : 0xAF, r[rlen - 1]);
	}
	/* A command left half done, then the connection ends. */
	ASSERT_EQ(0, sectag_nfc_transceive(fd, get_version,
					   sizeof(get_version), r, sizeof(r),
					   &rlen, 2000));
	EXPECT_EQ(0xAF, r[rlen - 1]);
	close(fd);

	ASSERT_EQ(0, poll_new_target(self->nfc, self->reader.nfc_index,
				     tg.idx, &again));
	EXPECT_EQ(0, memcmp(again.nfcid1, busy->uid, 7));
	fd = sectag_nfc_connect(again.dev_idx, again.idx);
	ASSERT_GE(fd, 0);
	/* Nothing of the last session survives: no part 2 to continue. */
	ASSERT_EQ(0, sectag_nfc_transceive(fd, more, sizeof(more), r,
					   sizeof(r), &rlen, 2000));
	ASSERT_GE(rlen, 2U);
	EXPECT_NE(0xAF, r[rlen - 1]);
	ASSERT_EQ(0, sectag_nfc_transceive(fd, get_version,
					   sizeof(get_version), r, sizeof(r),
					   &rlen, 2000));
	EXPECT_EQ(0xAF, r[rlen - 1]);
	close(fd);
}

/* The core lets a connect reach a reader that is down: it must refuse. */
TEST_F(tags, no_activation_while_down)
{
	struct sectag_nfc_target tg;
	struct sectag_sim_tag t;
	uint8_t r[300];
	size_t rlen;
	int fd;

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, t.id, self->reader.id));
	ASSERT_EQ(0, poll_new_target(self->nfc, self->reader.nfc_index, -1,
				     &tg));
	/* The target stays listed by the core after the device goes down. */
	ASSERT_EQ(0, sectag_nfc_dev_down(self->nfc, self->reader.nfc_index));
	EXPECT_EQ(-ENODEV, sectag_nfc_connect(tg.dev_idx, tg.idx));

	ASSERT_EQ(0, sectag_nfc_dev_up(self->nfc, self->reader.nfc_index));
	fd = sectag_nfc_connect(tg.dev_idx, tg.idx);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, sectag_nfc_transceive(fd, get_version,
					   sizeof(get_version), r, sizeof(r),
					   &rlen, 2000));
	close(fd);
}

/* Only CAP_NET_ADMIN may connect to this module's readers, by default. */
TEST_F(tags, connect_needs_cap_net_admin)
{
	struct sectag_nfc_target tg;
	struct sectag_sim_tag t;
	int st;

	ASSERT_EQ(1, get_param("restrict_connect"));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, t.id, self->reader.id));
	ASSERT_EQ(0, poll_new_target(self->nfc, self->reader.nfc_index, -1,
				     &tg));

	st = AS_NOBODY({
		int fd = sectag_nfc_connect(tg.dev_idx, tg.idx);

		if (fd >= 0)
			_exit(1);
		if (fd != -EPERM)
			_exit(2);
	});
	EXPECT_EQ(0, st);

	/* With the parameter off, anybody may (the NFC core's default). */
	ASSERT_EQ(0, set_param("restrict_connect", "0"));
	st = AS_NOBODY({
		uint8_t r[300];
		size_t rlen;
		int fd = sectag_nfc_connect(tg.dev_idx, tg.idx);

		if (fd < 0)
			_exit(3);
		if (sectag_nfc_transceive(fd, get_version,
					  sizeof(get_version), r, sizeof(r),
					  &rlen, 2000) || rlen != 9)
			_exit(4);
		close(fd);
	});
	ASSERT_EQ(0, set_param("restrict_connect", "1"));
	EXPECT_EQ(0, st);
	EXPECT_EQ(1, get_param("restrict_connect"));
}

/* NEW_TAG refuses UIDs no NTAG 424 DNA can have. */
TEST_F(tags, refuses_invalid_uids)
{
	static const uint8_t zero[7];
	static const uint8_t not_nxp[7] = { 0x05, 1, 2, 3, 4, 5, 6 };
	static const uint8_t ct0[7] = { 0x88, 1, 2, 3, 4, 5, 6 };
	static const uint8_t ct3[7] = { 0x04, 1, 2, 0x88, 4, 5, 6 };
	static const uint8_t foreign[7] = { 0x08, 1, 2, 3, 4, 5, 6 };
	struct sectag_sim *card;
	struct sectag_sim_tag t;

	EXPECT_EQ(-EINVAL, sectag_sim_tag_add(self->sim,
			NFC_SECTAG_PROFILE_NTAG424, zero, NFC_SECTAG_F_OWNED,
			&t));
	EXPECT_EQ(-EINVAL, sectag_sim_tag_add(self->sim,
			NFC_SECTAG_PROFILE_NTAG424, not_nxp,
			NFC_SECTAG_F_OWNED, &t));
	EXPECT_EQ(-EINVAL, sectag_sim_tag_add(self->sim,
			NFC_SECTAG_PROFILE_NTAG424, ct0, NFC_SECTAG_F_OWNED,
			&t));
	EXPECT_EQ(-EINVAL, sectag_sim_tag_add(self->sim,
			NFC_SECTAG_PROFILE_NTAG424, ct3, NFC_SECTAG_F_OWNED,
			&t));

	/* A relay card may be anybody's, but not all zero. */
	ASSERT_EQ(0, sectag_sim_open(&card));
	EXPECT_EQ(-EINVAL, sectag_sim_tag_add(card, NFC_SECTAG_PROFILE_RELAY,
					      zero, 0, &t));
	EXPECT_EQ(0, sectag_sim_tag_add(card, NFC_SECTAG_PROFILE_RELAY,
					foreign, 0, &t));
	EXPECT_EQ(0, memcmp(foreign, t.uid, 7));
	sectag_sim_close(card);

	/* Random UIDs never hit the rules either. */
	for (int i = 0; i < 64; i++) {
		ASSERT_EQ(0, sectag_sim_tag_add(self->sim,
				NFC_SECTAG_PROFILE_NTAG424, NULL,
				NFC_SECTAG_F_OWNED, &t));
		EXPECT_EQ(0x04, t.uid[0]);
		EXPECT_NE(0x88, t.uid[3]);
		EXPECT_EQ(0, sectag_sim_tag_del(self->sim, t.id));
	}
}

TEST_F(tags, one_reader_at_a_time)
{
	struct sectag_sim_reader other;
	struct sectag_sim_tag t;

	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, NFC_SECTAG_F_OWNED,
					   &other));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	EXPECT_EQ(-ENODEV, sectag_sim_tag_place(self->sim, t.id, 999999));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, t.id, self->reader.id));
	EXPECT_EQ(-EBUSY, sectag_sim_tag_place(self->sim, t.id, other.id));

	/* Deleting the reader lifts the tag off; the tag lives on. */
	ASSERT_EQ(0, sectag_sim_reader_del(self->sim, self->reader.id));
	ASSERT_EQ(0, sectag_sim_tag_get(self->sim, t.id, &t));
	EXPECT_EQ(0U, t.reader_id);
	EXPECT_EQ(0, sectag_sim_tag_place(self->sim, t.id, other.id));
	ASSERT_EQ(0, sectag_sim_tag_get(self->sim, t.id, &t));
	EXPECT_EQ(other.id, t.reader_id);
	/* so the fixture's teardown has a reader to close with */
	self->reader = other;
}

TEST_F(tags, owned_tag_dies_with_its_socket)
{
	struct sectag_sim *other;
	struct sectag_sim_tag t, got;

	ASSERT_EQ(0, sectag_sim_open(&other));
	ASSERT_EQ(0, sectag_sim_tag_add(other, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, sectag_sim_tag_place(other, t.id, self->reader.id));
	sectag_sim_close(other);
	EXPECT_TRUE(wait_for(sectag_sim_tag_get(self->sim, t.id, &got) ==
			     -ENOENT, 3000));
}

/* Relay tags: this test is the card, answering over netlink. */
struct relay_card {
	struct sectag_sim *sim;
	int frames;
	int mode;		/* 0 answer, 1 silence, 2 no answer at all */
};

static void *relay_card(void *arg)
{
	static const uint8_t ok[] = { 0xCA, 0xFE, 0x90, 0x00 };
	struct relay_card *c = arg;
	struct sectag_sim_frame f;

	while (!sectag_sim_relay_recv(c->sim, &f, 3000)) {
		c->frames++;
		if (c->mode == 0)
			sectag_sim_relay_answer(c->sim, f.tag_id, f.cookie, ok,
						sizeof(ok), 0);
		else if (c->mode == 1)
			sectag_sim_relay_answer(c->sim, f.tag_id, f.cookie,
						NULL, 0, ETIMEDOUT);
	}
	return NULL;
}

TEST_F(tags, relay_tag_answers_from_userspace)
{
	struct relay_card card = { 0 };
	struct sectag_nfc_target tg;
	struct sectag_sim_tag t;
	pthread_t th;
	uint8_t r[300];
	size_t rlen;
	int fd, mode;

	ASSERT_EQ(0, sectag_sim_open(&card.sim));
	ASSERT_EQ(0, sectag_sim_tag_add(card.sim, NFC_SECTAG_PROFILE_RELAY,
					NULL, 0, &t));
	EXPECT_TRUE(!!(t.flags & NFC_SECTAG_F_OWNED));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, t.id, self->reader.id));
	ASSERT_EQ(0, poll_reader(self->nfc, self->reader.nfc_index));
	ASSERT_EQ(0, sectag_nfc_wait_target(self->nfc, self->reader.nfc_index,
					    3000, &tg));
	EXPECT_EQ(0, memcmp(t.uid, tg.nfcid1, 7));
	fd = sectag_nfc_connect(tg.dev_idx, tg.idx);
	ASSERT_GE(fd, 0);

	for (mode = 0; mode < 3; mode++) {
		card.mode = mode;
		card.frames = 0;
		ASSERT_EQ(0, pthread_create(&th, NULL, relay_card, &card));
		rlen = 0;
		if (mode == 0) {
			ASSERT_EQ(0, sectag_nfc_transceive(fd, get_version,
					sizeof(get_version), r, sizeof(r),
					&rlen, 3000));
			ASSERT_EQ(4U, rlen);
			EXPECT_EQ(0xCA, r[0]);
			EXPECT_EQ(0x00, r[3]);
		} else {
			/* Silence or no answer: the reader sees a dead card. */
			EXPECT_NE(0, sectag_nfc_transceive(fd, get_version,
					sizeof(get_version), r, sizeof(r),
					&rlen, 3000));
			close(fd);
			fd = -1;
		}
		pthread_join(th, NULL);
		EXPECT_EQ(1, card.frames);
		if (fd < 0 && mode < 2) {
			/* An error ends the socket's session: reconnect. */
			ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, t.id));
			ASSERT_EQ(0, sectag_sim_tag_place(self->sim, t.id,
							  self->reader.id));
			ASSERT_EQ(0, poll_reader(self->nfc,
						 self->reader.nfc_index));
			ASSERT_EQ(0, sectag_nfc_wait_target(self->nfc,
					self->reader.nfc_index, 3000, &tg));
			fd = sectag_nfc_connect(tg.dev_idx, tg.idx);
			ASSERT_GE(fd, 0);
		}
	}
	if (fd >= 0)
		close(fd);
	/* A relay tag without its owner is gone. */
	sectag_sim_close(card.sim);
	EXPECT_TRUE(wait_for(sectag_sim_tag_get(self->sim, t.id, &t) ==
			     -ENOENT, 3000));
}

TEST_F(tags, relay_answers_only_from_owner)
{
	struct sectag_sim *owner;
	struct sectag_sim_tag t;
	struct sectag_genl g;
	struct nl_msg *msg;
	uint8_t frame[2] = { 0x90, 0x00 };

	ASSERT_EQ(0, sectag_sim_open(&owner));
	ASSERT_EQ(0, sectag_sim_tag_add(owner, NFC_SECTAG_PROFILE_RELAY,
					NULL, 0, &t));
	ASSERT_EQ(0, sectag_genl_open(&g, NFC_SECTAG_GENL_NAME));
	msg = sectag_genl_msg(&g, NFC_SECTAG_CMD_RELAY_FRAME, 0);
	nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, t.id);
	nla_put_u64(msg, NFC_SECTAG_ATTR_COOKIE, 1);
	nla_put(msg, NFC_SECTAG_ATTR_FRAME, sizeof(frame), frame);
	EXPECT_EQ(-EPERM, sectag_genl_call(&g, msg, 0, NULL, NULL));
	/* Both a frame and an errno: ambiguous, refused. */
	msg = sectag_genl_msg(&g, NFC_SECTAG_CMD_RELAY_FRAME, 0);
	nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, t.id);
	nla_put_u64(msg, NFC_SECTAG_ATTR_COOKIE, 1);
	nla_put(msg, NFC_SECTAG_ATTR_FRAME, sizeof(frame), frame);
	nla_put_u32(msg, NFC_SECTAG_ATTR_ERRNO, 5);
	EXPECT_EQ(-EINVAL, sectag_genl_call(&g, msg, 0, NULL, NULL));
	sectag_genl_close(&g);
	sectag_sim_close(owner);
}

/* relay_timeout_ms is clamped to 10..10000 ms. */
TEST(relay_timeout_clamped)
{
	long old = get_param("relay_timeout_ms");

	ASSERT_GT(old, 0);
	ASSERT_EQ(0, set_param("relay_timeout_ms", "0"));
	EXPECT_EQ(10, get_param("relay_timeout_ms"));
	ASSERT_EQ(0, set_param("relay_timeout_ms", "4000000000"));
	EXPECT_EQ(10000, get_param("relay_timeout_ms"));
	ASSERT_EQ(0, set_param("relay_timeout_ms", "2500"));
	EXPECT_EQ(2500, get_param("relay_timeout_ms"));
	EXPECT_NE(0, set_param("relay_timeout_ms", "soon"));
	EXPECT_EQ(2500, get_param("relay_timeout_ms"));
	ASSERT_EQ(0, set_param("relay_timeout_ms", "1000"));
}

struct pending_xfer {
	int fd;
	int rc;
	int64_t ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void *xfer_thread(void *arg)
{
	struct pending_xfer *x = arg;
	int64_t t0 = mono_ms();
	uint8_t r[300];
	size_t rlen;

	x->rc = sectag_nfc_transceive(x->fd, get_version, sizeof(get_version),
				      r, sizeof(r), &rlen, 20000);
	x->ms = mono_ms() - t0;
	return NULL;
}

/*
 * A relay exchange waits for its owner at most relay_timeout_ms, and not
 * at all once the tag is lifted or its owner's socket is closed. The
 * timeout is set to its maximum, 10 s: the exchange must end long before.
 */
TEST_F(tags, relay_wait_ends_with_the_tag_or_its_owner)
{
	struct sectag_sim *card;
	struct sectag_sim_frame f;
	struct pending_xfer x;
	struct sectag_nfc_target tg;
	struct sectag_sim_tag t, got;
	pthread_t th;
	int round;

	ASSERT_EQ(0, set_param("relay_timeout_ms", "10000"));
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, sectag_sim_open(&card));
		ASSERT_EQ(0, sectag_sim_tag_add(card, NFC_SECTAG_PROFILE_RELAY,
						NULL, 0, &t));
		ASSERT_EQ(0, sectag_sim_tag_place(self->sim, t.id,
						  self->reader.id));
		ASSERT_EQ(0, poll_new_target(self->nfc,
					     self->reader.nfc_index, -1, &tg));
		x.fd = sectag_nfc_connect(tg.dev_idx, tg.idx);
		ASSERT_GE(x.fd, 0);
		ASSERT_EQ(0, pthread_create(&th, NULL, xfer_thread, &x));
		/* The frame is out: the kernel now waits for the card. */
		ASSERT_EQ(0, sectag_sim_relay_recv(card, &f, 10000));
		EXPECT_EQ(t.id, f.tag_id);
		if (round == 0) {
			ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, t.id));
			sectag_sim_close(card);
		} else {
			/* Closing the owner takes the tag at once. */
			sectag_sim_close(card);
			EXPECT_EQ(-ENOENT, sectag_sim_tag_get(self->sim, t.id,
							      &got));
		}
		pthread_join(th, NULL);
		EXPECT_NE(0, x.rc);
		EXPECT_LT(x.ms, 8000) {
			TH_LOG("the exchange waited %lld ms", (long long)x.ms);
		}
		close(x.fd);
	}
	ASSERT_EQ(0, set_param("relay_timeout_ms", "1000"));
}

/*
 * Ownership is the socket's, not its portid's: a socket that binds the
 * portid of a closed owner owns nothing of the old one's, and what it
 * creates itself is not taken down with the old socket. Closing an owner
 * destroys its objects before close() returns.
 */
static int open_at_port(struct sectag_genl *g, uint32_t port)
{
	g->sk = nl_socket_alloc();
	if (!g->sk)
		return -ENOMEM;
	if (port)
		nl_socket_set_local_port(g->sk, port);
	if (genl_connect(g->sk) < 0)
		goto err;
	g->family = genl_ctrl_resolve(g->sk, NFC_SECTAG_GENL_NAME);
	if (g->family < 0)
		goto err;
	return 0;
err:
	nl_socket_free(g->sk);
	g->sk = NULL;
	return -EIO;
}

static int id_of(struct nlattr **tb, uint8_t cmd, void *arg)
{
	(void)cmd;
	if (tb[NFC_SECTAG_ATTR_TAG_ID])
		*(uint32_t *)arg = nla_get_u32(tb[NFC_SECTAG_ATTR_TAG_ID]);
	return 0;
}

static int new_owned_tag(struct sectag_genl *g, uint32_t profile,
			 uint32_t *id)
{
	struct nl_msg *msg = sectag_genl_msg(g, NFC_SECTAG_CMD_NEW_TAG, 0);

	nla_put_u32(msg, NFC_SECTAG_ATTR_PROFILE, profile);
	nla_put_u32(msg, NFC_SECTAG_ATTR_FLAGS, NFC_SECTAG_F_OWNED);
	*id = 0;
	return sectag_genl_call(g, msg, NFC_SECTAG_ATTR_MAX, id_of, id);
}

TEST_F(tags, portid_reuse_is_not_ownership)
{
	struct sectag_genl a, b;
	struct sectag_sim_tag got;
	uint32_t port, old_relay, old_tag, new_relay, new_tag;
	struct nl_msg *msg;
	int i;

	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, open_at_port(&a, 0));
		port = nl_socket_get_local_port(a.sk);
		ASSERT_EQ(0, new_owned_tag(&a, NFC_SECTAG_PROFILE_RELAY,
					   &old_relay));
		ASSERT_EQ(0, new_owned_tag(&a, NFC_SECTAG_PROFILE_NTAG424,
					   &old_tag));
		sectag_genl_close(&a);
		/* Gone when close() returns, no deferred teardown. */
		EXPECT_EQ(-ENOENT, sectag_sim_tag_get(self->sim, old_relay,
						      &got));
		EXPECT_EQ(-ENOENT, sectag_sim_tag_get(self->sim, old_tag,
						      &got));

		/* Another socket takes the portid at once. */
		ASSERT_EQ(0, open_at_port(&b, port));
		ASSERT_EQ(port, nl_socket_get_local_port(b.sk));
		ASSERT_EQ(0, new_owned_tag(&b, NFC_SECTAG_PROFILE_RELAY,
					   &new_relay));
		ASSERT_EQ(0, new_owned_tag(&b, NFC_SECTAG_PROFILE_NTAG424,
					   &new_tag));
		/* It may not answer for the old relay tag. */
		msg = sectag_genl_msg(&b, NFC_SECTAG_CMD_RELAY_FRAME, 0);
		nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, old_relay);
		nla_put_u64(msg, NFC_SECTAG_ATTR_COOKIE, 1);
		nla_put_u32(msg, NFC_SECTAG_ATTR_ERRNO, 5);
		EXPECT_EQ(-ENOENT, sectag_genl_call(&b, msg, 0, NULL, NULL));
		/* Its own objects live as long as it does. */
		EXPECT_EQ(0, sectag_sim_tag_get(self->sim, new_relay, &got));
		EXPECT_EQ(0, sectag_sim_tag_get(self->sim, new_tag, &got));
		sectag_genl_close(&b);
		EXPECT_EQ(-ENOENT, sectag_sim_tag_get(self->sim, new_relay,
						      &got));
		EXPECT_EQ(-ENOENT, sectag_sim_tag_get(self->sim, new_tag,
						      &got));
	}
}

/*
 * Lifecycle storm: exchanges run while other threads place, remove and
 * delete tags and readers; the module is unloaded in the middle of it.
 */
static volatile int storm_stop;

static void *storm_exchange(void *arg)
{
	struct sectag_nfc *nfc = NULL;
	struct sectag_nfc_dev *devs;
	struct sectag_nfc_target tg;
	uint8_t r[300];
	size_t n, i, rlen;
	long frames = 0;
	int fd, k;

	(void)arg;
	while (!storm_stop) {
		if (!nfc && sectag_nfc_open(&nfc)) {
			nfc = NULL;
			continue;
		}
		if (sectag_nfc_list(nfc, &devs, &n))
			continue;
		for (i = 0; i < n && !storm_stop; i++) {
			sectag_nfc_dev_up(nfc, devs[i].idx);
			sectag_nfc_start_poll(nfc, devs[i].idx,
					      NFC_PROTO_ISO14443_MASK);
			if (sectag_nfc_wait_target(nfc, devs[i].idx, 50, &tg))
				continue;
			fd = sectag_nfc_connect(tg.dev_idx, tg.idx);
			if (fd < 0)
				continue;
			for (k = 0; k < 20; k++) {
				if (sectag_nfc_transceive(fd, get_version,
						sizeof(get_version), r,
						sizeof(r), &rlen, 500))
					break;
				frames++;
			}
			close(fd);
		}
		free(devs);
	}
	sectag_nfc_close(nfc);
	return (void *)frames;
}

static void *storm_churn(void *arg)
{
	struct sectag_sim *sim = NULL;
	struct sectag_sim_reader r;
	struct sectag_sim_tag t[3];
	long ops = 0;
	int i;

	(void)arg;
	while (!storm_stop) {
		if (!sim && sectag_sim_open(&sim)) {
			sim = NULL;
			continue;
		}
		if (sectag_sim_reader_add(sim, NFC_SECTAG_F_OWNED, &r))
			goto reopen;
		for (i = 0; i < 3; i++) {
			if (sectag_sim_tag_add(sim, NFC_SECTAG_PROFILE_NTAG424,
					       NULL, NFC_SECTAG_F_OWNED, &t[i]))
				goto reopen;
			sectag_sim_tag_place(sim, t[i].id, r.id);
		}
		test_sleep_ms(20 + ops % 30);
		sectag_sim_tag_remove(sim, t[0].id);
		sectag_sim_tag_del(sim, t[1].id);
		if (ops % 2)
			sectag_sim_reader_del(sim, r.id);
		ops++;
reopen:
		/* Closing the socket takes whatever is left with it. */
		if (ops % 4 == 0 || storm_stop) {
			sectag_sim_close(sim);
			sim = NULL;
		}
	}
	sectag_sim_close(sim);
	return (void *)ops;
}

TEST(lifecycle_storm)
{
	pthread_t ex[2], ch[2];
	long frames = 0, ops = 0;
	void *v;
	int round, i;

	for (round = 0; round < 4; round++) {
		storm_stop = 0;
		for (i = 0; i < 2; i++) {
			ASSERT_EQ(0, pthread_create(&ex[i], NULL,
						    storm_exchange, NULL));
			ASSERT_EQ(0, pthread_create(&ch[i], NULL,
						    storm_churn, NULL));
		}
		test_sleep_ms(1500);
		if (round % 2)
			ASSERT_EQ(0, system("rmmod nfc_sectag"));
		test_sleep_ms(200);
		storm_stop = 1;
		for (i = 0; i < 2; i++) {
			pthread_join(ex[i], &v);
			frames += (long)v;
			pthread_join(ch[i], &v);
			ops += (long)v;
		}
		if (round % 2)
			ASSERT_EQ(0, test_reload_module());
	}
	TH_LOG("%ld frames exchanged, %ld churn rounds", frames, ops);
	EXPECT_GT(frames, 0);
	EXPECT_GT(ops, 0);
}

TEST_HARNESS_MAIN
