// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the pure parts of the PC/SC transport
 * (userspace/lib/pcsc.c) under ASan + UBSan: PC/SC return codes as
 * errnos and their words, ATRs as PC/SC part 3 builds them for
 * contactless cards (and contact ones, and broken ones), GET DATA (UID)
 * answers, reader ids. TAP output.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <winscard.h>

#include "pcsc.h"
#include "unit_tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool errors_map(void)
{
	CHECK(sectag_pcsc_errno(SCARD_S_SUCCESS) == 0);
	CHECK(sectag_pcsc_errno(SCARD_E_NO_SERVICE) == -ECONNREFUSED);
	CHECK(sectag_pcsc_errno(SCARD_E_SERVICE_STOPPED) == -ECONNREFUSED);
	CHECK(sectag_pcsc_errno(SCARD_E_NO_READERS_AVAILABLE) == -ENODEV);
	CHECK(sectag_pcsc_errno(SCARD_E_UNKNOWN_READER) == -ENODEV);
	CHECK(sectag_pcsc_errno(SCARD_E_NO_SMARTCARD) == -ENXIO);
	CHECK(sectag_pcsc_errno(SCARD_W_REMOVED_CARD) == -ENXIO);
	CHECK(sectag_pcsc_errno(SCARD_E_TIMEOUT) == -ETIMEDOUT);
	CHECK(sectag_pcsc_errno(SCARD_E_SHARING_VIOLATION) == -EBUSY);
	CHECK(sectag_pcsc_errno(SCARD_E_CANCELLED) == -ECANCELED);
	CHECK(sectag_pcsc_errno(SCARD_W_RESET_CARD) == -ECONNRESET);
	CHECK(sectag_pcsc_errno(SCARD_E_PROTO_MISMATCH) == -EPROTONOSUPPORT);
	CHECK(sectag_pcsc_errno(SCARD_E_INSUFFICIENT_BUFFER) == -EMSGSIZE);
	CHECK(sectag_pcsc_errno(SCARD_W_UNRESPONSIVE_CARD) == -EIO);
	CHECK(sectag_pcsc_errno(SCARD_F_COMM_ERROR) == -EIO);
	CHECK(sectag_pcsc_errno(0x8010FFFFL) == -EIO);	/* unknown */
	return true;
}

static bool errors_worded(void)
{
	CHECK(strstr(sectag_pcsc_strerror(-ECONNREFUSED), "pcscd is not running"));
	CHECK(strstr(sectag_pcsc_strerror(-EBUSY), "exclusively"));
	CHECK(!strcmp(sectag_pcsc_strerror(-ENOMEM), strerror(ENOMEM)));
	return true;
}

/* What vpcdbridge gives: NTAG 424 DNA's ATS historical byte 80. */
static bool atr_iso14443_4(void)
{
	static const uint8_t ntag[] = { 0x3B, 0x81, 0x80, 0x01, 0x80, 0x80 };
	/* No historical bytes: T0 80, TCK = 80 ^ 80 ^ 01. */
	static const uint8_t empty[] = { 0x3B, 0x80, 0x80, 0x01, 0x01 };

	CHECK(sectag_pcsc_atr_kind(ntag, sizeof(ntag)) ==
	      SECTAG_PCSC_ATR_ISO14443_4);
	CHECK(sectag_pcsc_atr_kind(empty, sizeof(empty)) ==
	      SECTAG_PCSC_ATR_ISO14443_4);
	return true;
}

/* PC/SC part 3 storage card: MIFARE Ultralight (standard 03, name 0003). */
static bool atr_storage(void)
{
	static const uint8_t ul[] = { 0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C,
				      0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00,
				      0x03, 0x00, 0x00, 0x00, 0x00, 0x68 };

	CHECK(sectag_pcsc_atr_kind(ul, sizeof(ul)) == SECTAG_PCSC_ATR_STORAGE);
	return true;
}

static bool atr_contact(void)
{
	/* T=0 only: no TCK. */
	static const uint8_t t0[] = { 0x3B, 0x02, 0x14, 0x50 };
	/* TA1, TD1, TD2 T=1, TA3 TB3, one historical byte, TCK. */
	uint8_t t1[] = { 0x3B, 0x91, 0x11, 0x81, 0x31, 0xFE, 0x45, 0x80,
			 0x00 };
	size_t i;

	for (i = 1; i + 1 < sizeof(t1); i++)
		t1[sizeof(t1) - 1] ^= t1[i];
	CHECK(sectag_pcsc_atr_kind(t0, sizeof(t0)) == SECTAG_PCSC_ATR_CONTACT);
	CHECK(sectag_pcsc_atr_kind(t1, sizeof(t1)) == SECTAG_PCSC_ATR_CONTACT);
	return true;
}

static bool atr_malformed(void)
{
	static const uint8_t bad_tck[] = { 0x3B, 0x81, 0x80, 0x01, 0x80, 0x81 };
	static const uint8_t bad_ts[] = { 0x3C, 0x00 };
	static const uint8_t short_hist[] = { 0x3B, 0x85, 0x80, 0x01, 0x80 };
	static const uint8_t cut_td[] = { 0x3B, 0x80 };

	CHECK(sectag_pcsc_atr_kind(bad_tck, sizeof(bad_tck)) == -EBADMSG);
	CHECK(sectag_pcsc_atr_kind(bad_ts, sizeof(bad_ts)) == -EBADMSG);
	CHECK(sectag_pcsc_atr_kind(short_hist, sizeof(short_hist)) == -EBADMSG);
	CHECK(sectag_pcsc_atr_kind(cut_td, sizeof(cut_td)) == -EBADMSG);
	CHECK(sectag_pcsc_atr_kind(bad_ts, 1) == -EBADMSG);
	CHECK(sectag_pcsc_atr_kind(bad_ts, 0) == -EBADMSG);
	return true;
}

static bool uid_answers(void)
{
	static const uint8_t seven[] = { 0x04, 0x11, 0x22, 0x33, 0x44, 0x55,
					 0x66, 0x90, 0x00 };
	static const uint8_t four[] = { 0x08, 0x01, 0x02, 0x03, 0x90, 0x00 };
	static const uint8_t ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
				       0x90, 0x00 };
	uint8_t uid[10];
	size_t len = 0;

	CHECK(!sectag_pcsc_parse_uid(seven, sizeof(seven), uid, &len));
	CHECK(len == 7 && !memcmp(uid, seven, 7));
	CHECK(!sectag_pcsc_parse_uid(four, sizeof(four), uid, &len));
	CHECK(len == 4 && uid[0] == 0x08);
	CHECK(!sectag_pcsc_parse_uid(ten, sizeof(ten), uid, &len));
	CHECK(len == 10 && uid[9] == 10);
	return true;
}

static bool uid_refused(void)
{
	static const uint8_t no_fn[] = { 0x6A, 0x81 };
	static const uint8_t no_ins[] = { 0x6D, 0x00 };
	static const uint8_t no_cla[] = { 0x6E, 0x00 };
	static const uint8_t warn[] = { 0x04, 0x11, 0x22, 0x33, 0x44, 0x55,
					0x66, 0x62, 0x82 };
	static const uint8_t odd[] = { 0x04, 0x11, 0x22, 0x33, 0x44, 0x90,
				       0x00 };
	static const uint8_t huge[13] = { [11] = 0x90 };
	uint8_t uid[10];
	size_t len;

	CHECK(sectag_pcsc_parse_uid(no_fn, 2, uid, &len) == -EOPNOTSUPP);
	CHECK(sectag_pcsc_parse_uid(no_ins, 2, uid, &len) == -EOPNOTSUPP);
	CHECK(sectag_pcsc_parse_uid(no_cla, 2, uid, &len) == -EOPNOTSUPP);
	CHECK(sectag_pcsc_parse_uid(warn, sizeof(warn), uid, &len) == -EBADMSG);
	CHECK(sectag_pcsc_parse_uid(odd, sizeof(odd), uid, &len) == -EBADMSG);
	CHECK(sectag_pcsc_parse_uid(huge, sizeof(huge), uid, &len) == -EBADMSG);
	CHECK(sectag_pcsc_parse_uid(no_fn, 1, uid, &len) == -EBADMSG);
	CHECK(sectag_pcsc_parse_uid(no_fn, 0, uid, &len) == -EBADMSG);
	return true;
}

static bool reader_ids(void)
{
	uint32_t a = sectag_pcsc_reader_id("ACS ACR1252 1S CL Reader 00 00");
	uint32_t b = sectag_pcsc_reader_id("ACS ACR1252 1S CL Reader 00 01");

	CHECK(a & SECTAG_PCSC_ID_FLAG);
	CHECK(b & SECTAG_PCSC_ID_FLAG);
	CHECK(a != b);
	CHECK(a == sectag_pcsc_reader_id("ACS ACR1252 1S CL Reader 00 00"));
	CHECK(sectag_pcsc_reader_id("") & SECTAG_PCSC_ID_FLAG);
	return true;
}

static const struct tap_case tests[] = {
	{ "pcsc_errors_map_to_errnos", errors_map },
	{ "pcsc_errors_worded", errors_worded },
	{ "atr_contactless_iso14443_4", atr_iso14443_4 },
	{ "atr_contactless_storage_card", atr_storage },
	{ "atr_contact_cards", atr_contact },
	{ "atr_malformed_refused", atr_malformed },
	{ "get_data_uid_answers", uid_answers },
	{ "get_data_refusals_and_junk", uid_refused },
	{ "reader_ids_stable_flagged_distinct", reader_ids },
};

int main(void)
{
	return tap_run_all(tests, N(tests));
}
