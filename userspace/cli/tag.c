// SPDX-License-Identifier: GPL-2.0
/*
 * sectag verbs that talk to a tag: scan, provision, verify; and keygen
 * for the issuer key they use. The work is libsectag's (issue.h); this
 * file picks the reader, waits for a tap and reports.
 *
 * Two tags on one reader: the NFC core reports every target in the
 * field and activates the one we connect to; we take the first target it
 * reports and say on stderr that there were more.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/nfc.h>
#include <openssl/crypto.h>

#include "hex.h"
#include "cli.h"
#include "jsonout.h"
#include "issue.h"
#include "nfc.h"
#include "ntag424.h"


/* Options of the tag verbs; each verb allows a subset. */
struct opts {
	const char *reader;		/* NULL: the first NFC device */
	const char *key_path;
	int timeout_ms;			/* < 0: wait forever */
	bool lock, random_id, yes, show_secret, force;
};

/* ---------------------------------------------------------------------- */
/* Options                                                                */

/* The option @c of struct opts (--timeout is parsed by the caller). */
static void set_opt(struct opts *o, int c)
{
	switch (c) {
	case 'r':
		o->reader = optarg;
		break;
	case 'k':
		o->key_path = optarg;
		break;
	case 'L':
		o->lock = true;
		break;
	case 'R':
		o->random_id = true;
		break;
	case 'y':
		o->yes = true;
		break;
	case 'S':
		o->show_secret = true;
		break;
	case 'f':
		o->force = true;
		break;
	}
}

/*
 * getopt over @argv (argv[0] is the verb) for the options named in
 * @allowed (--json and --help always). Returns -1 to go on, else the
 * exit code: 0 after --help, EX_USAGE after saying what is wrong.
 */
static int parse_opts(int argc, char **argv, const char *allowed,
		      struct opts *o, void (*usage)(FILE *))
{
	static const struct option all[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "issuer-key", required_argument, NULL, 'k' },
		{ "lock", no_argument, NULL, 'L' },
		{ "random-id", no_argument, NULL, 'R' },
		{ "yes", no_argument, NULL, 'y' },
		{ "show-secret", no_argument, NULL, 'S' },
		{ "force", no_argument, NULL, 'f' },
		CLI_OPTS_END
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = DEFAULT_TIMEOUT_S * 1000;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", all, NULL)) != -1) {
		if (c == '?' || c == ':')
			return getopt_error(argv[0], usage, argv, c);
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c && !strchr(allowed, c))
			return usage_error(argv[0], usage, "option '%s' does "
					   "not apply", argv[optind - 1]);
		if (c == 't' && parse_timeout(optarg, &o->timeout_ms)) {
			usage(stderr);	/* parse_timeout() said why */
			return EX_USAGE;
		}
		set_opt(o, c);
	}
	return -1;
}

static const char common_help[] =
	"  --reader R       NFC device by name (nfc0) or index; default: the\n"
	"                   first ISO 14443 device\n"
	"  --timeout S      seconds to wait for a tag (default 30, 0: forever)\n";

static const char exit_help[] =
	"Exit: 0 ok, 1 failed, 2 usage, 3 NFC/reader unavailable, 4 refused "
	"or not\ngenuine, 5 no tag within the timeout.\n";

/* The tag said no, or is not one we may touch: rerunning will not help. */
static bool refused(int rc)
{
	return rc == -EEXIST || rc == -EKEYREJECTED || rc == -ENOKEY ||
	       rc == -EMEDIUMTYPE || rc == -EOPNOTSUPP;
}

/*
 * The exchange broke off (tag pulled away, silent, garbled answer):
 * presenting the tag again and rerunning is the cure.
 */
static bool interrupted(int rc)
{
	return rc < 0 && !refused(rc) && rc != -EINVAL && rc != -ENOMEM;
}

/* Reports a libsectag error of a tag operation; the exit code. */
static int tag_fail(int rc, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, sectag_issue_strerror(rc));
	if (interrupted(rc))
		fprintf(stderr, "%s: keep the tag on the reader and try "
			"again\n", prog);
	return refused(rc) ? EX_REFUSED : EX_FAIL;
}

static int load_key(const struct opts *o, uint8_t *key)
{
	int rc;

	rc = sectag_issuer_load(o->key_path, key);
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", prog, o->key_path,
			sectag_issuer_strerror(rc));
		return EX_FAIL;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* keygen                                                                 */

static void keygen_usage(FILE *f)
{
	fprintf(f, "usage: %s keygen [--force] FILE\n"
		"Write a fresh random issuer key to FILE (mode 0600, one line "
		"of 32 hex\ndigits). Refuses an existing FILE unless --force: "
		"tags issued with the\nold key could then never be verified "
		"again.\n%s", prog, exit_help);
}

int cmd_keygen(int argc, char **argv)
{
	struct opts o;
	int rc;

	rc = parse_opts(argc, argv, "f", &o, keygen_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc - 1)
		return usage_error("keygen", keygen_usage, optind == argc ?
				   "FILE is missing" : "unexpected '%s'",
				   argv[argc - 1]);
	rc = sectag_issuer_keygen(argv[optind], o.force);
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind],
			sectag_issuer_strerror(rc));
		if (rc == -EEXIST)
			fprintf(stderr, "%s: --force replaces it; tags issued "
				"with the old key become unverifiable\n", prog);
		return EX_FAIL;
	}
	fprintf(stderr, "%s: wrote a new issuer key to %s (mode 0600); keep "
		"it secret and backed up\n", prog, argv[optind]);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* scan                                                                   */

static void scan_usage(FILE *f)
{
	fprintf(f, "usage: %s scan [--json] [--issuer-key FILE] [--reader R] "
		"[--timeout S]\n"
		"Wait for a tag; print its UID, GetVersion data and state: "
		"virgin, partial\n(interrupted provisioning), issued or "
		"foreign. With --issuer-key an issued\ntag is checked to be "
		"ours by authenticating with its read key.\n%s%s", prog,
		common_help, exit_help);
}

static const char *state_text(const struct sectag_tag_info *i)
{
	switch (i->state) {
	case SECTAG_TAG_VIRGIN:
		return "virgin (factory keys)";
	case SECTAG_TAG_PARTIAL:
		return "partial (interrupted provisioning: run provision again)";
	case SECTAG_TAG_ISSUED:
		return i->verified ? "issued with this issuer key" : "issued";
	default:
		return i->verified ? "foreign (not issued with this issuer key)" :
				     "foreign (personalised by someone else)";
	}
}

static void print_scan_json(const struct tap *tp,
			    const struct sectag_tag_info *i)
{
	const struct sectag_ntag_version *v = &i->version;
	json_object *o = json_object_new_object(), *kv;
	char bcd[3];
	size_t k;

	jout_str(o, "reader", tp->name);
	jout_hex(o, "uid", i->uid, 7);
	jout_bool(o, "random_id", i->random_id);
	jout_str(o, "state", sectag_tag_state_name(i->state));
	jout_bool(o, "verified", i->verified);
	jout_bool(o, "locked", i->locked);
	jout_bool(o, "ident_key", i->ident);
	kv = json_object_new_array();
	for (k = 0; k < 5; k++)
		json_object_array_add(kv, json_object_new_int(i->key_ver[k]));
	json_object_object_add(o, "key_versions", kv);
	jout_hex(o, "hw", v->hw, 7);
	jout_hex(o, "sw", v->sw, 7);
	jout_hex(o, "batch", v->batch, 4);
	/* Week and year are BCD on the tag: "%02x" reads as decimal. */
	snprintf(bcd, sizeof(bcd), "%02x", v->fab[1] & 0x7f);
	jout_str(o, "week", bcd);
	snprintf(bcd, sizeof(bcd), "%02x", v->year);
	jout_str(o, "year", bcd);
	jout_print(o);
}

static void print_access(const char *what, uint8_t a)
{
	if (a == SECTAG_NTAG_ACCESS_FREE)
		printf(" %s free", what);
	else if (a == SECTAG_NTAG_ACCESS_NEVER)
		printf(" %s never", what);
	else
		printf(" %s key %u", what, a);
}

static void print_scan(const struct tap *tp, const struct sectag_tag_info *i)
{
	const struct sectag_ntag_version *v = &i->version;
	const struct sectag_ntag_file *f = &i->file;
	char uid[15], b[15];

	sectag_hex(uid, i->uid, 7, true);
	printf("reader      %s\n", tp->name);
	if (!i->random_id)
		printf("uid         %s\n", uid);
	else if (i->uid[0])	/* real UIDs start with the vendor, 04 */
		printf("uid         %s (Random ID: read with GetCardUID)\n",
		       uid);
	else
		printf("uid         hidden (Random ID)\n");
	printf("state       %s\n", state_text(i));
	sectag_hex(b, v->hw, 7, true);
	printf("hardware    %s (vendor %02X type %02X subtype %02X "
	       "version %02X.%02X)\n", b, v->hw[0], v->hw[1], v->hw[2],
	       v->hw[3], v->hw[4]);
	sectag_hex(b, v->sw, 7, true);
	printf("software    %s (version %02X.%02X)\n", b, v->sw[3], v->sw[4]);
	sectag_hex(b, v->batch, 4, true);
	printf("production  batch %s, week %02x of 20%02x\n", b,
	       v->fab[1] & 0x7f, v->year);
	printf("key version %u %u %u %u %u%s\n", i->key_ver[0], i->key_ver[1],
	       i->key_ver[2], i->key_ver[3], i->key_ver[4],
	       i->ident ? " (key 4: identification key)" : "");
	printf("file 3     ");
	print_access("read", f->read);
	print_access("write", f->write);
	print_access("read-write", f->read_write);
	print_access("change", f->change);
	printf(", %s\n", f->mode == SECTAG_NTAG_FULL ? "Full" :
	       f->mode == SECTAG_NTAG_MAC ? "MAC" : "Plain");
}

int cmd_scan(int argc, char **argv)
{
	uint8_t key[SECTAG_ISSUER_KEY_LEN];
	struct sectag_tag_info info;
	struct tap tp;
	struct opts o;
	int rc;

	rc = parse_opts(argc, argv, "rtk", &o, scan_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return usage_error("scan", scan_usage, "unexpected '%s'",
				   argv[optind]);
	rc = o.key_path ? load_key(&o, key) : 0;
	if (!rc)
		rc = tap_begin(&tp, o.reader, o.timeout_ms, NULL);
	if (rc) {
		OPENSSL_cleanse(key, sizeof(key));
		return rc;
	}
	rc = sectag_tag_inspect(tp.t, o.key_path ? key : NULL, &info);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc)
		rc = tag_fail(rc, "cannot read the tag");
	else if (json)
		print_scan_json(&tp, &info);
	else
		print_scan(&tp, &info);
	tap_end(&tp);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* provision                                                              */

static void provision_usage(FILE *f)
{
	fprintf(f, "usage: %s provision --issuer-key FILE [--lock] "
		"[--random-id] [--yes] [--json]\n                 [--reader R] "
		"[--timeout S]\n"
		"Turn a virgin tag into an issued one: a fresh random secret "
		"in file 3,\nreadable only with the tag's read key; all five "
		"keys changed to keys\nderived from the issuer key (key 4: "
		"the issuer's identification key),\nkey 0 last. Interrupted, "
		"it is finished by running it again. Progress\ngoes to "
		"stderr.\n"
		"  --issuer-key F   the issuer key (see '%s keygen')\n"
		"  --lock           also make file 3's settings unchangeable "
		"forever\n                   (asks for confirmation)\n"
		"  --random-id      also enable Random ID: the tag shows a new "
		"random UID\n                   at every tap, forever (asks "
		"for confirmation)\n"
		"  --yes            confirm --lock / --random-id without "
		"asking\n%s%s", prog, prog, common_help, exit_help);
}

/*
 * --lock and --random-id are irreversible: a human says yes, or the
 * command line does.
 */
static int confirm_lock(const struct opts *o)
{
	const char *what = o->lock && o->random_id ? "--lock and --random-id" :
			   o->lock ? "--lock" : "--random-id";
	char line[16];

	if ((!o->lock && !o->random_id) || o->yes)
		return 0;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "%s: %s is irreversible and must be "
			"confirmed: run on a terminal or add --yes\n", prog,
			what);
		return EX_USAGE;
	}
	if (o->lock)
		fprintf(stderr, "--lock: the settings of file 3 of the next "
			"tag presented can never change\nagain, not even with "
			"the issuer key.\n");
	if (o->random_id)
		fprintf(stderr, "--random-id: the next tag presented will show "
			"a random UID at every tap,\nforever; only holders of "
			"the issuer's identification key learn its real UID.\n");
	fprintf(stderr, "Type 'yes' to go on: ");
	if (!fgets(line, sizeof(line), stdin) || strcmp(line, "yes\n")) {
		fprintf(stderr, "%s: not confirmed; nothing done\n", prog);
		return EX_FAIL;
	}
	return 0;
}

static void on_progress(void *ctx, const char *step)
{
	(void)ctx;
	fprintf(stderr, "%s: %s\n", prog, step);
}

static int provision_report(const struct tap *tp, int rc, bool lock,
			    bool random_id)
{
	char uid[15];

	/* A Random ID tag's anticollision UID is 4 bytes and meaningless. */
	sectag_hex(uid, tp->target.nfcid1, tp->target.nfcid1_len == 7 ? 7 : 4, true);
	if (rc == -EEXIST) {
		fprintf(stderr, "%s: tag %s is already issued with this issuer "
			"key: nothing to do ('%s verify' checks it)\n", prog,
			uid, prog);
		return EX_REFUSED;
	}
	if (interrupted(rc)) {
		fprintf(stderr, "%s: provisioning interrupted: %s\n%s: the "
			"tag can be finished: present it again and rerun the "
			"same command\n", prog, sectag_issue_strerror(rc), prog);
		return EX_FAIL;
	}
	if (rc)
		return tag_fail(rc, refused(rc) ? "provisioning refused" :
				"provisioning failed");
	if (json) {
		json_object *o = json_object_new_object();

		jout_str(o, "uid", uid);
		jout_str(o, "state", "issued");
		jout_bool(o, "locked", lock);
		jout_bool(o, "random_id", random_id);
		jout_print(o);
	} else {
		printf("issued %s%s%s\n", uid, lock ? " (file 3 locked)" : "",
		       random_id ? " (Random ID from the next tap on)" : "");
	}
	return 0;
}

int cmd_provision(int argc, char **argv)
{
	uint8_t key[SECTAG_ISSUER_KEY_LEN];
	struct tap tp;
	struct opts o;
	int rc;

	rc = parse_opts(argc, argv, "rtkLRy", &o, provision_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return usage_error("provision", provision_usage,
				   "unexpected '%s'", argv[optind]);
	if (o.yes && !o.lock && !o.random_id)
		return usage_error("provision", provision_usage, "--yes only "
				   "confirms --lock or --random-id");
	if (!o.key_path)
		return usage_error("provision", provision_usage,
				   "--issuer-key FILE is required");
	rc = load_key(&o, key);
	if (!rc)
		rc = confirm_lock(&o);
	if (!rc)
		rc = tap_begin(&tp, o.reader, o.timeout_ms, NULL);
	if (rc) {
		OPENSSL_cleanse(key, sizeof(key));
		return rc;
	}
	rc = sectag_provision(tp.t, key,
			      (o.lock ? SECTAG_PROV_LOCK : 0) |
			      (o.random_id ? SECTAG_PROV_RANDOM_ID : 0),
			      on_progress, NULL);
	OPENSSL_cleanse(key, sizeof(key));
	rc = provision_report(&tp, rc, o.lock, o.random_id);
	tap_end(&tp);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* verify                                                                 */

static void verify_usage(FILE *f)
{
	fprintf(f, "usage: %s verify --issuer-key FILE [--show-secret] "
		"[--json] [--reader R]\n              [--timeout S]\n"
		"Mutual authentication with the tag's read key (derived from "
		"the issuer key\nand the tag's UID) and a read of its secret: "
		"prints genuine or not genuine.\n"
		"  --issuer-key F   the issuer key\n"
		"  --show-secret    also print the 32-byte secret (hex)\n%s%s",
		prog, common_help, exit_help);
}

static void print_verdict(const uint8_t *uid, int rc, const uint8_t *secret,
			  bool show)
{
	char u[15], s[2 * SECTAG_SECRET_LEN + 1] = "";

	sectag_hex(u, uid, 7, true);
	if (show && !rc)
		sectag_hex(s, secret, SECTAG_SECRET_LEN, true);
	if (json) {
		json_object *o = json_object_new_object();

		jout_str(o, "uid", u);
		jout_bool(o, "genuine", !rc);
		if (rc)
			jout_str(o, "reason", sectag_issue_strerror(rc));
		if (show && !rc)
			jout_str(o, "secret", s);
		jout_print(o);
	} else if (rc) {
		printf("NOT GENUINE %s: %s\n", u, sectag_issue_strerror(rc));
	} else {
		printf("genuine %s\n", u);
		if (show)
			printf("secret %s\n", s);
	}
	OPENSSL_cleanse(s, sizeof(s));
}

/*
 * What a failed verify means: not genuine (4), or it could not tell (1).
 * A garbled authentication answer counts as not genuine: the tag failed
 * to prove it holds the key.
 */
static bool not_genuine(int rc)
{
	return refused(rc) || rc == -EBADMSG;
}

int cmd_verify(int argc, char **argv)
{
	uint8_t key[SECTAG_ISSUER_KEY_LEN], secret[SECTAG_SECRET_LEN];
	uint8_t uid[SECTAG_NTAG_UID_LEN] = { 0 };
	struct tap tp;
	struct opts o;
	int rc;

	rc = parse_opts(argc, argv, "rtkS", &o, verify_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return usage_error("verify", verify_usage, "unexpected '%s'",
				   argv[optind]);
	if (!o.key_path)
		return usage_error("verify", verify_usage,
				   "--issuer-key FILE is required");
	rc = load_key(&o, key);
	if (!rc)
		rc = tap_begin(&tp, o.reader, o.timeout_ms, NULL);
	if (rc) {
		OPENSSL_cleanse(key, sizeof(key));
		return rc;
	}
	rc = sectag_verify(tp.t, key, secret, uid);
	OPENSSL_cleanse(key, sizeof(key));
	if (!rc || not_genuine(rc)) {
		if (rc && !uid[0])
			memcpy(uid, tp.target.nfcid1,
			       tp.target.nfcid1_len < 7 ?
			       tp.target.nfcid1_len : 7);
		print_verdict(uid, rc, secret, o.show_secret);
		rc = rc ? EX_REFUSED : 0;
	} else {
		rc = tag_fail(rc, "cannot verify the tag");
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	tap_end(&tp);
	return rc;
}
