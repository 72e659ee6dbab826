// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the sectag LUKS2 token's JSON (userspace/lib/token.c):
 * what validate accepts and refuses (with which reason), the canonical
 * format and its round trip, the luksDump text. TAP output.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "token.h"
#include "unit_tap.h"

#define HOST	"{\"type\":\"sectag\",\"keyslots\":[\"3\"],\"sectag_version\":1," \
		"\"bind\":\"host\",\"uid\":\"04a1b2c3d4e5f6\",\"random_id\":false," \
		"\"key_no\":2,\"kdf\":\"hkdf-sha256\"}"
#define SALT	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define RKEY	"f0e0d0c0b0a090807060504030201000"
#define PORT	"{\"type\":\"sectag\",\"keyslots\":[\"31\"],\"sectag_version\":1," \
		"\"bind\":\"portable\",\"uid\":\"04a1b2c3d4e5f6\",\"random_id\":true," \
		"\"key_no\":2,\"kdf\":\"hkdf-sha256\",\"salt\":\"" SALT "\"," \
		"\"read_key\":\"" RKEY "\"}"

#define PCR0	"1111111111111111111111111111111111111111111111111111111111111111"
#define PCR7	"7777777777777777777777777777777777777777777777777777777777777777"
#define TPUB	"0030000800010b00000412"
#define TPRIV	"0004aabbccdd"
#define TPM2	"{\"type\":\"sectag\",\"keyslots\":[\"5\"],\"sectag_version\":1," \
		"\"bind\":\"tpm2\",\"uid\":\"04a1b2c3d4e5f6\",\"random_id\":false," \
		"\"key_no\":2,\"kdf\":\"hkdf-sha256\",\"tpm2_pcrs\":[0,7]," \
		"\"tpm2_pcr_values\":[\"" PCR0 "\",\"" PCR7 "\"]," \
		"\"tpm2_public\":\"" TPUB "\",\"tpm2_private\":\"" TPRIV "\"}"

static bool parses(const char *json, struct sectag_token *t)
{
	const char *why = "unset";

	return !sectag_token_parse(json, t, &why) && !why;
}

/* Refused, and the reason contains @frag. */
static bool refused(const char *json, const char *frag)
{
	struct sectag_token t;
	const char *why = NULL;
	int rc = sectag_token_parse(json, &t, &why);

	if (rc != -22 || !why || !strstr(why, frag)) {
		printf("# %s -> %d %s\n", json, rc, why ? why : "(null)");
		return false;
	}
	/* Nothing half-parsed is left behind. */
	return t.keyslot == 0 && !t.mode && !t.uid[0];
}

static bool t_host(void)
{
	struct sectag_token t;

	CHECK(parses(HOST, &t));
	CHECK(t.keyslot == 3 && t.mode == SECTAG_MODE_HOST);
	CHECK(t.uid[0] == 0x04 && t.uid[6] == 0xf6 && !t.random_id);
	CHECK(t.key_no == 2);
	/* Field order and blanks do not matter. */
	CHECK(parses(" { \"kdf\" : \"hkdf-sha256\", \"key_no\":2,"
		     "\"random_id\":false,\"uid\":\"04A1B2C3D4E5F6\","
		     "\"bind\":\"host\",\"sectag_version\":1,"
		     "\"keyslots\":[\"3\"],\"type\":\"sectag\" }\n", &t));
	return true;
}

static bool t_portable(void)
{
	struct sectag_token t;

	CHECK(parses(PORT, &t));
	CHECK(t.keyslot == 31 && t.mode == SECTAG_MODE_PORTABLE);
	CHECK(t.random_id && t.salt[31] == 0x1f && t.read_key[0] == 0xf0);
	return true;
}

static bool t_refused_shape(void)
{
	CHECK(refused("", "not valid JSON"));
	CHECK(refused("{", "not valid JSON"));
	CHECK(refused(HOST "x", "not valid JSON"));
	CHECK(refused(HOST HOST, "not valid JSON"));
	CHECK(refused("[1]", "not a JSON object"));
	CHECK(refused("\"sectag\"", "not a JSON object"));
	CHECK(refused("{\"type\":\"sectag\"}", "missing"));
	CHECK(refused("{'type':'sectag'}", "not valid JSON"));
	return true;
}

/* @json with the first @from replaced by @to. */
static const char *edit(const char *json, const char *from, const char *to)
{
	static char buf[2048];
	const char *p = strstr(json, from);

	if (!p)
		return "missing-from";
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - json), json, to,
		 p + strlen(from));
	return buf;
}

static bool t_refused_fields(void)
{
	CHECK(refused(edit(HOST, "\"sectag\"", "\"luks2-keyring\""), "type"));
	CHECK(refused(edit(HOST, "[\"3\"]", "[]"), "keyslots"));
	CHECK(refused(edit(HOST, "[\"3\"]", "[\"3\",\"4\"]"), "keyslots"));
	CHECK(refused(edit(HOST, "[\"3\"]", "[3]"), "keyslots"));
	CHECK(refused(edit(HOST, "[\"3\"]", "[\"32\"]"), "keyslots"));
	CHECK(refused(edit(HOST, "[\"3\"]", "[\"03\"]"), "keyslots"));
	CHECK(refused(edit(HOST, "[\"3\"]", "[\"-1\"]"), "keyslots"));
	CHECK(refused(edit(HOST, "[\"3\"]", "[\"3x\"]"), "keyslots"));
	CHECK(refused(edit(HOST, "[\"3\"]", "\"3\""), "keyslots"));
	CHECK(refused(edit(HOST, "\"sectag_version\":1", "\"sectag_version\":2"),
		      "sectag_version"));
	CHECK(refused(edit(HOST, "\"sectag_version\":1", "\"sectag_version\":\"1\""),
		      "sectag_version"));
	CHECK(refused(edit(HOST, "\"host\"", "\"tpm3\""), "bind"));
	CHECK(refused(edit(HOST, "\"host\"", "1"), "bind"));
	CHECK(refused(edit(HOST, "04a1b2c3d4e5f6", "05a1b2c3d4e5f6"), "uid"));
	CHECK(refused(edit(HOST, "04a1b2c3d4e5f6", "04a1b2c3d4e5"), "uid"));
	CHECK(refused(edit(HOST, "04a1b2c3d4e5f6", "04a1b2c3d4e5fg"), "uid"));
	CHECK(refused(edit(HOST, "false", "0"), "random_id"));
	CHECK(refused(edit(HOST, "\"key_no\":2", "\"key_no\":0"), "key_no"));
	CHECK(refused(edit(HOST, "\"key_no\":2", "\"key_no\":2.0"), "key_no"));
	CHECK(refused(edit(HOST, "hkdf-sha256", "pbkdf2"), "kdf"));
	CHECK(refused(edit(HOST, "\"kdf\"", "\"kdf2\""), "unknown field"));
	CHECK(refused(edit(HOST, ",\"kdf\":\"hkdf-sha256\"", ""), "missing"));
	return true;
}

static bool t_refused_modes(void)
{
	/* Secrets in a host token: the store keeps them. */
	CHECK(refused(edit(HOST, "}", ",\"salt\":\"" SALT "\"}"), "host token"));
	CHECK(refused(edit(HOST, "}", ",\"read_key\":\"" RKEY "\"}"),
		      "host token"));
	CHECK(refused(edit(PORT, ",\"read_key\":\"" RKEY "\"", ""),
		      "portable token needs"));
	CHECK(refused(edit(PORT, ",\"salt\":\"" SALT "\"", ""),
		      "portable token needs"));
	CHECK(refused(edit(PORT, SALT, "00"), "salt"));
	CHECK(refused(edit(PORT, RKEY, SALT), "read_key"));
	return true;
}

static bool t_roundtrip(void)
{
	struct sectag_token a, b;
	char buf[SECTAG_TOKEN_JSON_MAX];
	int n;

	CHECK(parses(PORT, &a));
	n = sectag_token_format(&a, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(PORT) && !strcmp(buf, PORT));
	CHECK(parses(buf, &b) && !memcmp(&a, &b, sizeof(a)));
	CHECK(parses(HOST, &a));
	n = sectag_token_format(&a, buf, sizeof(buf));
	CHECK(n > 0 && !strcmp(buf, HOST));
	CHECK(sectag_token_format(&a, buf, 20) == -28);
	a.keyslot = 32;
	CHECK(sectag_token_format(&a, buf, sizeof(buf)) == -22);
	return true;
}

static bool t_describe(void)
{
	struct sectag_token t;
	char buf[512];

	CHECK(parses(PORT, &t));
	CHECK(sectag_token_describe(&t, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "portable") && strstr(buf, "04A1B2C3D4E5F6"));
	CHECK(strstr(buf, "Random ID"));
	/* The read key is only said to be there. */
	CHECK(!strstr(buf, RKEY) && !strstr(buf, "F0E0D0C0"));
	CHECK(!strstr(buf, SALT));
	return true;
}

static bool t_tpm2(void)
{
	struct sectag_token a, b;
	char buf[SECTAG_TOKEN_JSON_MAX];
	int n;

	CHECK(parses(TPM2, &a));
	CHECK(a.mode == SECTAG_MODE_TPM2 && a.keyslot == 5);
	CHECK(a.tpm2.pcrs == ((1u << 0) | (1u << 7)));
	CHECK(a.tpm2.pcr_values[0][0] == 0x11 && a.tpm2.pcr_values[7][31] == 0x77);
	CHECK(a.tpm2.pub_len == 11 && a.tpm2.pub[10] == 0x12);
	CHECK(a.tpm2.priv_len == 6 && a.tpm2.priv[5] == 0xdd);
	n = sectag_token_format(&a, buf, sizeof(buf));
	CHECK(n > 0 && !strcmp(buf, TPM2));
	CHECK(parses(buf, &b) && !memcmp(&a, &b, sizeof(a)));
	/* No PCR at all: sealed to this TPM whatever its measured state. */
	snprintf(buf, sizeof(buf), "%s", edit(TPM2, "[0,7]", "[]"));
	CHECK(parses(edit(buf, "[\"" PCR0 "\",\"" PCR7 "\"]", "[]"), &a));
	CHECK(a.tpm2.pcrs == 0);
	n = sectag_token_format(&a, buf, sizeof(buf));
	CHECK(n > 0 && strstr(buf, "\"tpm2_pcrs\":[],\"tpm2_pcr_values\":[]"));
	return true;
}

static bool t_tpm2_refused(void)
{
	CHECK(refused(edit(TPM2, "}", ",\"salt\":\"" SALT "\"}"),
		      "tpm2 token has no"));
	CHECK(refused(edit(TPM2, "}", ",\"read_key\":\"" RKEY "\"}"),
		      "tpm2 token has no"));
	CHECK(refused(edit(TPM2, ",\"tpm2_public\":\"" TPUB "\"", ""),
		      "tpm2 token needs"));
	CHECK(refused(edit(TPM2, "[0,7]", "[7]"), "one value for each"));
	CHECK(refused(edit(TPM2, "[0,7]", "[7,0]"), "ascending"));
	CHECK(refused(edit(TPM2, "[0,7]", "[7,7]"), "ascending"));
	CHECK(refused(edit(TPM2, "[0,7]", "[0,24]"), "tpm2_pcrs"));
	CHECK(refused(edit(TPM2, "[0,7]", "[0,\"7\"]"), "tpm2_pcrs"));
	CHECK(refused(edit(TPM2, PCR7, "77"), "tpm2_pcr_values"));
	CHECK(refused(edit(TPM2, TPUB, "003"), "tpm2_public"));
	CHECK(refused(edit(TPM2, TPUB, ""), "tpm2_public"));
	CHECK(refused(edit(TPM2, TPRIV, "0004aabbccdx"), "tpm2_private"));
	/* TPM fields belong to tpm2 tokens only. */
	CHECK(refused(edit(HOST, "}", ",\"tpm2_pcrs\":[]}"), "only a tpm2"));
	return true;
}

static bool t_tpm2_sizes(void)
{
	static char json[SECTAG_TOKEN_JSON_MAX], pub[2 * 257 + 1];
	struct sectag_token t;

	memset(pub, 'a', sizeof(pub) - 1);
	pub[2 * 256] = 0;
	snprintf(json, sizeof(json), "%s", edit(TPM2, TPUB, pub));
	CHECK(parses(json, &t) && t.tpm2.pub_len == 256);
	pub[2 * 256] = 'a';
	snprintf(json, sizeof(json), "%s", edit(TPM2, TPUB, pub));
	CHECK(refused(json, "tpm2_public"));
	return true;
}

static bool t_pcr_lists(void)
{
	uint32_t m = 1;
	char buf[80];

	CHECK(!sectag_tpm2_pcrs_parse("7", &m) && m == 1u << 7);
	CHECK(!sectag_tpm2_pcrs_parse("7,0,23", &m) &&
	      m == ((1u << 7) | 1u | (1u << 23)));
	CHECK(!sectag_tpm2_pcrs_parse("", &m) && m == 0);
	CHECK(!sectag_tpm2_pcrs_parse("none", &m) && m == 0);
	CHECK(sectag_tpm2_pcrs_parse("24", &m) == -22);
	CHECK(sectag_tpm2_pcrs_parse("7,7", &m) == -22);
	CHECK(sectag_tpm2_pcrs_parse("7,", &m) == -22);
	CHECK(sectag_tpm2_pcrs_parse("-1", &m) == -22);
	CHECK(sectag_tpm2_pcrs_parse("007", &m) == -22);
	CHECK(sectag_tpm2_pcrs_parse("7 ", &m) == -22);
	CHECK(sectag_tpm2_pcrs_text((1u << 7) | 1u, buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "0,7"));
	CHECK(sectag_tpm2_pcrs_text(0, buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "none"));
	return true;
}

static bool t_tpm2_describe(void)
{
	struct sectag_token t;
	char buf[512];

	CHECK(parses(TPM2, &t));
	CHECK(sectag_token_describe(&t, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "bind:       tpm2") && strstr(buf, "PCRs:  0,7"));
	CHECK(strstr(buf, "sealed by the TPM"));
	CHECK(!strstr(buf, TPRIV));
	return true;
}

static bool t_too_long(void)
{
	char buf[SECTAG_TOKEN_JSON_MAX + 64];

	memset(buf, ' ', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = 0;
	memcpy(buf, HOST, strlen(HOST));
	CHECK(refused(buf, "too long"));
	return true;
}

int main(void)
{
	static const struct tap_case cases[] = {
		{ "host_token_parses", t_host },
		{ "portable_token_parses", t_portable },
		{ "not_an_object_refused", t_refused_shape },
		{ "bad_fields_refused_with_reason", t_refused_fields },
		{ "secrets_follow_the_mode", t_refused_modes },
		{ "format_is_canonical_round_trip", t_roundtrip },
		{ "dump_shows_no_secret", t_describe },
		{ "oversized_token_refused", t_too_long },
		{ "tpm2_token_parses_round_trip", t_tpm2 },
		{ "tpm2_token_refused_with_reason", t_tpm2_refused },
		{ "tpm2_blob_size_limits", t_tpm2_sizes },
		{ "tpm2_pcr_lists_parse_and_print", t_pcr_lists },
		{ "tpm2_dump_shows_pcrs", t_tpm2_describe },
	};

	return tap_run_all(cases, sizeof(cases) / sizeof(cases[0]));
}
