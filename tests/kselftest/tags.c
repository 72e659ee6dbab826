// SPDX-License-Identifier: GPL-2.0
/*
 * Tags and the NFC core: creation, placement, target reports, exchanges
 * over AF_NFC, removal while connected, relay tags, and a lifecycle storm.
 */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

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

TEST_F(tags, two_tags_on_one_reader)
{
	struct sectag_nfc_target *tg;
	struct sectag_sim_tag a, b;
	struct sectag_nfc_target first;
	size_t n, i, seen = 0;
	uint8_t r[300];
	size_t rlen;
	int fd;

	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &a));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &b));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, a.id, self->reader.id));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, b.id, self->reader.id));
	ASSERT_EQ(0, poll_reader(self->nfc, self->reader.nfc_index));
	ASSERT_EQ(0, sectag_nfc_wait_target(self->nfc, self->reader.nfc_index,
					    3000, &first));
	ASSERT_EQ(0, sectag_nfc_targets(self->nfc, self->reader.nfc_index,
					&tg, &n));
	ASSERT_EQ(2U, n);
	for (i = 0; i < n; i++) {
		if (!memcmp(tg[i].nfcid1, a.uid, 7) ||
		    !memcmp(tg[i].nfcid1, b.uid, 7))
			seen++;
		/* One at a time: each can be connected and answers. */
		fd = sectag_nfc_connect(tg[i].dev_idx, tg[i].idx);
		ASSERT_GE(fd, 0);
		EXPECT_EQ(0, sectag_nfc_transceive(fd, get_version,
					sizeof(get_version), r, sizeof(r),
					&rlen, 2000));
		close(fd);
	}
	free(tg);
	EXPECT_EQ(2U, seen);
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
