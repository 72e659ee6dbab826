// SPDX-License-Identifier: GPL-2.0
/*
 * Tags: objects that can be placed in a reader's field. An NTAG 424 tag
 * answers from the in-kernel engine (ntag424.c); a relay tag hands every
 * frame to the netlink socket that created it and waits for the answer.
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/nfc_sectag.h>
#include <net/sock.h>

#include "sectag.h"

/* NTAG 424 DNA answers to anticollision (datasheet 8.1) */
#define SECTAG_SENS_RES		0x0344
#define SECTAG_SEL_RES		0x20

static LIST_HEAD(sectag_tags);
static u32 sectag_next_tag_id = 1;

static void tag_pull_work(struct work_struct *work);

struct sectag_tag *sectag_tag_find(u32 id)
{
	struct sectag_tag *tag;

	lockdep_assert_held(&sectag_lock);
	list_for_each_entry(tag, &sectag_tags, list)
		if (tag->id == id)
			return tag;
	return NULL;
}

/* As sectag_reader_next(), for tags. */
struct sectag_tag *sectag_tag_next(struct sectag_tag *prev, u32 after)
{
	struct sectag_tag *tag = prev;

	lockdep_assert_held(&sectag_lock);
	tag = list_prepare_entry(tag, &sectag_tags, list);
	list_for_each_entry_continue(tag, &sectag_tags, list)
		if (prev || tag->id > after)
			return tag;
	return NULL;
}

static void sectag_tag_release(struct kref *ref)
{
	struct sectag_tag *tag = container_of(ref, struct sectag_tag, ref);

	ntag424_destroy(tag->ntag);
	if (tag->owner_sk)
		sock_put(tag->owner_sk);
	mutex_destroy(&tag->lock);
	kfree_sensitive(tag);
}

void sectag_tag_put(struct sectag_tag *tag)
{
	kref_put(&tag->ref, sectag_tag_release);
}

/* Refresh what netlink and anticollision see; tag->lock held. */
static void tag_snapshot(struct sectag_tag *tag)
{
	struct ntag424_info info = { };
	struct ntag424_rf rf = {
		.nfcid1_len = NTAG424_UID_LEN,
		.sens_res = SECTAG_SENS_RES,
		.sel_res = SECTAG_SEL_RES,
	};

	lockdep_assert_held(&tag->lock);
	memcpy(info.uid, tag->uid, sizeof(info.uid));
	memcpy(rf.nfcid1, tag->uid, sizeof(rf.nfcid1));
	if (tag->ntag) {
		ntag424_get_info(tag->ntag, &info);
		ntag424_get_rf(tag->ntag, &rf);
	}

	mutex_lock(&sectag_lock);
	tag->info = info;
	tag->rf = rf;
	mutex_unlock(&sectag_lock);
}

void sectag_tag_power_cycle(struct sectag_tag *tag)
{
	mutex_lock(&tag->lock);
	if (tag->ntag)
		ntag424_power_cycle(tag->ntag);
	tag_snapshot(tag);
	mutex_unlock(&tag->lock);
}

/* DESELECT and a new RATS: the session ends, the UID stays. */
void sectag_tag_deselect(struct sectag_tag *tag)
{
	mutex_lock(&tag->lock);
	if (tag->ntag)
		ntag424_deselect(tag->ntag);
	tag_snapshot(tag);
	mutex_unlock(&tag->lock);
}

void sectag_tag_get_rf(struct sectag_tag *tag, struct nfc_target *target)
{
	lockdep_assert_held(&sectag_lock);
	memset(target, 0, sizeof(*target));
	target->supported_protocols = NFC_PROTO_ISO14443_MASK;
	target->sens_res = tag->rf.sens_res;
	target->sel_res = tag->rf.sel_res;
	target->nfcid1_len = tag->rf.nfcid1_len;
	memcpy(target->nfcid1, tag->rf.nfcid1, tag->rf.nfcid1_len);
}

/* ISO 14443-3 cascade tag: no UID byte that opens a cascade level. */
#define SECTAG_UID_CT		0x88
/* NXP's manufacturer code, UID byte 0 of every NTAG 424 DNA */
#define SECTAG_UID_NXP		0x04

/*
 * What a NEW_TAG may ask for. An all-zero UID is what GetVersion shows
 * for a Random-ID tag and what a misbehaving device claims: never a real
 * tag's. The NTAG 424 datasheet fixes byte 0 to 04h (NXP); ISO 14443-3
 * forbids 88h (the cascade tag) as the first byte of either cascade
 * level of a double-size UID (bytes 0 and 3).
 */
bool sectag_uid_valid(u32 profile, const u8 *uid, const char **why)
{
	if (!memchr_inv(uid, 0, NFC_SECTAG_UID_LEN)) {
		*why = "all-zero UID";
		return false;
	}
	if (uid[0] == SECTAG_UID_CT || uid[3] == SECTAG_UID_CT) {
		*why = "UID byte 0 or 3 is the cascade tag 88h";
		return false;
	}
	if (profile == NFC_SECTAG_PROFILE_NTAG424 && uid[0] != SECTAG_UID_NXP) {
		*why = "an NTAG 424 UID starts with 04h (NXP)";
		return false;
	}
	return true;
}

static void random_uid(u8 *uid)
{
	get_random_bytes(uid, NFC_SECTAG_UID_LEN);
	uid[0] = SECTAG_UID_NXP;
	if (uid[3] == SECTAG_UID_CT)
		uid[3] = 0;
}

struct sectag_tag *sectag_tag_create(u32 profile, const u8 *uid, u32 flags,
				     u32 owner, struct sock *owner_sk)
{
	struct sectag_tag *tag;
	const char *why;

	if (profile == NFC_SECTAG_PROFILE_RELAY) {
		/* Nobody would be left to answer a relay tag's frames. */
		if (!owner || !owner_sk)
			return ERR_PTR(-EINVAL);
		flags |= NFC_SECTAG_F_OWNED;
	} else if (profile != NFC_SECTAG_PROFILE_NTAG424) {
		return ERR_PTR(-EPROTONOSUPPORT);
	}
	if (uid && !sectag_uid_valid(profile, uid, &why))
		return ERR_PTR(-EINVAL);

	tag = kzalloc(sizeof(*tag), GFP_KERNEL);
	if (!tag)
		return ERR_PTR(-ENOMEM);

	kref_init(&tag->ref);
	INIT_LIST_HEAD(&tag->on_reader);
	mutex_init(&tag->lock);
	INIT_WORK(&tag->pull_work, tag_pull_work);
	spin_lock_init(&tag->relay_lock);
	init_waitqueue_head(&tag->relay_wq);
	tag->profile = profile;
	tag->flags = flags;
	tag->owner = owner;
	if (uid)
		memcpy(tag->uid, uid, NFC_SECTAG_UID_LEN);
	else
		random_uid(tag->uid);
	if ((flags & NFC_SECTAG_F_OWNED) && owner_sk) {
		sock_hold(owner_sk);
		tag->owner_sk = owner_sk;
	}

	if (profile == NFC_SECTAG_PROFILE_NTAG424) {
		tag->ntag = ntag424_create(tag->uid);
		if (!tag->ntag) {
			sectag_tag_put(tag);
			return ERR_PTR(-ENOMEM);
		}
	}

	mutex_lock(&tag->lock);
	tag_snapshot(tag);
	mutex_unlock(&tag->lock);

	mutex_lock(&sectag_lock);
	tag->id = sectag_next_tag_id++;
	list_add_tail(&tag->list, &sectag_tags);
	mutex_unlock(&sectag_lock);

	sectag_notify_tag(tag, NFC_SECTAG_CMD_NEW_TAG);
	return tag;
}

/* End a relay wait now: the reader hears nothing (a timeout). */
void sectag_relay_abort(struct sectag_tag *tag)
{
	spin_lock_bh(&tag->relay_lock);
	if (tag->relay_waiting) {
		tag->relay_waiting = false;
		tag->relay_err = -ETIMEDOUT;
		wake_up(&tag->relay_wq);
	}
	spin_unlock_bh(&tag->relay_lock);
}

/* Take the tag out of its reader's field. sectag_lock held. */
void sectag_tag_lift(struct sectag_tag *tag)
{
	struct sectag_reader *reader = tag->reader;

	lockdep_assert_held(&sectag_lock);
	if (!reader)
		return;
	if (reader->active == tag)
		reader->active = NULL;
	list_del_init(&tag->on_reader);
	tag->reader = NULL;
	tag->reported = false;
	sectag_relay_abort(tag);
}

/*
 * Lift @tag and tell the NFC core its target is gone. Called with
 * sectag_rf_lock held, which keeps the reader registered meanwhile.
 * A pn533 reader tells nothing: no driver in 6.1 calls nfc_target_lost(),
 * the core's list keeps the target until the next poll report.
 */
static void tag_lift_and_report(struct sectag_tag *tag)
{
	struct nfc_dev *nfc = NULL;
	u32 idx = 0;

	lockdep_assert_held(&sectag_rf_lock);
	mutex_lock(&sectag_lock);
	if (tag->reader && tag->reported &&
	    !(tag->reader->flags & NFC_SECTAG_F_PN533)) {
		nfc = tag->reader->nfc;
		idx = tag->target_idx;
	}
	sectag_tag_lift(tag);
	mutex_unlock(&sectag_lock);

	if (nfc)
		nfc_target_lost(nfc, idx);
}

/* Find and pin a tag. */
static struct sectag_tag *tag_get(u32 id)
{
	struct sectag_tag *tag;

	mutex_lock(&sectag_lock);
	tag = sectag_tag_find(id);
	if (tag)
		kref_get(&tag->ref);
	mutex_unlock(&sectag_lock);
	return tag;
}

int sectag_tag_destroy(u32 id)
{
	struct sectag_tag *tag;

	mutex_lock(&sectag_rf_lock);
	tag = tag_get(id);
	if (!tag) {
		mutex_unlock(&sectag_rf_lock);
		return -ENOENT;
	}
	tag_lift_and_report(tag);
	mutex_lock(&sectag_lock);
	list_del(&tag->list);
	mutex_unlock(&sectag_lock);
	mutex_unlock(&sectag_rf_lock);

	sectag_notify_tag(tag, NFC_SECTAG_CMD_DEL_TAG);
	sectag_tag_put(tag);		/* tag_get() */
	sectag_tag_put(tag);		/* the list's reference */
	return 0;
}

/* Owned by @portid, whether or not its socket is gone; sectag_lock held. */
bool sectag_tags_owned_by(u32 portid)
{
	struct sectag_tag *tag;

	lockdep_assert_held(&sectag_lock);
	list_for_each_entry(tag, &sectag_tags, list)
		if ((tag->flags & NFC_SECTAG_F_OWNED) && tag->owner == portid)
			return true;
	return false;
}

/*
 * Every tag (@all), or those of @portid's released socket. One at a time
 * by id: sectag_tag_destroy() takes the locks itself.
 */
void sectag_tags_destroy(bool all, u32 portid)
{
	struct sectag_tag *tag;
	u32 id;

	do {
		id = 0;
		mutex_lock(&sectag_lock);
		list_for_each_entry(tag, &sectag_tags, list) {
			if (all || ((tag->flags & NFC_SECTAG_F_OWNED) &&
				    tag->owner == portid &&
				    sectag_owner_gone(tag->owner_sk))) {
				id = tag->id;
				break;
			}
		}
		mutex_unlock(&sectag_lock);
	} while (id && !sectag_tag_destroy(id));
}

static bool tag_is_pulled(struct sectag_tag *tag)
{
	bool pulled;

	mutex_lock(&tag->lock);
	pulled = tag->pulled;
	mutex_unlock(&tag->lock);
	return pulled;
}

/*
 * Lift @tag off its reader. With @if_pulled only when its frame budget
 * is spent: a pull queued for an earlier placement must not take the
 * tag off the next one (placing resets tag->pulled, under rf_lock too).
 */
static int tag_remove(struct sectag_tag *tag, bool if_pulled)
{
	int rc = 0;

	mutex_lock(&sectag_rf_lock);
	if (if_pulled && !tag_is_pulled(tag))
		rc = -ESTALE;
	else if (READ_ONCE(tag->reader))
		tag_lift_and_report(tag);
	else
		rc = -EALREADY;
	mutex_unlock(&sectag_rf_lock);

	if (!rc) {
		sectag_tag_power_cycle(tag);
		sectag_notify_tag(tag, NFC_SECTAG_CMD_REMOVE_TAG);
	}
	return rc;
}

int sectag_tag_remove(u32 id)
{
	struct sectag_tag *tag = tag_get(id);
	int rc;

	if (!tag)
		return -ENOENT;
	rc = tag_remove(tag, false);
	sectag_tag_put(tag);
	return rc;
}

int sectag_tag_place(u32 tag_id, u32 reader_id, u32 frames_left)
{
	struct sectag_reader *reader;
	struct sectag_tag *tag;
	int rc = 0;

	mutex_lock(&sectag_rf_lock);
	tag = tag_get(tag_id);
	if (!tag) {
		rc = -ENOENT;
		goto out;
	}
	if (READ_ONCE(tag->reader)) {
		rc = -EBUSY;		/* lift it off the other reader first */
		goto out;
	}

	/* Entering a field powers the chip up from scratch. */
	sectag_tag_power_cycle(tag);
	mutex_lock(&tag->lock);
	tag->frames_left = frames_left;
	tag->pulled = false;
	mutex_unlock(&tag->lock);

	mutex_lock(&sectag_lock);
	reader = sectag_reader_find(reader_id);
	if (reader) {
		tag->reader = reader;
		list_add_tail(&tag->on_reader, &reader->tags);
		sectag_reader_kick(reader);
	} else {
		rc = -ENODEV;
	}
	mutex_unlock(&sectag_lock);
out:
	mutex_unlock(&sectag_rf_lock);
	if (tag) {
		if (!rc)
			sectag_notify_tag(tag, NFC_SECTAG_CMD_PLACE_TAG);
		sectag_tag_put(tag);
	}
	return rc;
}

static int relay_exchange(struct sectag_tag *tag, const u8 *capdu,
			  size_t len, u8 *rapdu, size_t *rlen)
{
	u64 cookie;
	int rc;

	spin_lock_bh(&tag->relay_lock);
	cookie = ++tag->relay_cookie;
	tag->relay_waiting = true;
	tag->relay_err = -ETIMEDOUT;
	tag->relay_resp = rapdu;
	tag->relay_len = 0;
	spin_unlock_bh(&tag->relay_lock);

	/*
	 * Only ever in xfer_work, a kworker: no signal can end the wait, so
	 * it is bounded (sectag_relay_timeout()) and abortable: lifting,
	 * deactivating or destroying the tag, or its owner's socket closing,
	 * calls sectag_relay_abort(), which wakes it at once. Whoever waits
	 * for tag->lock meanwhile waits at most that long.
	 */
	rc = sectag_relay_send(tag, cookie, capdu, len);
	if (!rc) {
		long left = msecs_to_jiffies(sectag_relay_timeout());
		wait_queue_head_t *wq = &tag->relay_wq;

		left = wait_event_interruptible_timeout(*wq,
							!READ_ONCE(tag->relay_waiting),
							left);
		if (left < 0)
			rc = -ETIMEDOUT;
	}

	spin_lock_bh(&tag->relay_lock);
	tag->relay_waiting = false;
	tag->relay_resp = NULL;
	if (!rc)
		rc = tag->relay_err;
	*rlen = tag->relay_len;
	spin_unlock_bh(&tag->relay_lock);
	return rc;
}

/*
 * @sk is the answering socket: a socket that rebinds a dead owner's
 * portid has the portid but not the socket, and is refused.
 */
int sectag_relay_answer(u32 tag_id, u32 portid, struct sock *sk, u64 cookie,
			int err, const u8 *frame, size_t len)
{
	struct sectag_tag *tag;
	int rc = -ESTALE;

	if (len > NFC_SECTAG_RAPDU_MAX)
		return -EMSGSIZE;

	tag = tag_get(tag_id);
	if (!tag)
		return -ENOENT;
	if (tag->profile != NFC_SECTAG_PROFILE_RELAY || tag->owner != portid ||
	    tag->owner_sk != sk || sectag_owner_gone(sk)) {
		sectag_tag_put(tag);
		return -EPERM;
	}

	spin_lock_bh(&tag->relay_lock);
	if (tag->relay_waiting && tag->relay_cookie == cookie) {
		if (err) {
			tag->relay_err = -ETIMEDOUT;
		} else {
			memcpy(tag->relay_resp, frame, len);
			tag->relay_len = len;
			tag->relay_err = 0;
		}
		tag->relay_waiting = false;
		wake_up(&tag->relay_wq);
		rc = 0;
	}
	spin_unlock_bh(&tag->relay_lock);
	sectag_tag_put(tag);
	return rc;
}

/*
 * A tag placed with a frame budget has spent it: from now on it is
 * silent, and it leaves the field as a remove would take it away. That
 * takes sectag_rf_lock, which ranks above tag->lock, hence the work.
 */
static void tag_pull_work(struct work_struct *work)
{
	struct sectag_tag *tag = container_of(work, struct sectag_tag,
					      pull_work);

	tag_remove(tag, true);
	sectag_tag_put(tag);
}

static void tag_spend_frame(struct sectag_tag *tag)
{
	lockdep_assert_held(&tag->lock);
	if (!tag->frames_left || --tag->frames_left)
		return;
	tag->pulled = true;
	kref_get(&tag->ref);
	if (!queue_work(sectag_wq, &tag->pull_work))
		sectag_tag_put(tag);
}

static bool tag_in_field(struct sectag_tag *tag)
{
	bool placed;

	mutex_lock(&sectag_lock);
	placed = tag->reader;
	mutex_unlock(&sectag_lock);
	return placed;
}

/* One exchange; an error means the reader hears nothing (a timeout). */
int sectag_tag_transceive(struct sectag_tag *tag, const u8 *capdu,
			  size_t len, u8 *rapdu, size_t *rlen)
{
	static const u8 sw_wrong_length[] = { 0x67, 0x00 };
	int rc;

	mutex_lock(&tag->lock);
	if (tag->pulled || !tag_in_field(tag)) {
		rc = -ETIMEDOUT;
	} else if (len > NFC_SECTAG_CAPDU_MAX) {
		/*
		 * Longer than any short APDU: an NTAG 424 rejects it; a
		 * relay's card emulator is never handed one.
		 */
		memcpy(rapdu, sw_wrong_length, sizeof(sw_wrong_length));
		*rlen = sizeof(sw_wrong_length);
		rc = 0;
	} else if (tag->profile == NFC_SECTAG_PROFILE_RELAY) {
		rc = relay_exchange(tag, capdu, len, rapdu, rlen);
	} else {
		rc = ntag424_process(tag->ntag, capdu, len, rapdu);
		if (rc >= 0) {
			*rlen = rc;
			rc = 0;
		}
		tag_snapshot(tag);
	}
	if (!rc)
		tag_spend_frame(tag);
	mutex_unlock(&tag->lock);
	return rc;
}
