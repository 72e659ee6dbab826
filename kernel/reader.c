// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual readers: each one is an nfc_dev registered with the NFC core,
 * polling for ISO 14443-A / ISO-DEP targets. The "field" of a reader is the
 * list of tags placed on it; exchanges run in a work item, like the
 * interrupt-driven completion of a real reader.
 */
#include <linux/capability.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/nfc_sectag.h>
#include <net/sock.h>

#include "sectag.h"

static LIST_HEAD(sectag_readers);
static u32 sectag_next_reader_id = 1;

static struct sectag_reader *to_reader(struct nfc_dev *nfc)
{
	return nfc_get_drvdata(nfc);
}

/* The reader follows Debian 6.1's pn533 driver (Documentation/uapi.md). */
static bool is_pn533(const struct sectag_reader *reader)
{
	return reader->flags & NFC_SECTAG_F_PN533;
}

struct sectag_reader *sectag_reader_find(u32 id)
{
	struct sectag_reader *reader;

	lockdep_assert_held(&sectag_lock);
	list_for_each_entry(reader, &sectag_readers, list)
		if (reader->id == id)
			return reader;
	return NULL;
}

/*
 * Dumps: the reader after @prev, or when @prev is NULL the first one whose
 * id is above @after; sectag_lock held. The list is in creation order, so
 * in id order.
 */
struct sectag_reader *sectag_reader_next(struct sectag_reader *prev, u32 after)
{
	struct sectag_reader *reader = prev;

	lockdep_assert_held(&sectag_lock);
	reader = list_prepare_entry(reader, &sectag_readers, list);
	list_for_each_entry_continue(reader, &sectag_readers, list)
		if (prev || reader->id > after)
			return reader;
	return NULL;
}

static int sectag_dev_up(struct nfc_dev *nfc)
{
	mutex_lock(&sectag_lock);
	to_reader(nfc)->powered = true;
	mutex_unlock(&sectag_lock);
	return 0;
}

static int sectag_dev_down(struct nfc_dev *nfc)
{
	mutex_lock(&sectag_lock);
	to_reader(nfc)->powered = false;
	mutex_unlock(&sectag_lock);
	return 0;
}

static int sectag_start_poll(struct nfc_dev *nfc, u32 im_protocols,
			     u32 tm_protocols)
{
	struct sectag_reader *reader = to_reader(nfc);
	int rc = 0;

	/* Card emulation and peer-to-peer are not simulated. */
	if (!(im_protocols & NFC_PROTO_ISO14443_MASK))
		return -EPROTONOSUPPORT;

	/*
	 * The core does not refuse a poll while a target is active, yet a
	 * poll report frees the target array its active_target points into.
	 * pn533 refuses it as long as the core has a target active, the tag
	 * being there or not (pn533_start_poll(), tgt_active_prot).
	 */
	mutex_lock(&sectag_lock);
	if (reader->active || reader->engaged)
		rc = -EBUSY;
	else
		reader->polling = true;
	mutex_unlock(&sectag_lock);
	if (!rc)
		queue_work(sectag_wq, &reader->poll_work);
	return rc;
}

static void sectag_stop_poll(struct nfc_dev *nfc)
{
	mutex_lock(&sectag_lock);
	to_reader(nfc)->polling = false;
	mutex_unlock(&sectag_lock);
}

static struct sectag_tag *reader_find_target(struct sectag_reader *reader,
					     u32 idx)
{
	struct sectag_tag *tag;

	list_for_each_entry(tag, &reader->tags, on_reader)
		if (tag->reported && tag->target_idx == idx)
			return tag;
	return NULL;
}

/*
 * Runs in the context of the task that connect()s an AF_NFC raw socket
 * (rawsock_connect -> nfc_activate_target) or sends ACTIVATE_TARGET
 * (which the core already restricts to CAP_NET_ADMIN): the capability
 * check below is the connecting task's. Errors follow the core: -ENODEV
 * for a device that is down or going away, as nfc_start_poll() does.
 *
 * A pn533 reader does not look for the tag, as pn533_activate_target()
 * does not: -EBUSY while polling, -EINVAL when no poll reported a target
 * since the last activation or for another protocol. It sends nothing to an ISO 14443-A tag
 * there (InListPassiveTarget selected it during the poll), so a tag
 * lifted meanwhile is not noticed: the activation succeeds and every
 * exchange fails.
 */
static int sectag_activate_target(struct nfc_dev *nfc,
				  struct nfc_target *target, u32 protocol)
{
	struct sectag_reader *reader = to_reader(nfc);
	struct sectag_tag *tag, *stale;
	bool present;
	int rc = 0;

	if (protocol != NFC_PROTO_ISO14443 && !is_pn533(reader))
		return -EPROTONOSUPPORT;
	if (READ_ONCE(sectag_restrict_connect) && !capable(CAP_NET_ADMIN))
		return -EPERM;

	/* Same hazard from the other side: a poll could free @target. */
	mutex_lock(&sectag_lock);
	tag = reader_find_target(reader, target->idx);
	stale = reader->active;
	if (reader->dead || !reader->powered)
		rc = -ENODEV;
	else if (reader->polling)
		rc = -EBUSY;
	else if (is_pn533(reader) && !reader->available)
		rc = -EINVAL;
	else if (protocol != NFC_PROTO_ISO14443)	/* pn533 */
		rc = -EINVAL;
	else if (!tag && !is_pn533(reader))
		rc = -ENODEV;
	if (!rc) {
		/*
		 * The core checked it has no active target: one the reader
		 * still remembers was deactivated behind its back. Its
		 * session ends here rather than carrying over.
		 */
		reader->active = NULL;
		if (tag)
			kref_get(&tag->ref);
		if (stale)
			kref_get(&stale->ref);
		if (is_pn533(reader)) {
			reader->engaged = true;
			reader->available = false;
		}
	}
	mutex_unlock(&sectag_lock);
	if (rc)
		return rc;

	if (stale) {
		if (stale != tag) {
			sectag_relay_abort(stale);
			sectag_tag_power_cycle(stale);
		}
		sectag_tag_put(stale);
	}
	/* pn533: the tag left after the poll; its exchanges will fail. */
	if (!tag)
		return 0;
	/* A new RATS: whatever session the tag had is gone. */
	sectag_tag_deselect(tag);

	mutex_lock(&sectag_lock);
	present = reader_find_target(reader, target->idx) == tag;
	if (reader->dead || !reader->powered ||
	    (!present && !is_pn533(reader)))
		rc = -ENODEV;
	else if (present)
		reader->active = tag;
	if (rc)
		reader->engaged = false;
	mutex_unlock(&sectag_lock);
	dev_dbg(&nfc->dev, "activate target %u (tag %u): %d\n", target->idx,
		tag->id, rc);
	sectag_tag_put(tag);
	return rc;
}

static void sectag_deactivate_target(struct nfc_dev *nfc,
				     struct nfc_target *target, u8 mode)
{
	struct sectag_reader *reader = to_reader(nfc);
	struct sectag_tag *tag;

	mutex_lock(&sectag_lock);
	tag = reader->active;
	reader->active = NULL;
	reader->engaged = false;
	if (tag)
		kref_get(&tag->ref);
	mutex_unlock(&sectag_lock);

	/* Deselect ends the ISO-DEP session: nothing survives it on a card. */
	if (tag) {
		dev_dbg(&nfc->dev, "deactivate tag %u\n", tag->id);
		sectag_relay_abort(tag);
		sectag_tag_power_cycle(tag);
		sectag_tag_put(tag);
	}
}

static int sectag_check_presence(struct nfc_dev *nfc,
				 struct nfc_target *target)
{
	struct sectag_reader *reader = to_reader(nfc);
	int rc;

	mutex_lock(&sectag_lock);
	rc = reader_find_target(reader, target->idx) ? 0 : -ENODEV;
	mutex_unlock(&sectag_lock);
	return rc;
}

static int sectag_im_transceive(struct nfc_dev *nfc, struct nfc_target *target,
				struct sk_buff *skb, data_exchange_cb_t cb,
				void *cb_context)
{
	struct sectag_reader *reader = to_reader(nfc);
	int rc = 0;

	spin_lock_bh(&reader->xfer_lock);
	if (reader->xfer_cb) {
		rc = -EBUSY;
	} else {
		reader->xfer_skb = skb;
		reader->xfer_cb = cb;
		reader->xfer_ctx = cb_context;
		reader->xfer_target = target->idx;
	}
	spin_unlock_bh(&reader->xfer_lock);

	if (rc) {
		kfree_skb(skb);
		return rc;
	}
	queue_work(sectag_wq, &reader->xfer_work);
	return 0;
}

static const struct nfc_ops sectag_nfc_ops = {
	.dev_up = sectag_dev_up,
	.dev_down = sectag_dev_down,
	.start_poll = sectag_start_poll,
	.stop_poll = sectag_stop_poll,
	.activate_target = sectag_activate_target,
	.deactivate_target = sectag_deactivate_target,
	.im_transceive = sectag_im_transceive,
	.check_presence = sectag_check_presence,
};

/*
 * pn533_nfc_ops (drivers/nfc/pn533/pn533.c, 6.1) has no check_presence:
 * the core never arms its presence timer (nfc_activate_target()) and
 * never reports a lost target for this reader.
 */
static const struct nfc_ops sectag_pn533_ops = {
	.dev_up = sectag_dev_up,
	.dev_down = sectag_dev_down,
	.start_poll = sectag_start_poll,
	.stop_poll = sectag_stop_poll,
	.activate_target = sectag_activate_target,
	.deactivate_target = sectag_deactivate_target,
	.im_transceive = sectag_im_transceive,
};

/*
 * The tag answering an exchange is looked up again here rather than
 * remembered at activation: it may have been lifted off in between, and
 * then the reader sees what it would see with a real card: silence.
 */
static struct sectag_tag *xfer_get_tag(struct sectag_reader *reader, u32 idx)
{
	struct sectag_tag *tag = NULL;

	mutex_lock(&sectag_lock);
	if (!reader->dead && reader->active &&
	    reader->active->target_idx == idx) {
		tag = reader->active;
		kref_get(&tag->ref);
	}
	mutex_unlock(&sectag_lock);
	return tag;
}

/*
 * What the reader reports when the tag does not answer. The PN533 answers
 * InDataExchange with a timeout status, which pn533_data_exchange_complete()
 * turns into -EIO like any other error status.
 */
static int xfer_silence(const struct sectag_reader *reader)
{
	return is_pn533(reader) ? -EIO : -ETIMEDOUT;
}

static struct sk_buff *xfer_run(struct sectag_reader *reader,
				struct sk_buff *cmd, u32 idx, int *err)
{
	struct sectag_tag *tag;
	struct sk_buff *resp;
	size_t rlen = 0;
	u8 *rbuf;

	tag = xfer_get_tag(reader, idx);
	if (!tag) {
		*err = xfer_silence(reader);
		return NULL;
	}

	rbuf = kmalloc(NFC_SECTAG_RAPDU_MAX, GFP_KERNEL);
	if (!rbuf) {
		sectag_tag_put(tag);
		*err = -ENOMEM;
		return NULL;
	}

	*err = sectag_tag_transceive(tag, cmd->data, cmd->len, rbuf, &rlen);
	sectag_tag_put(tag);
	if (*err && is_pn533(reader))
		*err = xfer_silence(reader);
	resp = NULL;
	if (!*err) {
		resp = nfc_alloc_recv_skb(rlen, GFP_KERNEL);
		if (resp)
			skb_put_data(resp, rbuf, rlen);
		else
			*err = -ENOMEM;
	}
	kfree_sensitive(rbuf);
	return resp;
}

static void sectag_xfer_work(struct work_struct *work)
{
	struct sectag_reader *reader = container_of(work, struct sectag_reader,
						    xfer_work);
	data_exchange_cb_t cb;
	struct sk_buff *cmd, *resp;
	void *ctx;
	u32 idx;
	int err;

	spin_lock_bh(&reader->xfer_lock);
	cmd = reader->xfer_skb;
	cb = reader->xfer_cb;
	ctx = reader->xfer_ctx;
	idx = reader->xfer_target;
	spin_unlock_bh(&reader->xfer_lock);
	if (!cb)
		return;

	resp = xfer_run(reader, cmd, idx, &err);
	kfree_skb(cmd);

	/* Clear before completing: the callback may queue the next frame. */
	spin_lock_bh(&reader->xfer_lock);
	reader->xfer_skb = NULL;
	reader->xfer_cb = NULL;
	reader->xfer_ctx = NULL;
	spin_unlock_bh(&reader->xfer_lock);

	cb(ctx, resp, err);
}

/*
 * nfc_targets_found() returns 0 also when it ignored the report (the core
 * stopped polling meanwhile); only targets the core holds are reported.
 */
static bool core_has_target(struct nfc_dev *nfc, u32 idx)
{
	bool found = false;
	int i;

	device_lock(&nfc->dev);
	for (i = 0; i < nfc->n_targets && !found; i++)
		found = nfc->targets[i].idx == idx;
	device_unlock(&nfc->dev);
	return found;
}

/*
 * Report one tag of the field, as an anticollision loop selects one card:
 * nfc_target_lost() resets the core's active target whichever target is
 * lost, so reporting a second one would let lifting the idle tag cut the
 * connection to the busy one. Like anticollision, which resolves the
 * same cards the same way every time, every poll picks the same tag: the
 * one placed first. sectag_rf_lock keeps placement stable between taking
 * the snapshot and recording the index the core assigned.
 */
static void sectag_poll_work(struct work_struct *work)
{
	struct sectag_reader *reader = container_of(work, struct sectag_reader,
						    poll_work);
	struct sectag_tag *tag = NULL;
	struct nfc_target target;

	mutex_lock(&sectag_rf_lock);
	mutex_lock(&sectag_lock);
	if (reader->polling && !reader->dead && !list_empty(&reader->tags)) {
		/* The report replaces whatever the core listed before. */
		list_for_each_entry(tag, &reader->tags, on_reader)
			tag->reported = false;
		tag = list_first_entry(&reader->tags, struct sectag_tag,
				       on_reader);
		sectag_tag_get_rf(tag, &target);
		/*
		 * The core lists the target, and userspace may activate it,
		 * before nfc_targets_found() returns: record the index it is
		 * about to give. It numbers targets from target_next_idx,
		 * and only this work item reports targets of this device
		 * (under sectag_rf_lock, which also keeps @tag placed).
		 */
		tag->target_idx = reader->nfc->target_next_idx;
		tag->reported = true;
		reader->polling = false;
		/* pn533_target_found() */
		reader->available = true;
	}
	mutex_unlock(&sectag_lock);

	if (tag && (nfc_targets_found(reader->nfc, &target, 1) ||
		    !core_has_target(reader->nfc, target.idx))) {
		mutex_lock(&sectag_lock);
		tag->reported = false;
		mutex_unlock(&sectag_lock);
	}
	if (tag) {
		WARN_ON_ONCE(target.idx != tag->target_idx);
		dev_dbg(&reader->nfc->dev, "poll: tag %u is target %u\n",
			tag->id, target.idx);
	}
	mutex_unlock(&sectag_rf_lock);
}

void sectag_reader_kick(struct sectag_reader *reader)
{
	queue_work(sectag_wq, &reader->poll_work);
}

struct sectag_reader *sectag_reader_create(u32 flags, u32 owner,
					   struct sock *owner_sk)
{
	struct sectag_reader *reader;
	int rc;

	reader = kzalloc(sizeof(*reader), GFP_KERNEL);
	if (!reader)
		return ERR_PTR(-ENOMEM);

	INIT_LIST_HEAD(&reader->tags);
	INIT_WORK(&reader->poll_work, sectag_poll_work);
	INIT_WORK(&reader->xfer_work, sectag_xfer_work);
	spin_lock_init(&reader->xfer_lock);
	reader->flags = flags;
	reader->owner = owner;

	reader->nfc = nfc_allocate_device(flags & NFC_SECTAG_F_PN533 ?
					  &sectag_pn533_ops : &sectag_nfc_ops,
					  NFC_PROTO_ISO14443_MASK, 0, 0);
	if (!reader->nfc) {
		kfree(reader);
		return ERR_PTR(-ENOMEM);
	}
	nfc_set_drvdata(reader->nfc, reader);

	rc = nfc_register_device(reader->nfc);
	if (rc) {
		nfc_free_device(reader->nfc);
		kfree(reader);
		return ERR_PTR(rc);
	}

	if ((flags & NFC_SECTAG_F_OWNED) && owner_sk) {
		sock_hold(owner_sk);
		reader->owner_sk = owner_sk;
	}

	mutex_lock(&sectag_lock);
	reader->id = sectag_next_reader_id++;
	list_add_tail(&reader->list, &sectag_readers);
	mutex_unlock(&sectag_lock);

	sectag_notify_reader(reader, NFC_SECTAG_CMD_NEW_READER);
	return reader;
}

/*
 * Unlink first so nothing new can find the reader, then unregister (no
 * further nfc_ops calls once the core marks it shutting down), then drain
 * the work items so any exchange in flight completes with an error.
 */
static void reader_teardown(struct sectag_reader *reader)
{
	sectag_notify_reader(reader, NFC_SECTAG_CMD_DEL_READER);
	nfc_unregister_device(reader->nfc);
	cancel_work_sync(&reader->poll_work);
	flush_work(&reader->xfer_work);
	nfc_free_device(reader->nfc);
	if (reader->owner_sk)
		sock_put(reader->owner_sk);
	kfree(reader);
}

static void reader_unlink(struct sectag_reader *reader)
{
	struct sectag_tag *tag, *tmp;

	lockdep_assert_held(&sectag_rf_lock);
	lockdep_assert_held(&sectag_lock);

	reader->dead = true;
	reader->active = NULL;
	list_del(&reader->list);
	list_for_each_entry_safe(tag, tmp, &reader->tags, on_reader)
		sectag_tag_lift(tag);
}

int sectag_reader_destroy(u32 id, u32 owner)
{
	struct sectag_reader *reader;

	mutex_lock(&sectag_rf_lock);
	mutex_lock(&sectag_lock);
	reader = sectag_reader_find(id);
	if (reader && owner && reader->owner != owner)
		reader = NULL;
	if (reader)
		reader_unlink(reader);
	mutex_unlock(&sectag_lock);
	mutex_unlock(&sectag_rf_lock);

	if (!reader)
		return -ENODEV;
	reader_teardown(reader);
	return 0;
}

static void destroy_matching(bool all, u32 portid)
{
	struct sectag_reader *reader, *tmp;
	LIST_HEAD(doomed);

	mutex_lock(&sectag_rf_lock);
	mutex_lock(&sectag_lock);
	list_for_each_entry_safe(reader, tmp, &sectag_readers, list) {
		if (!all && (!(reader->flags & NFC_SECTAG_F_OWNED) ||
			     reader->owner != portid ||
			     !sectag_owner_gone(reader->owner_sk)))
			continue;
		reader_unlink(reader);
		list_add_tail(&reader->list, &doomed);
	}
	mutex_unlock(&sectag_lock);
	mutex_unlock(&sectag_rf_lock);

	list_for_each_entry_safe(reader, tmp, &doomed, list)
		reader_teardown(reader);
}

/*
 * Has the socket that owns an object been released? Its portid alone does
 * not say: netlink frees the portid before NETLINK_URELEASE is sent, and a
 * new socket may bind it in between. netlink_release() orphans the socket
 * (SOCK_DEAD) before the notifier runs; a socket bound later is alive.
 */
bool sectag_owner_gone(struct sock *owner_sk)
{
	return !owner_sk || sock_flag(owner_sk, SOCK_DEAD);
}

/*
 * Every generic netlink socket's close() comes here: most own nothing of
 * ours, and need not wait for sectag_rf_lock to find that out.
 */
static bool owns_anything(u32 portid)
{
	struct sectag_reader *reader;
	bool found = false;

	mutex_lock(&sectag_lock);
	list_for_each_entry(reader, &sectag_readers, list)
		found |= (reader->flags & NFC_SECTAG_F_OWNED) &&
			 reader->owner == portid;
	found |= sectag_tags_owned_by(portid);
	mutex_unlock(&sectag_lock);
	return found;
}

void sectag_destroy_owned(u32 portid)
{
	if (!owns_anything(portid))
		return;
	destroy_matching(false, portid);
	sectag_tags_destroy(false, portid);
}

void sectag_destroy_all(void)
{
	destroy_matching(true, 0);
	sectag_tags_destroy(true, 0);
}
