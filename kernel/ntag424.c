// SPDX-License-Identifier: GPL-2.0
/*
 * NXP NTAG 424 DNA (NT4H2421Gx) tag-side protocol engine, AES mode.
 *
 * Behaviour follows the project reference (ntag424.md: datasheet rev 3.0
 * and AN12196 vectors). Where the reference is silent or marks a point
 * UNCERTAIN, this engine chooses as follows:
 *
 *  - Power-up state: PICC level (MF) selected, no EF. File and key
 *    commands answer 91 9D until the application is selected (ISOSelectFile
 *    by DF name D2760000850101 or FID E110). At MF level keys 1..4 are the
 *    LRP-only originality keys: AES authentication gives 91 9D with them
 *    and 91 40 with key 0; GetKeyVersion gives 00 for them and 91 40 for
 *    key 0. GetVersion and Read_Sig work at both levels.
 *  - Selecting a DF (application, MF, or parent with P1=03) ends any
 *    authentication; selecting an EF does not. ISO commands never count
 *    in CmdCtr. EF FIDs are found only with the application selected;
 *    P1=01 finds only E110, P1=02 only EFs, P1=00 everything.
 *  - Native commands: Le may be omitted (AN12196 itself omits it, V8); a
 *    present Le other than 00 gives 91 7E. P1/P2 other than 00 give 91 9E.
 *  - A pending multi-frame command (authentication part 2, GetVersion parts
 *    2/3) is silently aborted by any other native command, which then runs
 *    normally; ISORead/UpdateBinary instead answer 69 85 (the reference's
 *    "multi-pass command ongoing"). INS AF with nothing pending: 91 1C.
 *  - ISOReadBinary/ISOUpdateBinary: the SFI form (P1 bit 7) is refused with
 *    6A 86, since the SFI values are not documented. A read offset at or
 *    beyond the end of the file gives 6A 86; Le larger than the remaining
 *    bytes gives 6C XX (XX = remaining); Le 00 reads to the end of the file.
 *    An update beyond the end of the file gives 69 85.
 *  - Any status other than 90 00, 91 00 or 91 AF drops the session (also for
 *    ISO errors, e.g. 69 82 on ISOReadBinary while authenticated).
 *  - TotFailCtr is kept per key: every 91 AE in authentication part 2 adds
 *    one to the key's counter, success subtracts TotFailCtrDecr; at
 *    TotFailCtrLimit the key answers 91 9D until ChangeKey replaces it.
 *    The 91 AD delay is not modelled. ntag424_info reports the highest
 *    counter (the key closest to being locked).
 *  - KeyNo with bits 7..6 set: 91 40. AuthenticateEV2First asking for LRP
 *    (PCDcap2.1 bit 1) on this AES tag: 91 9D.
 *  - SDM is not implemented: ChangeFileSettings with FileOption bit 6 gives
 *    91 9E on file 02 and 91 9D on the others; GetFileCounters gives 91 9D.
 *    Other FileOption bits but 1..0, or an access nibble 5..D: 91 9E.
 *  - SetConfiguration: option 00 (Random ID) is stored at once (and
 *    reported by ntag424_get_info) but all its effects (4-byte random UID,
 *    zero UID in GetVersion, Read_Sig needing auth) start at the next power
 *    cycle; 04 (SMConfig) is validated and stored, but has no
 *    effect because frames reach the engine already reassembled; 0A and 0B
 *    are validated and applied (0B also sets GetVersion HWSubType 02/82);
 *    05 (LRP) and anything else: 91 9E. LRP can never be enabled.
 *  - ReadData never continues with 91 AF: a response that would exceed 256
 *    bytes with secure messaging gives 91 7E. WriteData Length 0 is 91 7E.
 *  - Read_Sig returns 56 random bytes drawn at creation (they do not verify
 *    under NXP's key: an emulated tag is no original). 91 0B when not
 *    authenticated under Random ID, or authenticated without a valid MAC;
 *    91 0C for a wrong length or address.
 *  - GetVersion part 3: real UID (zero under Random ID), BatchNo 00000000,
 *    FabKey 0, CW 01, year 24 (BCD); no FabKeyID byte.
 *  - Default contents of files 02 and 03 are all zero.
 *
 * Every command is validated completely (lengths, MAC, padding, access,
 * parameters) and its response protected before any state is committed.
 * Session keys, RndB and plaintext scratch are wiped as soon as they are
 * no longer needed, and the transforms are re-keyed with zeros after each
 * command, so no key schedule outlives the command that used it.
 */
#include <linux/crc32.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <crypto/skcipher.h>

#include "ntag424_sm.h"

/* ISO 7816-4 status words */
#define ISO_OK			0x9000
#define ISO_WRONG_LEN		0x6700
#define ISO_SECURITY		0x6982
#define ISO_CONDITIONS		0x6985
#define ISO_NOT_FOUND		0x6a82
#define ISO_P1P2		0x6a86
#define ISO_LC_P1P2		0x6a87
#define ISO_WRONG_LE		0x6c00
#define ISO_INS			0x6d00
#define ISO_CLA			0x6e00

#define CLA_ISO			0x00
#define CLA_NATIVE		0x90
#define INS_MORE		0xaf

/* FileOption bit 6: Secure Dynamic Messaging */
#define FO_SDM			0x40

/* Access condition nibbles */
#define AR_FREE			0xe
#define AR_NEVER		0xf

struct nt_file_def {
	u16 fid;
	u16 size;
	u16 base;		/* offset in ntag424.data */
	u8 option;		/* virgin FileOption */
	u16 ar;			/* virgin access rights: R W RW C nibbles */
};

static const struct nt_file_def nt_files[NT_NFILES] = {
	{ 0xe103, 32, 0, CM_PLAIN, 0xe000 },	/* CC */
	{ 0xe104, 256, 32, CM_PLAIN, 0xeee0 },	/* NDEF */
	{ 0xe105, 128, 288, CM_FULL, 0x2330 },	/* proprietary */
};

/* NFC Forum T4T capability container as delivered [DS 8.2.3.2] */
static const u8 nt_cc_virgin[] = {
	0x00, 0x17, 0x20, 0x01, 0x00, 0x00, 0xff,
	0x04, 0x06, 0xe1, 0x04, 0x01, 0x00, 0x00, 0x00,
	0x05, 0x06, 0xe1, 0x05, 0x00, 0x80, 0x82, 0x83,
};

static const u8 nt_df_app[] = { 0xd2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01 };
static const u8 nt_df_mf[] = { 0xd2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x00 };
#define FID_MF			0x3f00
#define FID_APP			0xe110

static const u8 nt_hw_version[] = { 0x04, 0x04, 0x02, 0x30, 0x00, 0x11, 0x05 };
static const u8 nt_sw_version[] = { 0x04, 0x04, 0x02, 0x01, 0x02, 0x11, 0x05 };
static const u8 nt_production[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x24 };
#define NT_VER_LEN		7
#define NT_VER3_LEN		(NTAG424_UID_LEN + sizeof(nt_production))

struct nt_handler {
	u8 ins;
	u8 flags;
	int (*fn)(struct ntag424 *tag, struct nt_cmd *c);
};

#define NT_F_APP		BIT(0)	/* needs the application selected */
#define NT_F_NOCTR		BIT(1)	/* not subject to the CmdCtr limit */

static u32 nt_le24(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16;
}

static u16 nt_le16(const u8 *p)
{
	return p[0] | p[1] << 8;
}

static u32 nt_le32(const u8 *p)
{
	return nt_le16(p) | (u32)nt_le16(p + 2) << 16;
}

static void nt_rotl(u8 *dst, const u8 *src)
{
	memcpy(dst, src + 1, NT_BLOCK - 1);
	dst[NT_BLOCK - 1] = src[0];
}

/* ---------------------------------------------------------------------- */
/* Files and access rights                                                */

static u8 nt_ar(u16 ar, unsigned int shift)
{
	return (ar >> shift) & 0xf;
}

#define AR_READ			12
#define AR_WRITE		8
#define AR_RW			4
#define AR_CHANGE		0

static int nt_file_idx(u8 fileno)
{
	return fileno >= 1 && fileno <= NT_NFILES ? fileno - 1 : -1;
}

static u8 nt_file_mode(struct ntag424 *tag, int f)
{
	u8 mode = tag->file_opt[f] & 0x03;

	return mode == CM_MAC || mode == CM_FULL ? mode : CM_PLAIN;
}

/*
 * Grant an access by right @r1 or @r2 and pick the CommMode: the file's
 * mode when the session key grants it, Plain when only "free" does.
 */
static int nt_file_access(struct ntag424 *tag, int f, unsigned int r1,
			  unsigned int r2, u8 *mode)
{
	u8 a = nt_ar(tag->file_ar[f], r1), b = nt_ar(tag->file_ar[f], r2);

	if (tag->ses.active && (a == tag->ses.key || b == tag->ses.key)) {
		*mode = nt_file_mode(tag, f);
		return 0;
	}
	if (a == AR_FREE || b == AR_FREE) {
		*mode = CM_PLAIN;
		return 0;
	}
	return SW_AUTH;
}

static bool nt_ar_valid(u16 ar)
{
	unsigned int shift;
	u8 v;

	for (shift = 0; shift < 16; shift += 4) {
		v = nt_ar(ar, shift);
		if (v >= NTAG424_NKEYS && v != AR_FREE && v != AR_NEVER)
			return false;
	}
	return true;
}

static u8 *nt_file_data(struct ntag424 *tag, int f)
{
	return tag->data + nt_files[f].base;
}

/* ---------------------------------------------------------------------- */
/* Authentication [DS 9.1.5-9.1.7]                                        */

static bool nt_key_locked(struct ntag424 *tag, u8 k)
{
	return tag->fail_on && tag->fail_ctr[k] >= tag->fail_limit;
}

static int nt_auth_key_check(struct ntag424 *tag, u8 keyno)
{
	if (keyno >= NTAG424_NKEYS)
		return SW_NO_KEY;
	/* At MF level only the LRP originality keys 1..4 exist. */
	if (!tag->app_selected)
		return keyno ? SW_DENIED : SW_NO_KEY;
	if (nt_key_locked(tag, keyno))
		return SW_DENIED;
	return 0;
}

/* Part 1: answer E(Kx, RndB) and wait for part 2. */
static int nt_auth_challenge(struct ntag424 *tag, struct nt_cmd *c, u8 keyno,
			     enum nt_pending state)
{
	struct nt_pend *p = &tag->pend;
	int rc;

	get_random_bytes(p->rndb, NT_BLOCK);
	if (state == NT_AUTH_FIRST) {
		get_random_bytes(p->ti, NT_TI_LEN);
		p->ctr = 0;
	} else {
		memcpy(p->ti, tag->ses.ti, NT_TI_LEN);
		p->ctr = tag->ses.ctr;
	}
	/* The old session ends here, whatever part 2 brings. */
	nt_end_session(tag);
	memcpy(tag->out, p->rndb, NT_BLOCK);
	rc = nt_cbc(tag, tag->key[keyno], NULL, tag->out, NT_BLOCK, true);
	if (rc)
		return rc;
	p->key = keyno;
	p->state = state;
	c->rlen = NT_BLOCK;
	return SW_MORE;
}

static int nt_cmd_auth_first(struct ntag424 *tag, struct nt_cmd *c)
{
	unsigned int lencap;
	int rc;

	if (c->lc < 2)
		return SW_LENGTH;
	lencap = c->data[1];
	if (lencap > NT_CAP_LEN || c->lc != 2 + lencap)
		return SW_LENGTH;
	rc = nt_auth_key_check(tag, c->data[0]);
	if (rc)
		return rc;
	/* PCDcap2.1 bit 1 asks for LRP, which this tag never enables. */
	if (lencap && (c->data[2] & 0x02))
		return SW_DENIED;
	memset(tag->pend.pcdcap, 0, NT_CAP_LEN);
	memcpy(tag->pend.pcdcap, c->data + 2, lencap);
	return nt_auth_challenge(tag, c, c->data[0], NT_AUTH_FIRST);
}

static int nt_cmd_auth_nonfirst(struct ntag424 *tag, struct nt_cmd *c)
{
	int rc;

	if (c->lc != 1)
		return SW_LENGTH;
	if (!tag->ses.active)
		return SW_DENIED;
	rc = nt_auth_key_check(tag, c->data[0]);
	if (rc)
		return rc;
	return nt_auth_challenge(tag, c, c->data[0], NT_AUTH_NONFIRST);
}

static void nt_auth_failed(struct ntag424 *tag, u8 k)
{
	if (tag->fail_on && tag->fail_ctr[k] < tag->fail_limit)
		tag->fail_ctr[k]++;
}

/* Part 2 answer: E(Kx, TI || RndA' || PDcap2 || PCDcap2) or E(Kx, RndA') */
static int nt_auth_answer(struct ntag424 *tag, struct nt_cmd *c,
			  const u8 *key, const u8 *rnda)
{
	struct nt_pend *p = &tag->pend;
	u8 *o = tag->out;
	unsigned int n = NT_BLOCK;

	if (c->pend == NT_AUTH_FIRST) {
		memcpy(o, p->ti, NT_TI_LEN);
		nt_rotl(o + NT_TI_LEN, rnda);
		memset(o + 20, 0, NT_CAP_LEN);	/* PDcap2: AES mode */
		memcpy(o + 26, p->pcdcap, NT_CAP_LEN);
		n = 2 * NT_BLOCK;
	} else {
		nt_rotl(o, rnda);
	}
	c->rlen = n;
	return nt_cbc(tag, key, NULL, o, n, true);
}

static int nt_auth_response(struct ntag424 *tag, struct nt_cmd *c)
{
	struct nt_pend *p = &tag->pend;
	const u8 *key = tag->key[p->key];
	u8 *rnda = tag->blk, *rndb1 = tag->blk + NT_BLOCK;
	u8 expect[NT_BLOCK];
	int rc;

	if (c->lc != 2 * NT_BLOCK)
		return SW_LENGTH;
	memcpy(tag->blk, c->data, 2 * NT_BLOCK);
	rc = nt_cbc(tag, key, NULL, tag->blk, 2 * NT_BLOCK, false);
	if (rc)
		goto out;
	nt_rotl(expect, p->rndb);
	if (crypto_memneq(expect, rndb1, NT_BLOCK)) {
		nt_auth_failed(tag, p->key);
		rc = SW_AUTH;
		goto out;
	}
	rc = nt_session_keys(tag, key, rnda, p->rndb);
	if (!rc)
		rc = nt_auth_answer(tag, c, key, rnda);
	if (rc)
		goto out;
	tag->ses.active = true;
	tag->ses.key = p->key;
	tag->ses.ctr = p->ctr;
	memcpy(tag->ses.ti, p->ti, NT_TI_LEN);
	tag->fail_ctr[p->key] -= min(tag->fail_ctr[p->key], tag->fail_decr);
	rc = SW_OK;
out:
	memzero_explicit(tag->blk, sizeof(tag->blk));
	memzero_explicit(expect, sizeof(expect));
	return rc;
}

/* ---------------------------------------------------------------------- */
/* GetVersion [DS 10.5.2]                                                 */

static void nt_version_hw(struct ntag424 *tag, u8 *o)
{
	memcpy(o, nt_hw_version, NT_VER_LEN);
	if (!tag->strong_mod)
		o[2] |= 0x80;	/* HWSubType: standard back modulation */
}

static void nt_version_prod(struct ntag424 *tag, u8 *o)
{
	if (tag->rid_active)
		memset(o, 0, NTAG424_UID_LEN);
	else
		memcpy(o, tag->uid, NTAG424_UID_LEN);
	memcpy(o + NTAG424_UID_LEN, nt_production, sizeof(nt_production));
}

static int nt_cmd_get_version(struct ntag424 *tag, struct nt_cmd *c)
{
	int rc = nt_sm_in(tag, c, CM_MAC, 0, false);

	if (rc)
		return rc;
	/* The three frames count as one command. */
	tag->pend.mac = tag->ses.active;
	if (tag->ses.active)
		tag->ses.ctr++;
	nt_version_hw(tag, tag->out);
	c->rlen = NT_VER_LEN;
	tag->pend.state = NT_GETVER2;
	return SW_MORE;
}

/* Part 3 in a session: part3 || MACt(00 || CmdCtr || TI || all parts) */
static int nt_version_last(struct ntag424 *tag, struct nt_cmd *c)
{
	u8 *all = tag->plain;
	int rc;

	nt_version_hw(tag, all);
	memcpy(all + NT_VER_LEN, nt_sw_version, NT_VER_LEN);
	nt_version_prod(tag, all + 2 * NT_VER_LEN);
	memcpy(tag->out, all + 2 * NT_VER_LEN, NT_VER3_LEN);
	c->rlen = NT_VER3_LEN;
	if (!tag->pend.mac)
		return SW_OK;
	if (!tag->ses.active)
		return SW_INTEGRITY;
	rc = nt_sm_mact(tag, 0x00, all, 2 * NT_VER_LEN + NT_VER3_LEN,
			tag->out + NT_VER3_LEN);
	c->rlen += NT_MACT_LEN;
	return rc ? rc : SW_OK;
}

static int nt_version_next(struct ntag424 *tag, struct nt_cmd *c)
{
	if (c->has_lc)
		return SW_LENGTH;
	if (c->pend == NT_GETVER3)
		return nt_version_last(tag, c);
	memcpy(tag->out, nt_sw_version, NT_VER_LEN);
	c->rlen = NT_VER_LEN;
	tag->pend.state = NT_GETVER3;
	return SW_MORE;
}

/* INS AF: the next frame of whatever is pending */
static int nt_cmd_more(struct ntag424 *tag, struct nt_cmd *c)
{
	switch (c->pend) {
	case NT_AUTH_FIRST:
	case NT_AUTH_NONFIRST:
		return nt_auth_response(tag, c);
	case NT_GETVER2:
	case NT_GETVER3:
		return nt_version_next(tag, c);
	default:
		return SW_ILLEGAL_CMD;
	}
}

/* ---------------------------------------------------------------------- */
/* Keys [DS 10.6]                                                         */

static int nt_cmd_get_card_uid(struct ntag424 *tag, struct nt_cmd *c)
{
	int rc;

	if (!tag->ses.active)
		return SW_AUTH;
	rc = nt_sm_in(tag, c, CM_FULL, 0, false);
	if (rc)
		return rc;
	rc = nt_sm_out(tag, c, CM_FULL, tag->uid, NTAG424_UID_LEN);
	return rc ? rc : SW_OK;
}

/* Key 0 in its own session: NewKey || KeyVer; the session ends. */
static int nt_change_key0(struct ntag424 *tag, struct nt_cmd *c)
{
	if (c->plen != NTAG424_KEY_LEN + 1)
		return SW_LENGTH;
	memcpy(tag->key[0], c->payload, NTAG424_KEY_LEN);
	tag->key_ver[0] = c->payload[NTAG424_KEY_LEN];
	tag->fail_ctr[0] = 0;
	/* Bare 91 00: no MAC, the session built on the old key is over. */
	nt_end_session(tag);
	return SW_OK;
}

/* Keys 1..4: (NewKey ^ OldKey) || KeyVer || JAMCRC32(NewKey) LE */
static int nt_change_key_n(struct ntag424 *tag, struct nt_cmd *c, u8 k)
{
	u8 *nk = tag->blk;
	u32 crc;
	int i, rc;

	if (c->plen != NTAG424_KEY_LEN + 1 + 4)
		return SW_LENGTH;
	for (i = 0; i < NTAG424_KEY_LEN; i++)
		nk[i] = c->payload[i] ^ tag->key[k][i];
	crc = crc32_le(~0U, nk, NTAG424_KEY_LEN);	/* no final XOR */
	if (crc != nt_le32(c->payload + NTAG424_KEY_LEN + 1)) {
		rc = SW_INTEGRITY;
		goto out;
	}
	rc = nt_sm_out(tag, c, CM_FULL, NULL, 0);
	if (rc)
		goto out;
	memcpy(tag->key[k], nk, NTAG424_KEY_LEN);
	tag->key_ver[k] = c->payload[NTAG424_KEY_LEN];
	tag->fail_ctr[k] = 0;	/* a new key is usable again */
	rc = SW_OK;
out:
	memzero_explicit(nk, NTAG424_KEY_LEN);
	return rc;
}

static int nt_cmd_change_key(struct ntag424 *tag, struct nt_cmd *c)
{
	u8 k;
	int rc;

	if (!tag->ses.active)
		return SW_AUTH;
	rc = nt_sm_in(tag, c, CM_FULL, 1, true);
	if (rc)
		return rc;
	k = c->data[0];
	if (k >= NTAG424_NKEYS)
		return SW_NO_KEY;
	/* Only the AppMasterKey session may change keys. */
	if (tag->ses.key != 0)
		return SW_AUTH;
	return k ? nt_change_key_n(tag, c, k) : nt_change_key0(tag, c);
}

static int nt_cmd_get_key_version(struct ntag424 *tag, struct nt_cmd *c)
{
	static const u8 none;
	const u8 *ver;
	u8 k;
	int rc;

	rc = nt_sm_in(tag, c, CM_MAC, 1, false);
	if (rc)
		return rc;
	k = c->data[0];
	if (k >= NTAG424_NKEYS || (!tag->app_selected && !k))
		return SW_NO_KEY;
	/* At MF level keys 1..4 are the originality keys: version 00. */
	ver = tag->app_selected ? &tag->key_ver[k] : &none;
	rc = nt_sm_out(tag, c, CM_MAC, ver, 1);
	return rc ? rc : SW_OK;
}

/* ---------------------------------------------------------------------- */
/* File settings [DS 10.7]                                                */

static int nt_cmd_get_file_settings(struct ntag424 *tag, struct nt_cmd *c)
{
	u8 fs[7];
	int f, rc;

	rc = nt_sm_in(tag, c, CM_MAC, 1, false);
	if (rc)
		return rc;
	f = nt_file_idx(c->data[0]);
	if (f < 0)
		return SW_NO_FILE;
	fs[0] = 0x00;			/* StandardData */
	fs[1] = tag->file_opt[f];
	nt_put_le16(fs + 2, tag->file_ar[f]);
	fs[4] = nt_files[f].size;
	fs[5] = nt_files[f].size >> 8;
	fs[6] = 0;
	rc = nt_sm_out(tag, c, CM_MAC, fs, sizeof(fs));
	return rc ? rc : SW_OK;
}

/* FileOption || AccessRights; the SDM fields are not supported. */
static int nt_check_file_settings(struct nt_cmd *c, u8 fileno)
{
	if (c->plen < 1)
		return SW_LENGTH;
	if (c->payload[0] & FO_SDM)
		return fileno == 2 ? SW_PARAM : SW_DENIED;
	if (c->payload[0] & ~0x03)
		return SW_PARAM;
	if (c->plen != 3)
		return SW_LENGTH;
	if (!nt_ar_valid(nt_le16(c->payload + 1)))
		return SW_PARAM;
	return 0;
}

/* Full in a session (granted by the session key or free), else Plain. */
static int nt_change_right(struct ntag424 *tag, struct nt_cmd *c, int f)
{
	u8 change = nt_ar(tag->file_ar[f], AR_CHANGE);
	int rc;

	/* The fuse: Change = F can never be undone. */
	if (change == AR_NEVER)
		return SW_DENIED;
	if (!tag->ses.active)
		return change == AR_FREE ? nt_sm_in(tag, c, CM_PLAIN, 1, true) :
					   SW_AUTH;
	rc = nt_sm_in(tag, c, CM_FULL, 1, true);
	if (rc)
		return rc;
	return change == AR_FREE || change == tag->ses.key ? 0 : SW_AUTH;
}

static int nt_cmd_change_file_settings(struct ntag424 *tag, struct nt_cmd *c)
{
	int f, rc;

	if (c->lc < 1)
		return SW_LENGTH;
	f = nt_file_idx(c->data[0]);
	if (f < 0)
		return SW_NO_FILE;
	rc = nt_change_right(tag, c, f);
	if (!rc)
		rc = nt_check_file_settings(c, c->data[0]);
	if (!rc)
		rc = nt_sm_out(tag, c, CM_FULL, NULL, 0);
	if (rc)
		return rc;
	tag->file_opt[f] = c->payload[0];
	tag->file_ar[f] = nt_le16(c->payload + 1);
	return SW_OK;
}

static int nt_cmd_get_file_counters(struct ntag424 *tag, struct nt_cmd *c)
{
	int rc;

	if (c->lc < 1)
		return SW_LENGTH;
	if (nt_file_idx(c->data[0]) < 0)
		return SW_NO_FILE;
	rc = nt_sm_in(tag, c, CM_FULL, 1, false);
	/* No file has SDM enabled. */
	return rc ? rc : SW_DENIED;
}

/* ---------------------------------------------------------------------- */
/* ReadData / WriteData [DS 10.8]                                         */

/* FileNo || Offset(3) || Length(3): check the file and pick the mode. */
static int nt_data_header(struct ntag424 *tag, struct nt_cmd *c, bool write,
			  int *f, u8 *mode)
{
	if (c->lc < 7)
		return SW_LENGTH;
	*f = nt_file_idx(c->data[0]);
	if (*f < 0)
		return SW_NO_FILE;
	return nt_file_access(tag, *f, write ? AR_WRITE : AR_READ, AR_RW,
			      mode);
}

static int nt_cmd_read_data(struct ntag424 *tag, struct nt_cmd *c)
{
	u32 off, len, size;
	u8 mode;
	int f, rc;

	rc = nt_data_header(tag, c, false, &f, &mode);
	if (!rc)
		rc = nt_sm_in(tag, c, mode, 7, false);
	if (rc)
		return rc;
	off = nt_le24(c->data + 1);
	len = nt_le24(c->data + 4);
	size = nt_files[f].size;
	if (off >= size || len > size - off)
		return SW_BOUNDARY;
	if (!len)
		len = size - off;	/* to the end of the file */
	rc = nt_sm_out(tag, c, mode, nt_file_data(tag, f) + off, len);
	return rc ? rc : SW_OK;
}

static int nt_cmd_write_data(struct ntag424 *tag, struct nt_cmd *c)
{
	u32 off, len, size;
	u8 mode;
	int f, rc;

	rc = nt_data_header(tag, c, true, &f, &mode);
	if (!rc)
		rc = nt_sm_in(tag, c, mode, 7, true);
	if (rc)
		return rc;
	off = nt_le24(c->data + 1);
	len = nt_le24(c->data + 4);
	size = nt_files[f].size;
	/* Length is the plaintext length (reference V5, pitfall 10). */
	if (!len || len != c->plen)
		return SW_LENGTH;
	if (off > size || len > size - off)
		return SW_BOUNDARY;
	rc = nt_sm_out(tag, c, mode, NULL, 0);
	if (rc)
		return rc;
	memcpy(nt_file_data(tag, f) + off, c->payload, len);
	return SW_OK;
}

/* ---------------------------------------------------------------------- */
/* SetConfiguration [DS 10.5.1]                                           */

static int nt_config_check(u8 option, const u8 *p, unsigned int len)
{
	static const u8 lens[] = { [0x00] = 1, [0x04] = 2, [0x0a] = 5,
				   [0x0b] = 1 };

	/* 05 would enable LRP, which this AES engine must never do. */
	if (option >= ARRAY_SIZE(lens) || !lens[option])
		return SW_PARAM;
	if (len != lens[option])
		return SW_LENGTH;
	switch (option) {
	case 0x00:	/* PICCConfig: bit 1 enables Random ID */
		return p[0] & ~0x02 ? SW_PARAM : 0;
	case 0x04:	/* SMConfig: bit 2 disables chained writes */
		return (p[0] & ~0x04) || p[1] ? SW_PARAM : 0;
	case 0x0a:	/* FailedCtrOption, TotFailCtrLimit, TotFailCtrDecr */
		return (p[0] & ~0x01) || !nt_le16(p + 1) ? SW_PARAM : 0;
	default:	/* 0x0b HW option: bit 0 strong back modulation */
		return p[0] & ~0x01 ? SW_PARAM : 0;
	}
}

static void nt_config_apply(struct ntag424 *tag, u8 option, const u8 *p)
{
	switch (option) {
	case 0x00:
		/* Irreversible; effective from the next power cycle. */
		if (p[0] & 0x02)
			tag->random_id = 1;
		break;
	case 0x04:
		tag->sm_config |= p[0];
		break;
	case 0x0a:
		tag->fail_on = p[0] & 0x01;
		tag->fail_limit = nt_le16(p + 1);
		tag->fail_decr = nt_le16(p + 3);
		break;
	default:
		tag->strong_mod = p[0] & 0x01;
		break;
	}
}

static int nt_cmd_set_configuration(struct ntag424 *tag, struct nt_cmd *c)
{
	int rc;

	if (!tag->ses.active)
		return SW_AUTH;
	rc = nt_sm_in(tag, c, CM_FULL, 1, true);
	if (rc)
		return rc;
	if (tag->ses.key != 0)
		return SW_AUTH;
	rc = nt_config_check(c->data[0], c->payload, c->plen);
	if (!rc)
		rc = nt_sm_out(tag, c, CM_FULL, NULL, 0);
	if (rc)
		return rc;
	nt_config_apply(tag, c->data[0], c->payload);
	return SW_OK;
}

/* ---------------------------------------------------------------------- */
/* Read_Sig [DS 10.10.1]                                                  */

static int nt_cmd_read_sig(struct ntag424 *tag, struct nt_cmd *c)
{
	int rc;

	if (tag->ses.active) {
		if (c->lc == 1)
			return SW_SIG_DENIED;	/* MAC missing */
		if (c->lc != 1 + NT_MACT_LEN)
			return SW_SIG_FORMAT;
		rc = nt_sm_in(tag, c, CM_FULL, 1, false);
		if (rc == SW_INTEGRITY)
			return SW_SIG_DENIED;
		if (rc)
			return rc;
	} else if (tag->rid_active) {
		return SW_SIG_DENIED;
	} else if (c->lc != 1) {
		return SW_SIG_FORMAT;
	}
	if (c->data[0] != 0x00)
		return SW_SIG_FORMAT;
	rc = nt_sm_out(tag, c, CM_FULL, tag->sig, NT_SIG_LEN);
	return rc ? rc : SW_OK;
}

/* ---------------------------------------------------------------------- */
/* ISO 7816-4 commands [DS 10.9]                                          */

static void nt_select_df(struct ntag424 *tag, bool app)
{
	tag->app_selected = app;
	tag->file = -1;
	nt_end_session(tag);	/* selecting a DF resets authentication */
}

static int nt_select_name(struct ntag424 *tag, struct nt_cmd *c)
{
	if (!c->has_lc)
		return ISO_LC_P1P2;
	if (c->lc > 16)
		return ISO_WRONG_LEN;
	if (c->lc == sizeof(nt_df_app) && !memcmp(c->data, nt_df_app, c->lc))
		nt_select_df(tag, true);
	else if (c->lc == sizeof(nt_df_mf) && !memcmp(c->data, nt_df_mf, c->lc))
		nt_select_df(tag, false);
	else
		return ISO_NOT_FOUND;
	return ISO_OK;
}

static int nt_select_ef(struct ntag424 *tag, u16 fid)
{
	int f;

	for (f = 0; f < NT_NFILES; f++) {
		if (nt_files[f].fid == fid && tag->app_selected) {
			tag->file = f;
			return ISO_OK;
		}
	}
	return ISO_NOT_FOUND;
}

/* P1 00: any FID; 01: child DF; 02: EF under the current DF */
static int nt_select_fid(struct ntag424 *tag, struct nt_cmd *c)
{
	u16 fid;

	if (!c->has_lc && c->p1 == 0x00)
		fid = FID_MF;
	else if (c->lc == 2)
		fid = c->data[0] << 8 | c->data[1];
	else
		return ISO_LC_P1P2;
	if (fid == FID_MF && c->p1 == 0x00)
		nt_select_df(tag, false);
	else if (fid == FID_APP && c->p1 != 0x02)
		nt_select_df(tag, true);
	else if (c->p1 != 0x01)
		return nt_select_ef(tag, fid);
	else
		return ISO_NOT_FOUND;
	return ISO_OK;
}

static int nt_iso_select(struct ntag424 *tag, struct nt_cmd *c)
{
	/* P2 00 asks for FCI, 0C for none; the tag never returns FCI. */
	if (c->p2 != 0x00 && c->p2 != 0x0c)
		return ISO_P1P2;
	switch (c->p1) {
	case 0x00:
	case 0x01:
	case 0x02:
		return nt_select_fid(tag, c);
	case 0x03:
		if (c->has_lc)
			return ISO_LC_P1P2;
		if (!tag->app_selected)
			return ISO_NOT_FOUND;
		nt_select_df(tag, false);
		return ISO_OK;
	case 0x04:
		return nt_select_name(tag, c);
	default:
		return ISO_P1P2;
	}
}

/* Common checks of ISOReadBinary/ISOUpdateBinary: plain, free access. */
static int nt_iso_file(struct ntag424 *tag, struct nt_cmd *c,
		       unsigned int right)
{
	if (tag->ses.active)
		return ISO_SECURITY;
	if (c->pend != NT_IDLE)
		return ISO_CONDITIONS;
	if (c->p1 & 0x80)
		return ISO_P1P2;	/* SFI form: not supported */
	if (tag->file < 0)
		return ISO_CONDITIONS;
	if (nt_ar(tag->file_ar[tag->file], right) != AR_FREE &&
	    nt_ar(tag->file_ar[tag->file], AR_RW) != AR_FREE)
		return ISO_SECURITY;
	return 0;
}

static int nt_iso_read(struct ntag424 *tag, struct nt_cmd *c)
{
	unsigned int off = (c->p1 & 0x7f) << 8 | c->p2, size, n;
	int rc;

	if (c->has_lc || !c->has_le)
		return ISO_WRONG_LEN;
	rc = nt_iso_file(tag, c, AR_READ);
	if (rc)
		return rc;
	size = nt_files[tag->file].size;
	if (off >= size)
		return ISO_P1P2;
	n = c->le ? c->le : min(size - off, 256U);
	if (n > size - off)
		return ISO_WRONG_LE | (size - off);
	memcpy(tag->out, nt_file_data(tag, tag->file) + off, n);
	c->rlen = n;
	return ISO_OK;
}

static int nt_iso_update(struct ntag424 *tag, struct nt_cmd *c)
{
	unsigned int off = (c->p1 & 0x7f) << 8 | c->p2, size;
	int rc;

	/* A trailing Le is refused (reference pitfall 8). */
	if (!c->has_lc || c->has_le)
		return ISO_WRONG_LEN;
	rc = nt_iso_file(tag, c, AR_WRITE);
	if (rc)
		return rc;
	size = nt_files[tag->file].size;
	if (off > size || c->lc > size - off)
		return ISO_CONDITIONS;
	memcpy(nt_file_data(tag, tag->file) + off, c->data, c->lc);
	return ISO_OK;
}

/* ---------------------------------------------------------------------- */
/* Dispatch                                                               */

static const struct nt_handler nt_native_cmds[] = {
	{ 0x71, NT_F_NOCTR, nt_cmd_auth_first },
	{ 0x77, 0, nt_cmd_auth_nonfirst },
	{ INS_MORE, NT_F_NOCTR, nt_cmd_more },
	{ 0x60, 0, nt_cmd_get_version },
	{ 0x51, NT_F_APP, nt_cmd_get_card_uid },
	{ 0xc4, NT_F_APP, nt_cmd_change_key },
	{ 0x64, 0, nt_cmd_get_key_version },
	{ 0xf5, NT_F_APP, nt_cmd_get_file_settings },
	{ 0x5f, NT_F_APP, nt_cmd_change_file_settings },
	{ 0xf6, NT_F_APP, nt_cmd_get_file_counters },
	{ 0xad, NT_F_APP, nt_cmd_read_data },
	{ 0x8d, NT_F_APP, nt_cmd_write_data },
	{ 0x5c, NT_F_APP, nt_cmd_set_configuration },
	{ 0x3c, 0, nt_cmd_read_sig },
};

static const struct nt_handler nt_iso_cmds[] = {
	{ 0xa4, 0, nt_iso_select },
	{ 0xb0, 0, nt_iso_read },
	{ 0xd6, 0, nt_iso_update },
};

static const struct nt_handler *nt_find(const struct nt_handler *tbl,
					size_t n, u8 ins)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tbl[i].ins == ins)
			return &tbl[i];
	return NULL;
}

static int nt_native(struct ntag424 *tag, struct nt_cmd *c)
{
	const struct nt_handler *h;

	h = nt_find(nt_native_cmds, ARRAY_SIZE(nt_native_cmds), c->ins);
	if (!h)
		return SW_ILLEGAL_CMD;
	if (c->p1 || c->p2)
		return SW_PARAM;
	if (c->has_le && c->le)
		return SW_LENGTH;
	if ((h->flags & NT_F_APP) && !tag->app_selected)
		return SW_DENIED;
	/* At CmdCtr FFFF no further command can be protected. */
	if (tag->ses.active && tag->ses.ctr == NT_MAX_CTR &&
	    !(h->flags & NT_F_NOCTR))
		return SW_INTEGRITY;
	return h->fn(tag, c);
}

static int nt_iso(struct ntag424 *tag, struct nt_cmd *c)
{
	const struct nt_handler *h;

	h = nt_find(nt_iso_cmds, ARRAY_SIZE(nt_iso_cmds), c->ins);
	return h ? h->fn(tag, c) : ISO_INS;
}

/* Short APDU cases 1-4 [ISO 7816-3]; extended length is not supported. */
static bool nt_parse(struct ntag424 *tag, struct nt_cmd *c, size_t len)
{
	u8 *a = tag->in;

	c->cla = a[0];
	c->ins = a[1];
	c->p1 = a[2];
	c->p2 = a[3];
	c->data = a + 5;
	if (len == 5) {
		c->has_le = 1;
		c->le = a[4];
	} else if (len > 5) {
		c->lc = a[4];
		c->has_lc = 1;
		if (!c->lc || len < 5 + c->lc || len > 6 + c->lc)
			return false;
		c->has_le = len == 6 + c->lc;
		c->le = a[len - 1];
	}
	return true;
}

static int nt_dispatch(struct ntag424 *tag, struct nt_cmd *c,
		       const u8 *capdu, size_t len)
{
	bool native = len && capdu[0] == CLA_NATIVE;

	if (len < 4 || len > NTAG424_MAX_CAPDU)
		return native ? SW_LENGTH : ISO_WRONG_LEN;
	memcpy(tag->in, capdu, len);
	if (!nt_parse(tag, c, len))
		return native ? SW_LENGTH : ISO_WRONG_LEN;
	if (native)
		return nt_native(tag, c);
	if (c->cla == CLA_ISO)
		return nt_iso(tag, c);
	return ISO_CLA;
}

static bool nt_sw_success(int sw)
{
	return sw == SW_OK || sw == SW_MORE || sw == ISO_OK;
}

int ntag424_process(struct ntag424 *tag, const u8 *capdu, size_t len,
		    u8 *rapdu)
{
	struct nt_cmd c = { .pend = tag->pend.state };
	int sw;

	/* Whatever was pending is over unless this frame continues it. */
	tag->pend.state = NT_IDLE;
	sw = nt_dispatch(tag, &c, capdu, len);
	if (sw < 0 || !nt_sw_success(sw)) {
		/* Any error ends the session; its SW carries no MAC. */
		nt_end_session(tag);
		tag->pend.state = NT_IDLE;
		c.rlen = 0;
	}
	if (tag->pend.state == NT_IDLE)
		memzero_explicit(&tag->pend, sizeof(tag->pend));
	nt_scrub_tfms(tag);
	if (sw >= 0) {
		memcpy(rapdu, tag->out, c.rlen);
		rapdu[c.rlen] = sw >> 8;
		rapdu[c.rlen + 1] = sw & 0xff;
	}
	memzero_explicit(tag->out, sizeof(tag->out));
	memzero_explicit(tag->plain, sizeof(tag->plain));
	return sw < 0 ? sw : (int)c.rlen + 2;
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                             */

static void nt_virgin(struct ntag424 *tag)
{
	int f;

	for (f = 0; f < NT_NFILES; f++) {
		tag->file_opt[f] = nt_files[f].option;
		tag->file_ar[f] = nt_files[f].ar;
	}
	memcpy(tag->data, nt_cc_virgin, sizeof(nt_cc_virgin));
	tag->fail_on = 1;
	tag->fail_limit = 1000;
	tag->fail_decr = 10;
	tag->strong_mod = 1;
	tag->file = -1;
}

struct ntag424 *ntag424_create(const u8 *uid)
{
	struct ntag424 *tag = kzalloc(sizeof(*tag), GFP_KERNEL);

	if (!tag)
		return NULL;
	tag->cmac = crypto_alloc_shash("cmac(aes)", 0, 0);
	if (IS_ERR(tag->cmac)) {
		tag->cmac = NULL;
		goto fail;
	}
	tag->cbc = crypto_alloc_sync_skcipher("cbc(aes)", 0, 0);
	if (IS_ERR(tag->cbc)) {
		tag->cbc = NULL;
		goto fail;
	}
	memcpy(tag->uid, uid, NTAG424_UID_LEN);
	nt_virgin(tag);
	get_random_bytes(tag->sig, sizeof(tag->sig));
	return tag;
fail:
	ntag424_destroy(tag);
	return NULL;
}

void ntag424_destroy(struct ntag424 *tag)
{
	if (!tag)
		return;
	crypto_free_shash(tag->cmac);
	crypto_free_sync_skcipher(tag->cbc);
	memzero_explicit(tag->key, sizeof(tag->key));
	nt_end_session(tag);
	kfree_sensitive(tag);
}

void ntag424_deselect(struct ntag424 *tag)
{
	nt_end_session(tag);
	memzero_explicit(&tag->pend, sizeof(tag->pend));
	tag->app_selected = 0;
	tag->file = -1;
}

void ntag424_power_cycle(struct ntag424 *tag)
{
	ntag424_deselect(tag);
	tag->rid_active = tag->random_id;
	if (tag->rid_active) {
		/* ISO 14443-3: a random single-size UID starts with 08h. */
		tag->rid[0] = 0x08;
		get_random_bytes(tag->rid + 1, NTAG424_RID_LEN - 1);
	}
}

void ntag424_get_info(const struct ntag424 *tag, struct ntag424_info *info)
{
	u8 acc = 0;
	int k, i;

	memset(info, 0, sizeof(*info));
	memcpy(info->uid, tag->uid, NTAG424_UID_LEN);
	for (k = 0; k < NTAG424_NKEYS; k++) {
		acc |= tag->key_ver[k];
		for (i = 0; i < NTAG424_KEY_LEN; i++)
			acc |= tag->key[k][i];
		info->tot_fail_ctr = max(info->tot_fail_ctr, tag->fail_ctr[k]);
	}
	info->personalised = acc != 0;
	info->random_id = tag->random_id;
}

void ntag424_get_rf(const struct ntag424 *tag, struct ntag424_rf *rf)
{
	memset(rf, 0, sizeof(*rf));
	/*
	 * nfc_target.sens_res holds ATQA byte 2 in its high byte and byte 1
	 * (sent first) in its low byte, so the datasheet's ATQA value is
	 * used as is: 0344h (double-size UID), 0304h (single-size).
	 */
	if (tag->rid_active) {
		memcpy(rf->nfcid1, tag->rid, NTAG424_RID_LEN);
		rf->nfcid1_len = NTAG424_RID_LEN;
		rf->sens_res = 0x0304;
	} else {
		memcpy(rf->nfcid1, tag->uid, NTAG424_UID_LEN);
		rf->nfcid1_len = NTAG424_UID_LEN;
		rf->sens_res = 0x0344;
	}
	rf->sel_res = 0x20;
}
