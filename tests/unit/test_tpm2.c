// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the TPM2 sealing (userspace/lib/tpm2.c) against two
 * software TPMs (swtpm, fresh state each, on unix sockets in a temporary
 * directory): seal and unseal with and without PCRs, the secret stays
 * out of the blob, a PCR of the policy extended is refused naming that
 * PCR (and a PCR outside it changes nothing), the other TPM refuses the
 * blob, no TPM at all is said so. TAP output.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "tpm2.h"
#include "unit_tap.h"

static char dir[] = "/tmp/sectag-tpm2-unit.XXXXXX";
static pid_t swtpm[2];
static char tcti[2][128];
static uint8_t secret[48];

/* swtpm number @i on <dir>/tpm@i, answering TPM commands at once. */
static int start_swtpm(int i)
{
	char state[96], srv[128], ctrl[128], sock[96];
	int k;

	snprintf(state, sizeof(state), "%s/state%d", dir, i);
	snprintf(sock, sizeof(sock), "%s/tpm%d", dir, i);
	snprintf(srv, sizeof(srv), "type=unixio,path=%s", sock);
	snprintf(ctrl, sizeof(ctrl), "type=unixio,path=%s.ctrl", sock);
	if (mkdir(state, 0700))
		return -1;
	snprintf(state, sizeof(state), "dir=%s/state%d", dir, i);
	swtpm[i] = fork();
	if (swtpm[i] < 0)
		return -1;
	if (!swtpm[i]) {
		/* It says "Data client disconnected" after each of ours. */
		if (!freopen("/dev/null", "w", stdout) ||
		    !freopen("/dev/null", "w", stderr))
			_exit(127);
		execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate",
		       state, "--server", srv, "--ctrl", ctrl, "--flags",
		       "not-need-init,startup-clear", (char *)NULL);
		_exit(127);
	}
	snprintf(tcti[i], sizeof(tcti[i]), "swtpm:path=%s", sock);
	snprintf(ctrl, sizeof(ctrl), "%s.ctrl", sock);
	/* Ready when both sockets are there: poll, bounded by 10 s. */
	for (k = 0; k < 1000; k++) {
		if (!access(sock, F_OK) && !access(ctrl, F_OK))
			return 0;
		if (waitpid(swtpm[i], NULL, WNOHANG) == swtpm[i])
			return -1;
		usleep(10000);
	}
	return -1;
}

static void use_tpm(int i)
{
	setenv("SECTAG_TPM2_TCTI", tcti[i], 1);
}

/* Extend PCR @pcr of TPM @i's sha256 bank (what a boot measurement does). */
static bool extend(int i, unsigned int pcr)
{
	TSS2_TCTI_CONTEXT *t = NULL;
	ESYS_CONTEXT *ctx = NULL;
	TPML_DIGEST_VALUES v = { .count = 1 };
	TSS2_RC rc;

	v.digests[0].hashAlg = TPM2_ALG_SHA256;
	memset(v.digests[0].digest.sha256, 0xa5, 32);
	rc = Tss2_TctiLdr_Initialize(tcti[i], &t);
	if (!rc)
		rc = Esys_Initialize(&ctx, t, NULL);
	if (!rc)
		rc = Esys_PCR_Extend(ctx, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
				     ESYS_TR_NONE, ESYS_TR_NONE, &v);
	if (ctx)
		Esys_Finalize(&ctx);
	if (t)
		Tss2_TctiLdr_Finalize(&t);
	return !rc;
}

static bool unseals(const struct sectag_tpm2_blob *b)
{
	struct sectag_tpm2_err err;
	uint8_t out[SECTAG_TPM2_DATA_MAX];
	size_t len = 0;
	int rc = sectag_tpm2_unseal(b, out, sizeof(out), &len, &err);

	if (rc)
		printf("# unseal: %d %s\n", rc, err.detail);
	return !rc && len == sizeof(secret) && !memcmp(out, secret, len);
}

/* Unseal refused with @rc (and, for a PCR, exactly PCRs @changed). */
static bool refused(const struct sectag_tpm2_blob *b, int rc,
		    uint32_t changed, const char *text)
{
	struct sectag_tpm2_err err;
	uint8_t out[SECTAG_TPM2_DATA_MAX];
	char why[256];
	size_t len = 0;
	int r = sectag_tpm2_unseal(b, out, sizeof(out), &len, &err);

	sectag_tpm2_strerror(&err, why, sizeof(why));
	printf("# %d: %s\n", r, why);
	return r == rc && err.rc == rc && err.changed == changed &&
	       strstr(why, text);
}

static bool t_seal_pcr7(void)
{
	struct sectag_tpm2_blob b;
	struct sectag_tpm2_err err;

	use_tpm(0);
	CHECK(!sectag_tpm2_seal(1u << 7, secret, sizeof(secret), &b, &err));
	CHECK(b.pcrs == 1u << 7 && b.pub_len > 0 && b.priv_len > 0);
	/* The secret is nowhere in the clear in what goes to the header. */
	CHECK(!memmem(b.pub, b.pub_len, secret, 16));
	CHECK(!memmem(b.priv, b.priv_len, secret, 16));
	CHECK(unseals(&b));
	CHECK(unseals(&b));
	return true;
}

static bool t_pcr_changed(void)
{
	struct sectag_tpm2_blob b7, b0, none;
	struct sectag_tpm2_err err;

	use_tpm(0);
	CHECK(!sectag_tpm2_seal(1u << 7, secret, sizeof(secret), &b7, &err));
	CHECK(!sectag_tpm2_seal((1u << 0) | (1u << 1), secret, sizeof(secret),
				&b0, &err));
	CHECK(!sectag_tpm2_seal(0, secret, sizeof(secret), &none, &err));
	CHECK(extend(0, 7));
	CHECK(refused(&b7, -EKEYREJECTED, 1u << 7,
		      "measured state changed since enrolment: PCR 7"));
	/* PCRs outside a policy do not matter to it. */
	CHECK(unseals(&b0));
	CHECK(unseals(&none));
	CHECK(extend(0, 1));
	CHECK(refused(&b0, -EKEYREJECTED, 1u << 1, "PCR 1"));
	/* Sealed again now, it follows the new state. */
	CHECK(!sectag_tpm2_seal(1u << 7, secret, sizeof(secret), &b7, &err));
	CHECK(unseals(&b7));
	return true;
}

static bool t_other_tpm(void)
{
	struct sectag_tpm2_blob b, none;
	struct sectag_tpm2_err err;

	use_tpm(0);
	CHECK(!sectag_tpm2_seal(1u << 7, secret, sizeof(secret), &b, &err));
	CHECK(!sectag_tpm2_seal(0, secret, sizeof(secret), &none, &err));
	use_tpm(1);
	CHECK(refused(&b, -ESTALE, 0, "different TPM"));
	CHECK(refused(&none, -ESTALE, 0, "different TPM"));
	use_tpm(0);
	CHECK(unseals(&none));
	return true;
}

/*
 * The PCR-read check the plugin makes when sectagd unseals: it tells a
 * changed PCR (and which) and no TPM; another TPM it cannot tell.
 */
static bool t_check(void)
{
	struct sectag_tpm2_blob b7, none;
	struct sectag_tpm2_err err;
	char why[256], conf[160];

	use_tpm(0);
	CHECK(!sectag_tpm2_seal(1u << 7, secret, sizeof(secret), &b7, &err));
	CHECK(!sectag_tpm2_seal(0, secret, sizeof(secret), &none, &err));
	CHECK(!sectag_tpm2_check(&b7, &err));
	CHECK(!sectag_tpm2_check(&none, &err));
	CHECK(extend(0, 2));
	CHECK(!sectag_tpm2_check(&b7, &err));
	CHECK(extend(0, 7));
	CHECK(sectag_tpm2_check(&b7, &err) == -EKEYREJECTED);
	CHECK(err.rc == -EKEYREJECTED && err.changed == 1u << 7);
	CHECK(strstr(sectag_tpm2_strerror(&err, why, sizeof(why)),
		     "measured state changed since enrolment: PCR 7"));
	CHECK(!sectag_tpm2_check(&none, &err));
	/* Blind to another TPM: the unseal tells that. */
	use_tpm(1);
	CHECK(!sectag_tpm2_check(&none, &err));
	snprintf(conf, sizeof(conf), "swtpm:path=%s/nothing", dir);
	setenv("SECTAG_TPM2_TCTI", conf, 1);
	CHECK(sectag_tpm2_check(&none, &err) == -ENODEV);
	CHECK(sectag_tpm2_check(NULL, &err) == -EINVAL);
	return true;
}

static bool t_token(void)
{
	struct sectag_token tok = { .mode = SECTAG_MODE_TPM2 };
	struct sectag_tpm2_err err;

	use_tpm(0);
	CHECK(!sectag_tpm2_seal_token(&tok, 1u << 9, secret, secret + 16,
				      &err));
	CHECK(!sectag_tpm2_unseal_token(&tok, &err));
	CHECK(!memcmp(tok.read_key, secret, 16));
	CHECK(!memcmp(tok.salt, secret + 16, 32));
	tok.mode = SECTAG_MODE_PORTABLE;
	CHECK(sectag_tpm2_unseal_token(&tok, &err) == -EINVAL);
	return true;
}

static bool t_no_tpm(void)
{
	struct sectag_tpm2_blob b;
	struct sectag_tpm2_err err;
	char why[256], conf[160];

	snprintf(conf, sizeof(conf), "swtpm:path=%s/nothing", dir);
	setenv("SECTAG_TPM2_TCTI", conf, 1);
	CHECK(sectag_tpm2_seal(0, secret, sizeof(secret), &b, &err) ==
	      -ENODEV);
	CHECK(strstr(sectag_tpm2_strerror(&err, why, sizeof(why)),
		     "no TPM2 on this machine"));
	CHECK(sectag_tpm2_probe(1u << 7, &err) == -ENODEV);
	use_tpm(0);
	CHECK(!sectag_tpm2_probe((1u << 7) | (1u << 23), &err));
	CHECK(sectag_tpm2_seal(0, secret, SECTAG_TPM2_DATA_MAX + 1, &b,
			       &err) == -EINVAL);
	CHECK(sectag_tpm2_seal(1u << 24, secret, 16, &b, &err) == -EINVAL);
	return true;
}

int main(void)
{
	static const struct tap_case cases[] = {
		{ "seal_unseal_pcr7_secret_not_in_blob", t_seal_pcr7 },
		{ "pcr_extended_refused_naming_it", t_pcr_changed },
		{ "other_tpm_refuses", t_other_tpm },
		{ "pcr_check_without_unsealing", t_check },
		{ "token_read_key_and_host_secret", t_token },
		{ "no_tpm_said_and_bad_arguments", t_no_tpm },
	};
	char cmd[64];
	size_t i;
	int failed;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0x40 + i);
	if (!mkdtemp(dir) || start_swtpm(0) || start_swtpm(1)) {
		printf("1..0 # SKIP no swtpm (make deps)\n");
		return 1;
	}
	failed = tap_run_all(cases, sizeof(cases) / sizeof(cases[0]));
	for (i = 0; i < 2; i++) {
		kill(swtpm[i], SIGTERM);
		waitpid(swtpm[i], NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		failed++;
	return failed;
}
