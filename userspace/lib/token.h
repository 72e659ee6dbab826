/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "sectag" LUKS2 token: what unlocking a keyslot needs besides the
 * tag, in the volume's header, for the token plugin
 * (libcryptsetup-token-sectag.so) and `sectag unlock`. One token per
 * keyslot, next to the luks2-keyring token the agent's release uses.
 *
 *   {"type":"sectag","keyslots":["3"],"sectag_version":1,
 *    "bind":"host"|"portable","uid":"<14 hex>","random_id":false,
 *    "key_no":2,"kdf":"hkdf-sha256",
 *    "salt":"<64 hex>","read_key":"<32 hex>"}      (portable only)
 *
 * bind "tpm2" replaces salt and read_key with what this machine's TPM
 * sealed (tpm2.h): "tpm2_pcrs":[7,...] (the sha256 bank's PCRs of the
 * policy, ascending, maybe none), "tpm2_pcr_values":["<64 hex>",...]
 * (their values at enrolment, same order: only to tell which PCR changed
 * when the TPM refuses), "tpm2_public":"<hex>", "tpm2_private":"<hex>"
 * (the sealed object, TPM2B_PUBLIC and TPM2B_PRIVATE as the TPM
 * marshals them).
 *
 * The passphrase of the keyslot is the hex of
 *   HKDF-SHA256(ikm = share || S, salt "sectag-v1", info "luks:<uuid>")
 * (store.h, sectag_binding_secret()) where share is the 32 bytes the tag
 * releases after mutual authentication with key number key_no, and S is
 * the host secret kept in the root-only store (bind "host") or the
 * token's salt (bind "portable": no host secret, the disk and the tag
 * suffice; the token then also carries the tag's read key, without which
 * a host that never saw the tag could not authenticate it), or the
 * secret this machine's TPM unseals, with the read key, only in the
 * measured state of enrolment (bind "tpm2"). Nothing in the token opens
 * the volume without the tag's share.
 * Documentation/security-model.md weighs the three modes.
 */
#ifndef SECTAG_TOKEN_H
#define SECTAG_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECTAG_TOKEN_TYPE	"sectag"
#define SECTAG_TOKEN_VERSION	1
#define SECTAG_TOKEN_KDF	"hkdf-sha256"
/* Room for any token we write (format) and accept (parse). */
#define SECTAG_TOKEN_JSON_MAX	4096

enum sectag_bind_mode {
	SECTAG_MODE_HOST = 1,		/* host secret in the store */
	SECTAG_MODE_PORTABLE,		/* salt and read key in the token */
	SECTAG_MODE_TPM2,		/* both sealed to this machine's TPM */
};

#define SECTAG_TPM2_PCRS	24	/* PCRs 0..23 of the sha256 bank */
#define SECTAG_TPM2_PUB_MAX	256	/* a sealed object's TPM2B_PUBLIC */
#define SECTAG_TPM2_PRIV_MAX	512	/* and TPM2B_PRIVATE, marshalled */

/* A secret sealed to a TPM under a PCR policy (tpm2.h does the sealing). */
struct sectag_tpm2_blob {
	uint32_t pcrs;			/* bit n: PCR n in the policy */
	/* their values at enrolment, indexed by PCR number */
	uint8_t pcr_values[SECTAG_TPM2_PCRS][32];
	uint8_t pub[SECTAG_TPM2_PUB_MAX];
	size_t pub_len;
	uint8_t priv[SECTAG_TPM2_PRIV_MAX];
	size_t priv_len;
};

struct sectag_token {
	int keyslot;			/* 0..31 */
	enum sectag_bind_mode mode;
	uint8_t uid[7];			/* the tag's real UID */
	bool random_id;			/* it hides its UID (Random ID) */
	unsigned int key_no;		/* the read key's number: 2 */
	uint8_t salt[32];		/* portable only */
	uint8_t read_key[16];		/* portable only */
	struct sectag_tpm2_blob tpm2;	/* tpm2 only */
};

/* "host", "portable", "tpm2"; NULL for anything else. And back: 0. */
const char *sectag_bind_mode_name(enum sectag_bind_mode mode);
enum sectag_bind_mode sectag_bind_mode_parse(const char *word);

/*
 * Parse and validate the token JSON @json (NUL-terminated). 0, or
 * -EINVAL with *@why (static text) saying what is wrong: not an object,
 * a missing, mistyped or unknown field, a bad value, secret fields in a
 * host or tpm2 token, TPM fields in another. Nothing else is
 * accepted, so a token has one meaning.
 */
int sectag_token_parse(const char *json, struct sectag_token *tok,
		       const char **why);

/* Token @tok as JSON into @buf: its length, or -EINVAL / -ENOSPC. */
int sectag_token_format(const struct sectag_token *tok, char *buf,
			size_t size);

/*
 * Human-readable fields for `cryptsetup luksDump` into @buf (one
 * "\tkey: value" line each; no secret: the read key is only said to be
 * there).
 */
int sectag_token_describe(const struct sectag_token *tok, char *buf,
			  size_t size);

/*
 * "7,11" into a PCR mask (0..23, each once, any order; "" or "none":
 * no PCR). 0 or -EINVAL.
 */
int sectag_tpm2_pcrs_parse(const char *s, uint32_t *pcrs);
/* "7", "0,2,7" or "none": the PCRs of a tpm2 policy; length or -ENOSPC. */
int sectag_tpm2_pcrs_text(uint32_t pcrs, char *buf, size_t size);

/* Wipe a token (it may hold a read key). */
void sectag_token_wipe(struct sectag_token *tok);

#endif
