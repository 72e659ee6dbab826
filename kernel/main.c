// SPDX-License-Identifier: GPL-2.0
/*
 * nfc_sectag: virtual NFC readers with emulated secure tags, for the
 * NFC subsystem what mac80211_hwsim is for wireless.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/genetlink.h>

#include "sectag.h"

static unsigned int nr_readers = 1;
module_param(nr_readers, uint, 0444);
MODULE_PARM_DESC(nr_readers, "Number of readers to create at load (default 1)");

unsigned int sectag_relay_timeout_ms = 1000;
module_param_named(relay_timeout_ms, sectag_relay_timeout_ms, uint, 0644);
MODULE_PARM_DESC(relay_timeout_ms,
		 "How long a relay tag waits for its owner's answer (ms)");

/* Object lists, placement, reader RF state: see sectag.h */
DEFINE_MUTEX(sectag_lock);
/* Serialises changes to what lies in a reader's field */
DEFINE_MUTEX(sectag_rf_lock);
struct workqueue_struct *sectag_wq;

static int __init sectag_init(void)
{
	struct sectag_reader *reader;
	unsigned int i;
	int rc;

	/* Relay exchanges sleep for their answer: keep them off system_wq. */
	sectag_wq = alloc_workqueue("nfc_sectag", WQ_UNBOUND, 0);
	if (!sectag_wq)
		return -ENOMEM;

	rc = sectag_genl_init();
	if (rc)
		goto err_wq;

	for (i = 0; i < nr_readers; i++) {
		reader = sectag_reader_create(0, 0);
		if (IS_ERR(reader)) {
			rc = PTR_ERR(reader);
			goto err_readers;
		}
	}
	return 0;

err_readers:
	sectag_genl_exit();
	flush_workqueue(sectag_wq);
	sectag_destroy_all();
err_wq:
	destroy_workqueue(sectag_wq);
	return rc;
}

static void __exit sectag_exit(void)
{
	/* No new requests, then no pending socket releases, then teardown. */
	sectag_genl_exit();
	flush_workqueue(sectag_wq);
	sectag_destroy_all();
	destroy_workqueue(sectag_wq);
}

module_init(sectag_init);
module_exit(sectag_exit);

MODULE_DESCRIPTION("Virtual NFC readers with emulated NTAG 424 DNA secure tags");
MODULE_AUTHOR("sectag developers");
MODULE_LICENSE("GPL");
MODULE_ALIAS_GENL_FAMILY("nfc_sectag");
