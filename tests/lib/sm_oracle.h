/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tests' own reader side of NTAG 424 DNA secure messaging [DS 9.1],
 * straight on OpenSSL: independent of the kernel engine
 * (kernel/ntag424_sm.c) and of libsectag (userspace/lib/ntag424_sm.c), so
 * that either can be checked against it. One copy, used by the host unit
 * tests (tests/unit) and the kernel tests (tests/kselftest); it checks
 * itself against the published vectors in both. OpenSSL failures abort:
 * a test cannot go on without its oracle.
 */
#ifndef SECTAG_TESTS_SM_ORACLE_H
#define SECTAG_TESTS_SM_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORACLE_BLK	16
#define ORACLE_KEY_LEN	16
#define ORACLE_MACT_LEN	8
#define ORACLE_TI_LEN	4

struct oracle_sm {
	bool active;
	uint8_t keyno;
	uint16_t ctr;			/* CmdCtr of the next command */
	uint8_t ti[ORACLE_TI_LEN];
	uint8_t enc[ORACLE_KEY_LEN];	/* SesAuthENCKey */
	uint8_t mac[ORACLE_KEY_LEN];	/* SesAuthMACKey */
};

/* AES-128-CBC without padding, in place allowed; @iv NULL: zero. */
void oracle_cbc(const uint8_t *key, const uint8_t *iv, const uint8_t *in,
		uint8_t *out, size_t len, bool enc);
void oracle_cmac(const uint8_t *key, const uint8_t *msg, size_t len,
		 uint8_t *out);
/* MACt: bytes 1, 3, ... 15 of the CMAC [DS 9.1.3]. */
void oracle_mact(const uint8_t *key, const uint8_t *msg, size_t len,
		 uint8_t *out);
/* CRC-32 without the final XOR, as ChangeKey wants it. */
uint32_t oracle_jamcrc(const uint8_t *p, size_t n);
/* @s rotated left by one byte (RndA', RndB') into @d. */
void oracle_rotl(uint8_t *d, const uint8_t *s);

/* SesAuthENCKey and SesAuthMACKey from Kx, RndA and RndB [DS 9.1.7]. */
void oracle_session_keys(struct oracle_sm *s, const uint8_t *key,
			 const uint8_t *ra, const uint8_t *rb);
/* IVc (@cmd) or IVr for CmdCtr @ctr [DS 9.1.4]. */
void oracle_iv(const struct oracle_sm *s, bool cmd, uint16_t ctr,
	       uint8_t *iv);
/* MACt(@first || CmdCtr || TI || @msg) */
void oracle_sm_mact(const struct oracle_sm *s, uint8_t first, uint16_t ctr,
		    const uint8_t *msg, size_t len, uint8_t *out);
/*
 * 90 INS 00 00 Lc CmdHeader [E(]CmdData[)] MACt 00 into @f, protected
 * for CmdCtr @ctr (@full: CommMode.Full, else MAC). Returns its length.
 */
size_t oracle_frame(const struct oracle_sm *s, uint8_t ins,
		    const uint8_t *hdr, size_t hlen, const uint8_t *data,
		    size_t dlen, bool full, uint16_t ctr, uint8_t *f);
/*
 * Check a 91 00 answer (data || MACt || SW) against CmdCtr @ctr (the
 * incremented one) and, in Full mode, decrypt it into @out.
 */
bool oracle_answer(const struct oracle_sm *s, uint16_t ctr, const uint8_t *r,
		   size_t rlen, bool full, uint8_t *out, size_t *olen);
/* ChangeKey KeyData for keys 1..4: (new ^ old) || version || JAMCRC(new) */
size_t oracle_change_key_data(const uint8_t *old, const uint8_t *new,
			      uint8_t ver, uint8_t *d);

#endif
