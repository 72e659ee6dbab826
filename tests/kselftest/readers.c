// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual readers: lifecycle through both generic netlink families,
 * permissions, socket ownership, polling, and module unload under load.
 */
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "genl.h"
#include "helpers.h"

FIXTURE(readers) {
	struct sectag_sim *sim;
	struct sectag_nfc *nfc;
};

FIXTURE_SETUP(readers)
{
	ASSERT_EQ(0, sectag_sim_open(&self->sim));
	ASSERT_EQ(0, sectag_nfc_open(&self->nfc));
}

FIXTURE_TEARDOWN(readers)
{
	sectag_nfc_close(self->nfc);
	sectag_sim_close(self->sim);
}

/* Readers not owned by a socket: the ones nr_readers created, or -1. */
static int unowned_readers(void)
{
	struct sectag_sim *sim;
	struct sectag_sim_reader *r;
	size_t n, i;
	int unowned = 0;

	if (sectag_sim_open(&sim))
		return -1;
	if (sectag_sim_reader_list(sim, &r, &n)) {
		sectag_sim_close(sim);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!(r[i].flags & NFC_SECTAG_F_OWNED))
			unowned++;
	free(r);
	sectag_sim_close(sim);
	return unowned;
}

/* nr_readers=2 creates two; by default the module creates none. */
TEST(created_at_load)
{
	ASSERT_EQ(0, test_reload_module_args("nr_readers=2"));
	EXPECT_EQ(2, unowned_readers());
	ASSERT_EQ(0, test_reload_module());
	EXPECT_EQ(0, unowned_readers());
}

TEST_F(readers, lifecycle_both_families)
{
	struct sectag_sim_reader r, got;
	struct sectag_nfc_dev dev;
	char name[16];

	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, 0, &r));
	EXPECT_NE(0U, r.id);
	snprintf(name, sizeof(name), "nfc%u", r.nfc_index);
	EXPECT_STREQ(name, r.name);
	EXPECT_FALSE(r.powered);

	ASSERT_EQ(0, sectag_sim_reader_get(self->sim, r.id, &got));
	EXPECT_EQ(r.nfc_index, got.nfc_index);

	/* The standard NFC API sees an ordinary ISO 14443-A reader. */
	ASSERT_EQ(0, sectag_nfc_get(self->nfc, r.nfc_index, &dev));
	EXPECT_STREQ(name, dev.name);
	EXPECT_TRUE(!!(dev.protocols & NFC_PROTO_ISO14443_MASK));

	ASSERT_EQ(0, sectag_sim_reader_del(self->sim, r.id));
	EXPECT_FALSE(sim_has_reader(self->sim, r.id));
	EXPECT_FALSE(nfc_has_dev(self->nfc, r.nfc_index));
	EXPECT_EQ(-ENODEV, sectag_sim_reader_del(self->sim, r.id));
}

TEST_F(readers, dump_lists_every_reader)
{
	struct sectag_sim_reader a[5], *list;
	size_t n, i, j, seen = 0;

	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, sectag_sim_reader_add(self->sim, 0, &a[i]));
	ASSERT_EQ(0, sectag_sim_reader_list(self->sim, &list, &n));
	for (i = 0; i < 5; i++)
		for (j = 0; j < n; j++)
			if (list[j].id == a[i].id)
				seen++;
	free(list);
	EXPECT_EQ((size_t)5, seen);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0, sectag_sim_reader_del(self->sim, a[i].id));
}

TEST_F(readers, events_multicast)
{
	struct nlattr *tb[NFC_SECTAG_ATTR_MAX + 1];
	struct sectag_sim_reader r;
	struct sectag_genl ev;
	struct nl_msg *msg;
	struct sockaddr_nl peer;
	unsigned char *buf = NULL;
	int len;
	uint8_t cmd = 0;

	ASSERT_EQ(0, sectag_genl_open(&ev, NFC_SECTAG_GENL_NAME));
	ASSERT_EQ(0, sectag_genl_subscribe(&ev, NFC_SECTAG_GENL_NAME,
					   NFC_SECTAG_GENL_MCGRP_EVENTS));
	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, 0, &r));

	len = nl_recv(ev.sk, &peer, &buf, NULL);
	ASSERT_GT(len, 0);
	msg = nlmsg_convert((struct nlmsghdr *)buf);
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, sectag_genl_parse(msg, NFC_SECTAG_ATTR_MAX, tb, &cmd));
	EXPECT_EQ(NFC_SECTAG_CMD_NEW_READER, (int)cmd);
	ASSERT_NE(NULL, tb[NFC_SECTAG_ATTR_READER_ID]);
	EXPECT_EQ(r.id, nla_get_u32(tb[NFC_SECTAG_ATTR_READER_ID]));
	nlmsg_free(msg);
	free(buf);

	EXPECT_EQ(0, sectag_sim_reader_del(self->sim, r.id));
	sectag_genl_close(&ev);
}

/* A child without privileges: EPERM for changes, reading is allowed. */
TEST_F(readers, unprivileged_gets_eperm)
{
	struct sectag_sim_reader r;
	int status;
	pid_t pid;

	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, 0, &r));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct sectag_sim *sim;
		struct sectag_sim_reader *list, tmp;
		size_t n;

		if (setgid(65534) || setuid(65534) || sectag_sim_open(&sim))
			_exit(10);
		if (sectag_sim_reader_add(sim, 0, &tmp) != -EPERM)
			_exit(11);
		if (sectag_sim_reader_del(sim, r.id) != -EPERM)
			_exit(12);
		if (sectag_sim_tag_add(sim, NFC_SECTAG_PROFILE_NTAG424, NULL,
				       0, NULL) != -EPERM)
			_exit(13);
		if (sectag_sim_reader_list(sim, &list, &n))
			_exit(14);
		free(list);
		sectag_sim_close(sim);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(sim_has_reader(self->sim, r.id));
	EXPECT_EQ(0, sectag_sim_reader_del(self->sim, r.id));
}

TEST_F(readers, owned_reader_dies_with_its_socket)
{
	struct sectag_sim_reader owned, kept;
	struct sectag_sim *other;

	ASSERT_EQ(0, sectag_sim_open(&other));
	ASSERT_EQ(0, sectag_sim_reader_add(other, NFC_SECTAG_F_OWNED, &owned));
	ASSERT_EQ(0, sectag_sim_reader_add(other, 0, &kept));
	EXPECT_TRUE(!!(owned.flags & NFC_SECTAG_F_OWNED));
	sectag_sim_close(other);

	EXPECT_TRUE(wait_for(!sim_has_reader(self->sim, owned.id), 3000));
	EXPECT_TRUE(wait_for(!nfc_has_dev(self->nfc, owned.nfc_index), 3000));
	/* Only owned objects go. */
	EXPECT_TRUE(sim_has_reader(self->sim, kept.id));
	EXPECT_EQ(0, sectag_sim_reader_del(self->sim, kept.id));
}

TEST_F(readers, rejects_unknown_flags)
{
	struct sectag_sim_reader r;

	EXPECT_EQ(-EINVAL, sectag_sim_reader_add(self->sim, 0x80, &r));
}

TEST_F(readers, power_and_poll)
{
	struct sectag_sim_reader r, got;
	struct sectag_nfc_dev dev;

	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, 0, &r));
	/* A reader that is off cannot poll. */
	EXPECT_NE(0, sectag_nfc_start_poll(self->nfc, r.nfc_index,
					   NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, sectag_nfc_dev_up(self->nfc, r.nfc_index));
	ASSERT_EQ(0, sectag_nfc_get(self->nfc, r.nfc_index, &dev));
	EXPECT_TRUE(dev.powered);

	/* Only reader mode ISO 14443 is simulated. */
	EXPECT_EQ(-EPROTONOSUPPORT,
		  sectag_nfc_start_poll(self->nfc, r.nfc_index,
					NFC_PROTO_FELICA_MASK));
	ASSERT_EQ(0, sectag_nfc_start_poll(self->nfc, r.nfc_index,
					   NFC_PROTO_ISO14443_MASK));
	ASSERT_EQ(0, sectag_sim_reader_get(self->sim, r.id, &got));
	EXPECT_TRUE(got.powered);
	EXPECT_TRUE(got.polling);
	EXPECT_EQ(-EBUSY, sectag_nfc_start_poll(self->nfc, r.nfc_index,
						NFC_PROTO_ISO14443_MASK));
	/* The core refuses to power down a polling device. */
	EXPECT_EQ(-EBUSY, sectag_nfc_dev_down(self->nfc, r.nfc_index));

	ASSERT_EQ(0, sectag_nfc_stop_poll(self->nfc, r.nfc_index));
	ASSERT_EQ(0, sectag_sim_reader_get(self->sim, r.id, &got));
	EXPECT_FALSE(got.polling);
	ASSERT_EQ(0, sectag_nfc_dev_down(self->nfc, r.nfc_index));
	ASSERT_EQ(0, sectag_sim_reader_get(self->sim, r.id, &got));
	EXPECT_FALSE(got.powered);

	/* Deleting a polling reader is fine too. */
	ASSERT_EQ(0, sectag_nfc_dev_up(self->nfc, r.nfc_index));
	ASSERT_EQ(0, sectag_nfc_start_poll(self->nfc, r.nfc_index,
					   NFC_PROTO_ISO14443_MASK));
	EXPECT_EQ(0, sectag_sim_reader_del(self->sim, r.id));
	EXPECT_FALSE(nfc_has_dev(self->nfc, r.nfc_index));
}

/*
 * The pn533 personality (NFC_SECTAG_F_PN533): what Debian 6.1's pn533
 * driver does when a tag leaves, against our usual reader as a control.
 */
static const uint8_t select_app[] = { 0x00, 0xA4, 0x04, 0x0C, 0x07, 0xD2,
				      0x76, 0x00, 0x00, 0x85, 0x01, 0x01 };

struct lost_count {
	uint32_t dev;
	int n;
};

static void count_lost(const struct sectag_nfc_event *ev, void *arg)
{
	struct lost_count *c = arg;

	if (ev->type == SECTAG_NFC_EV_TARGET_LOST && ev->dev_idx == c->dev)
		c->n++;
}

/*
 * TARGET_LOST events of @dev within @ms, returning at the first one when
 * @until_one is set. Events that came before are counted too.
 */
static int lost_events(struct sectag_nfc *nfc, uint32_t dev, int ms,
		       bool until_one)
{
	struct pollfd pfd = { .fd = sectag_nfc_event_fd(nfc),
			      .events = POLLIN };
	struct lost_count c = { .dev = dev };
	struct timespec t0, t;
	int left = ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (sectag_nfc_read_events(nfc, count_lost, &c))
			return -1;
		if ((until_one && c.n) || left <= 0)
			return c.n;
		poll(&pfd, 1, left);
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
				  (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
}

static bool core_lists(struct sectag_nfc *nfc, uint32_t dev, uint32_t idx)
{
	struct sectag_nfc_target *v;
	bool found = false;
	size_t i, n;

	if (sectag_nfc_targets(nfc, dev, &v, &n))
		return false;
	for (i = 0; i < n; i++)
		found |= v[i].idx == idx;
	free(v);
	return found;
}

/* Poll @r and wait for a target newer than @after with @tag_id placed. */
static int place_and_find(struct sectag_sim *sim, struct sectag_nfc *nfc,
			  const struct sectag_sim_reader *r, uint32_t tag_id,
			  int64_t after, struct sectag_nfc_target *tg)
{
	int rc = sectag_nfc_start_poll(nfc, r->nfc_index,
				       NFC_PROTO_ISO14443_MASK);

	if (rc)
		return rc;
	rc = sectag_sim_tag_place(sim, tag_id, r->id);
	if (rc)
		return rc;
	return wait_for(sectag_nfc_wait_target(nfc, r->nfc_index, 100,
					       tg) == 0 &&
			(int64_t)tg->idx > after, 5000) ? 0 : -ETIMEDOUT;
}

/* Control: our reader reports a lifted tag at once. */
TEST_F(readers, lifted_tag_is_reported_lost)
{
	struct sectag_nfc_target tg;
	struct sectag_sim_reader r;
	struct sectag_sim_tag t;
	uint8_t resp[64];
	size_t rlen;
	int fd;

	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, NFC_SECTAG_F_OWNED, &r));
	EXPECT_FALSE(!!(r.flags & NFC_SECTAG_F_PN533));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, sectag_nfc_dev_up(self->nfc, r.nfc_index));
	ASSERT_EQ(0, place_and_find(self->sim, self->nfc, &r, t.id, -1, &tg));
	fd = sectag_nfc_connect(r.nfc_index, tg.idx);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, sectag_nfc_transceive(fd, select_app, sizeof(select_app),
					   resp, sizeof(resp), &rlen, 2000));
	EXPECT_EQ(0, lost_events(self->nfc, r.nfc_index, 0, false));

	ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, t.id));
	EXPECT_EQ(1, lost_events(self->nfc, r.nfc_index, 3000, true));
	EXPECT_FALSE(core_lists(self->nfc, r.nfc_index, tg.idx));
	close(fd);
}

/*
 * pn533: no TARGET_LOST, neither when the tag is lifted nor from the
 * core's presence check (every NFC_CHECK_PRES_FREQ_MS, 2 s, for drivers
 * that have one: the wait below is longer). The core keeps listing the
 * target; exchanges fail with EIO; the socket is shut down after that;
 * the old target cannot be activated again (EINVAL), nor anything while
 * polling (EBUSY); a new poll finds the tag under a new index.
 */
TEST_F(readers, pn533_lifted_tag_is_never_lost)
{
	struct sectag_nfc_target tg, tg2;
	struct sectag_sim_reader r, got;
	struct sectag_sim_tag t;
	uint8_t resp[64];
	size_t rlen;
	int fd;

	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, NFC_SECTAG_F_OWNED |
					   NFC_SECTAG_F_PN533, &r));
	EXPECT_TRUE(!!(r.flags & NFC_SECTAG_F_PN533));
	ASSERT_EQ(0, sectag_sim_reader_get(self->sim, r.id, &got));
	EXPECT_EQ(r.flags, got.flags);
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, sectag_nfc_dev_up(self->nfc, r.nfc_index));
	ASSERT_EQ(0, place_and_find(self->sim, self->nfc, &r, t.id, -1, &tg));
	fd = sectag_nfc_connect(r.nfc_index, tg.idx);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, sectag_nfc_transceive(fd, select_app, sizeof(select_app),
					   resp, sizeof(resp), &rlen, 2000));
	ASSERT_EQ(2U, rlen);
	EXPECT_EQ(0x90, resp[0]);
	/* A poll while a target is active is refused, as pn533 does. */
	EXPECT_EQ(-EBUSY, sectag_nfc_start_poll(self->nfc, r.nfc_index,
						NFC_PROTO_ISO14443_MASK));

	ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, t.id));
	EXPECT_EQ(-EIO, sectag_nfc_transceive(fd, select_app,
					      sizeof(select_app), resp,
					      sizeof(resp), &rlen, 2000));
	/* rawsock shut the socket down on that error. */
	EXPECT_EQ(-EPIPE, sectag_nfc_transceive(fd, select_app,
						sizeof(select_app), resp,
						sizeof(resp), &rlen, 2000));
	EXPECT_EQ(0, lost_events(self->nfc, r.nfc_index, 2500, false));
	EXPECT_TRUE(core_lists(self->nfc, r.nfc_index, tg.idx));
	/* Still active in the core and the driver until the socket goes. */
	EXPECT_EQ(-EBUSY, sectag_nfc_start_poll(self->nfc, r.nfc_index,
						NFC_PROTO_ISO14443_MASK));
	close(fd);

	/* "There is no available target to activate" */
	EXPECT_TRUE(wait_for((fd = sectag_nfc_connect(r.nfc_index, tg.idx)) ==
			     -EINVAL, 3000));
	if (fd >= 0)
		close(fd);
	/* A new poll, and "Cannot activate while polling" meanwhile. */
	ASSERT_EQ(0, sectag_nfc_start_poll(self->nfc, r.nfc_index,
					   NFC_PROTO_ISO14443_MASK));
	EXPECT_EQ(-EBUSY, sectag_nfc_connect(r.nfc_index, tg.idx));
	ASSERT_EQ(0, sectag_nfc_stop_poll(self->nfc, r.nfc_index));
	ASSERT_EQ(0, place_and_find(self->sim, self->nfc, &r, t.id, tg.idx,
				    &tg2));
	fd = sectag_nfc_connect(r.nfc_index, tg2.idx);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, sectag_nfc_transceive(fd, select_app, sizeof(select_app),
					   resp, sizeof(resp), &rlen, 2000));
	close(fd);
}

/*
 * pn533: a tag reported by a poll, lifted and put back before anyone
 * connects. The activation succeeds (pn533 sends nothing to the tag
 * then), yet the tag came back unselected: every exchange fails.
 */
TEST_F(readers, pn533_activation_does_not_see_the_tag)
{
	struct sectag_nfc_target tg;
	struct sectag_sim_reader r;
	struct sectag_sim_tag t;
	uint8_t resp[64];
	size_t rlen;
	int fd;

	ASSERT_EQ(0, sectag_sim_reader_add(self->sim, NFC_SECTAG_F_OWNED |
					   NFC_SECTAG_F_PN533, &r));
	ASSERT_EQ(0, sectag_sim_tag_add(self->sim, NFC_SECTAG_PROFILE_NTAG424,
					NULL, NFC_SECTAG_F_OWNED, &t));
	ASSERT_EQ(0, sectag_nfc_dev_up(self->nfc, r.nfc_index));
	ASSERT_EQ(0, place_and_find(self->sim, self->nfc, &r, t.id, -1, &tg));
	ASSERT_EQ(0, sectag_sim_tag_remove(self->sim, t.id));
	ASSERT_EQ(0, sectag_sim_tag_place(self->sim, t.id, r.id));

	fd = sectag_nfc_connect(r.nfc_index, tg.idx);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EIO, sectag_nfc_transceive(fd, select_app,
					      sizeof(select_app), resp,
					      sizeof(resp), &rlen, 2000));
	close(fd);
	EXPECT_EQ(0, lost_events(self->nfc, r.nfc_index, 0, false));
}

TEST_F(readers, pn533_flag_is_for_readers_only)
{
	EXPECT_EQ(-EINVAL, sectag_sim_tag_add(self->sim,
					      NFC_SECTAG_PROFILE_NTAG424, NULL,
					      NFC_SECTAG_F_PN533, NULL));
}

/* Hammer the module from several threads while it is unloaded. */
static volatile int stop_load;

static void *churn(void *arg)
{
	struct sectag_sim *sim = NULL;
	struct sectag_nfc *nfc = NULL;
	struct sectag_sim_reader r;
	long ops = 0;

	(void)arg;
	while (!stop_load) {
		if (!sim && sectag_sim_open(&sim))
			sim = NULL;
		if (!nfc && sectag_nfc_open(&nfc))
			nfc = NULL;
		if (sim && nfc &&
		    !sectag_sim_reader_add(sim, ops & 1 ? NFC_SECTAG_F_OWNED : 0,
					   &r)) {
			sectag_nfc_dev_up(nfc, r.nfc_index);
			sectag_nfc_start_poll(nfc, r.nfc_index,
					      NFC_PROTO_ISO14443_MASK);
			if (ops % 3)
				sectag_sim_reader_del(sim, r.id);
		}
		/* Close sockets now and then: owned readers go with them. */
		if (sim && ops % 7 == 0) {
			sectag_sim_close(sim);
			sim = NULL;
		}
		ops++;
	}
	sectag_sim_close(sim);
	sectag_nfc_close(nfc);
	return (void *)ops;
}

TEST(rmmod_under_load)
{
	pthread_t th[3];
	void *ops;
	long total = 0;
	int round, i;

	for (round = 0; round < 5; round++) {
		stop_load = 0;
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, pthread_create(&th[i], NULL, churn, NULL));
		test_sleep_ms(300);
		ASSERT_EQ(0, system("rmmod nfc_sectag"));
		test_sleep_ms(50);
		stop_load = 1;
		for (i = 0; i < 3; i++) {
			pthread_join(th[i], &ops);
			total += (long)ops;
		}
		ASSERT_EQ(0, test_reload_module());
	}
	TH_LOG("%ld operations across 5 unloads", total);
	EXPECT_GT(total, 0);
}

TEST_HARNESS_MAIN
