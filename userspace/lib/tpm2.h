/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A secret sealed to this machine's TPM2 under a PCR policy (tpm2-tss,
 * ESAPI), for bind "tpm2" (token.h): only this TPM, with the PCRs of
 * the policy as they were at sealing, gives it back.
 *
 * The TPM is reached through the TCTI loader: "device:/dev/tpmrm0" (the
 * kernel's resource manager), or $SECTAG_TPM2_TCTI. The parent is a
 * primary ECC P-256 storage key of the owner hierarchy (the TCG SRK
 * template), created anew each time: the same seed gives the same key,
 * and nothing is left in the TPM. Sessions are salted with it and
 * encrypt the secret on its way to and from the TPM, so that a sniffer
 * on the TPM's bus does not read it.
 *
 * Linked into the short-lived programs only (sectag, sectag-open, the
 * token plugin): never into the resident agent.
 */
#ifndef SECTAG_TPM2_H
#define SECTAG_TPM2_H

#include <stddef.h>
#include <stdint.h>

#include "token.h"

#define SECTAG_TPM2_DEVICE	"/dev/tpmrm0"
#define SECTAG_TPM2_DATA_MAX	128	/* a sealed data object's limit */

/* Why the TPM said no: a negative errno and what to tell the user. */
struct sectag_tpm2_err {
	int rc;
	/*
	 * -ENODEV     no TPM (no /dev/tpmrm0, or the TCTI failed)
	 * -EKEYREJECTED the policy failed: PCRs @changed differ from their
	 *             values at sealing (0: none of them does, yet it failed)
	 * -ESTALE     sealed by another TPM, or this one was cleared since
	 * -EOPNOTSUPP no sha256 bank with these PCRs
	 * -EACCES     the owner hierarchy wants a password, or lockout
	 * -EIO        anything else (@detail: the TSS's decoding)
	 */
	uint32_t changed;
	char detail[160];
};

/*
 * Seal @len bytes of @data (at most SECTAG_TPM2_DATA_MAX) under a policy
 * on PCRs @pcrs (bit n: PCR n, sha256 bank) at their current values,
 * which go into @out with the sealed object. @pcrs 0: no policy on
 * measured state, only this TPM. 0, or a negative errno and @err.
 */
int sectag_tpm2_seal(uint32_t pcrs, const uint8_t *data, size_t len,
		     struct sectag_tpm2_blob *out, struct sectag_tpm2_err *err);

/* Unseal @b into @out (@size bytes); *@len its length. Wipe @out. */
int sectag_tpm2_unseal(const struct sectag_tpm2_blob *b, uint8_t *out,
		       size_t size, size_t *len, struct sectag_tpm2_err *err);

/*
 * bind tpm2: what the TPM seals is the tag's read key and the host
 * secret (16 + 32 bytes), so that the token in the volume's header
 * holds neither. Seal them into @tok->tpm2 (@pcrs: the policy's PCRs).
 */
int sectag_tpm2_seal_token(struct sectag_token *tok, uint32_t pcrs,
			   const uint8_t read_key[16],
			   const uint8_t host_secret[32],
			   struct sectag_tpm2_err *err);
/*
 * And back: a tpm2 token's read key into tok->read_key and its host
 * secret into tok->salt, where a portable token holds them (the mode
 * stays tpm2). Wipe @tok.
 */
int sectag_tpm2_unseal_token(struct sectag_token *tok,
			     struct sectag_tpm2_err *err);

/*
 * Would the TPM unseal @b now, as far as a PCR read tells: a TPM is
 * there and the policy's PCRs hold their values at sealing (0), or
 * @err as sectag_tpm2_unseal() would set it (-ENODEV, -EKEYREJECTED and
 * the PCRs that changed, ...). Cheap (one PCR_Read: no primary key, no
 * session), and blind to another TPM or a cleared one, which only a
 * load under the primary key tells: for a program that leaves the
 * unsealing itself to another (the token plugin when sectagd answers).
 */
int sectag_tpm2_check(const struct sectag_tpm2_blob *b,
		      struct sectag_tpm2_err *err);

/* Is there a TPM whose sha256 bank has PCRs @pcrs? 0 or @err. */
int sectag_tpm2_probe(uint32_t pcrs, struct sectag_tpm2_err *err);

/*
 * One sentence for the user ("this machine's measured state changed
 * since enrolment: PCR 7"), into @buf.
 */
const char *sectag_tpm2_strerror(const struct sectag_tpm2_err *err,
				 char *buf, size_t size);

#endif
