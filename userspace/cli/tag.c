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

#include "cli.h"
#include "issue.h"
#include "nfc.h"
#include "ntag424.h"

#define DEFAULT_TIMEOUT_S	30
#define MAX_TIMEOUT_S		86400
/* Per APDU: the tag answers in milliseconds; readers may retry. */
#define XFER_TIMEOUT_MS		2000

/* Options of the tag verbs; each verb allows a subset. */
struct opts {
	const char *reader;		/* NULL: the first NFC device */
	const char *key_path;
	int timeout_ms;			/* < 0: wait forever */
	bool lock, yes, show_secret, force;
};

/* A tag presented on a reader, connected. */
struct tap {
	struct sectag_nfc *nfc;
	struct sectag_nfc_dev dev;
	struct sectag_nfc_target target;
	struct sectag_nfc_link link;
	struct sectag_ntag *t;
	bool polling;			/* we started it and it still runs */
};

static void hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", p[i]);
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */

static int parse_timeout(const char *s, int *ms)
{
	uint32_t v;

	if (parse_u32(s, &v))
		return -1;
	if (v > MAX_TIMEOUT_S) {
		fprintf(stderr, "%s: --timeout: at most %d seconds\n", prog,
			MAX_TIMEOUT_S);
		return -1;
	}
	*ms = v ? (int)v * 1000 : -1;
	return 0;
}

/*
 * getopt over @argv (argv[0] is the verb) for the options named in
 * @allowed. Returns 0, 1 when --help was asked, or -1 on a usage error.
 */
static int parse_opts(int argc, char **argv, const char *allowed,
		      struct opts *o)
{
	static const struct option all[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "issuer-key", required_argument, NULL, 'k' },
		{ "lock", no_argument, NULL, 'L' },
		{ "yes", no_argument, NULL, 'y' },
		{ "show-secret", no_argument, NULL, 'S' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = DEFAULT_TIMEOUT_S * 1000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", all, NULL)) != -1) {
		if (c == '?')
			return -1;
		if (c != 'h' && !strchr(allowed, c)) {
			fprintf(stderr, "%s %s: option '%s' does not apply\n",
				prog, argv[0], argv[optind - 1]);
			return -1;
		}
		switch (c) {
		case 'h':
			return 1;
		case 'r':
			o->reader = optarg;
			break;
		case 't':
			if (parse_timeout(optarg, &o->timeout_ms))
				return -1;
			break;
		case 'k':
			o->key_path = optarg;
			break;
		case 'L':
			o->lock = true;
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
		case 'j':
			json = 1;
			break;
		}
	}
	return 0;
}

/* Common handling of parse_opts(): exit code, or -1 to go on. */
static int opts_done(int rc, const char *verb, void (*usage)(FILE *))
{
	if (rc > 0) {
		usage(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: see '%s %s --help'\n", prog, prog, verb);
		return EX_USAGE;
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

/* ---------------------------------------------------------------------- */
/* Reader and tap                                                         */

static bool reader_matches(const struct sectag_nfc_dev *d, const char *want)
{
	char *end;
	unsigned long v;

	if (!strcmp(d->name, want))
		return true;
	errno = 0;
	v = strtoul(want, &end, 10);
	return !errno && *want && !*end && v == d->idx;
}

static int pick_reader(struct tap *tp, const char *want)
{
	struct sectag_nfc_dev *devs;
	size_t n, i, best = SIZE_MAX;
	int rc;

	rc = sectag_nfc_list(tp->nfc, &devs, &n);
	if (rc)
		return fail(rc, "cannot list NFC devices");
	for (i = 0; i < n; i++) {
		if (want ? !reader_matches(&devs[i], want) :
		    !(devs[i].protocols & NFC_PROTO_ISO14443_MASK))
			continue;
		if (best == SIZE_MAX || devs[i].idx < devs[best].idx)
			best = i;
	}
	if (best != SIZE_MAX)
		tp->dev = devs[best];
	free(devs);
	if (best != SIZE_MAX)
		return 0;
	if (want)
		fprintf(stderr, "%s: no NFC reader '%s' ('%s readers' lists "
			"them)\n", prog, want, prog);
	else
		fprintf(stderr, "%s: no ISO 14443 NFC reader found\n", prog);
	return EX_UNAVAIL;
}

/* Makes sure the reader polls. */
static int start_polling(struct tap *tp)
{
	int rc;

	rc = sectag_nfc_start_poll(tp->nfc, tp->dev.idx,
				   NFC_PROTO_ISO14443_MASK);
	/* EBUSY: already polling (another program): its reports serve us. */
	if (rc && rc != -EBUSY)
		return fail(rc, "cannot start polling");
	tp->polling = !rc;
	return 0;
}

static void warn_if_crowded(struct tap *tp, size_t n)
{
	char uid[2 * sizeof(tp->target.nfcid1) + 1];

	if (n < 2)
		return;
	hex(tp->target.nfcid1, tp->target.nfcid1_len, uid);
	fprintf(stderr, "%s: %zu tags on %s: using the first one reported "
		"(anticollision UID %s); present one tag at a time\n", prog, n,
		tp->dev.name, uid);
}

/* The first target the core lists for the reader; -ENOENT if none. */
static int first_listed(struct tap *tp)
{
	struct sectag_nfc_target *v;
	size_t n;
	int rc;

	rc = sectag_nfc_targets(tp->nfc, tp->dev.idx, &v, &n);
	if (rc)
		return rc;
	if (n) {
		tp->target = v[0];
		warn_if_crowded(tp, n);
	}
	free(v);
	return n ? 0 : -ENOENT;
}

static int wait_tag(struct tap *tp, int timeout_ms)
{
	int rc;

	if (isatty(STDERR_FILENO))
		fprintf(stderr, "%s: waiting for a tag on %s...\n", prog,
			tp->dev.name);
	rc = sectag_nfc_wait_target(tp->nfc, tp->dev.idx, timeout_ms,
				    &tp->target);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "%s: no tag on %s within %d s\n", prog,
			tp->dev.name, timeout_ms / 1000);
		return EX_NOTAG;
	}
	if (rc == -ENODEV) {
		fprintf(stderr, "%s: reader %s went away\n", prog,
			tp->dev.name);
		return EX_UNAVAIL;
	}
	if (rc)
		return fail(rc, "waiting for a tag");
	/* Reporting targets ends the core's poll. */
	tp->polling = false;
	/* Same first target; tells how many tags are in the field. */
	(void)first_listed(tp);
	return 0;
}

/* 0 or -errno: the socket to tp->target, and a tag session over it. */
static int connect_tag(struct tap *tp)
{
	int fd;

	if (!(tp->target.protocols & NFC_PROTO_ISO14443_MASK))
		return -EPROTONOSUPPORT;
	fd = sectag_nfc_connect(tp->dev.idx, tp->target.idx);
	if (fd < 0)
		return fd;
	tp->link.fd = fd;
	tp->link.timeout_ms = XFER_TIMEOUT_MS;
	return sectag_ntag_new(&tp->t, sectag_nfc_link_xfer, &tp->link);
}

/* The target index was renumbered or the tag left before we connected. */
static bool stale(int rc)
{
	return rc == -ENODEV || rc == -ENOTCONN || rc == -EINVAL;
}

/*
 * A tag the core already lists is in the field (readers report losses):
 * connect to it without polling, because a new poll would report it
 * again under a new index while we talk to it. Otherwise poll and wait
 * for the core's event; retry a few times if the index went stale
 * between the report and the connection.
 */
static int get_tag(struct tap *tp, int timeout_ms)
{
	int tries, rc;

	if (!first_listed(tp) && !connect_tag(tp))
		return 0;
	for (tries = 0; tries < 3; tries++) {
		rc = start_polling(tp);
		if (!rc)
			rc = wait_tag(tp, timeout_ms);
		if (rc)
			return rc;
		rc = connect_tag(tp);
		if (!rc || !stale(rc))
			break;
	}
	if (rc == -EPROTONOSUPPORT) {
		fprintf(stderr, "%s: the tag does not speak ISO 14443-4: not "
			"an NTAG 424 DNA\n", prog);
		return EX_REFUSED;
	}
	return rc ? fail(rc, "cannot connect to the tag") : 0;
}

static void tap_end(struct tap *tp)
{
	sectag_ntag_free(tp->t);
	if (tp->link.fd >= 0)
		close(tp->link.fd);
	/* Leave the reader as found: stop a poll nobody answered. */
	if (tp->polling)
		sectag_nfc_stop_poll(tp->nfc, tp->dev.idx);
	sectag_nfc_close(tp->nfc);
	memset(tp, 0, sizeof(*tp));
	tp->link.fd = -1;
}

/* Reader chosen and powered, a tag found and connected. */
static int tap_begin(struct tap *tp, const struct opts *o)
{
	int rc;

	memset(tp, 0, sizeof(*tp));
	tp->link.fd = -1;
	rc = open_nfc(&tp->nfc);
	if (!rc)
		rc = pick_reader(tp, o->reader);
	if (!rc && !tp->dev.powered) {
		rc = sectag_nfc_dev_up(tp->nfc, tp->dev.idx);
		rc = rc && rc != -EALREADY ?
		     fail(rc, "cannot power the reader up") : 0;
	}
	if (!rc)
		rc = get_tag(tp, o->timeout_ms);
	if (rc)
		tap_end(tp);
	return rc;
}

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

	if (!o->key_path) {
		fprintf(stderr, "%s: --issuer-key FILE is required\n", prog);
		return EX_USAGE;
	}
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

	rc = opts_done(parse_opts(argc, argv, "f", &o), "keygen", keygen_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc - 1) {
		keygen_usage(stderr);
		return EX_USAGE;
	}
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
	char uid[15], hw[15], sw[15], batch[9];

	hex(i->uid, 7, uid);
	hex(v->hw, 7, hw);
	hex(v->sw, 7, sw);
	hex(v->batch, 4, batch);
	printf("{\"reader\":\"%s\",\"uid\":\"%s\",\"random_id\":%s,"
	       "\"state\":\"%s\",\"verified\":%s,\"locked\":%s,"
	       "\"key_versions\":[%u,%u,%u,%u,%u],\"hw\":\"%s\",\"sw\":\"%s\","
	       "\"batch\":\"%s\",\"week\":\"%02x\",\"year\":\"%02x\"}\n",
	       tp->dev.name, uid, i->random_id ? "true" : "false",
	       sectag_tag_state_name(i->state), i->verified ? "true" : "false",
	       i->locked ? "true" : "false", i->key_ver[0], i->key_ver[1],
	       i->key_ver[2], i->key_ver[3], i->key_ver[4], hw, sw, batch,
	       v->fab[1] & 0x7f, v->year);
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

	hex(i->uid, 7, uid);
	printf("reader      %s\n", tp->dev.name);
	if (!i->random_id)
		printf("uid         %s\n", uid);
	else if (i->uid[0])	/* real UIDs start with the vendor, 04 */
		printf("uid         %s (Random ID: read with GetCardUID)\n",
		       uid);
	else
		printf("uid         hidden (Random ID)\n");
	printf("state       %s\n", state_text(i));
	hex(v->hw, 7, b);
	printf("hardware    %s (vendor %02X type %02X subtype %02X "
	       "version %02X.%02X)\n", b, v->hw[0], v->hw[1], v->hw[2],
	       v->hw[3], v->hw[4]);
	hex(v->sw, 7, b);
	printf("software    %s (version %02X.%02X)\n", b, v->sw[3], v->sw[4]);
	hex(v->batch, 4, b);
	printf("production  batch %s, week %02x of 20%02x\n", b,
	       v->fab[1] & 0x7f, v->year);
	printf("key version %u %u %u %u %u\n", i->key_ver[0], i->key_ver[1],
	       i->key_ver[2], i->key_ver[3], i->key_ver[4]);
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

	rc = opts_done(parse_opts(argc, argv, "rtkj", &o), "scan", scan_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc) {
		scan_usage(stderr);
		return EX_USAGE;
	}
	rc = o.key_path ? load_key(&o, key) : 0;
	if (!rc)
		rc = tap_begin(&tp, &o);
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
	fprintf(f, "usage: %s provision --issuer-key FILE [--lock [--yes]] "
		"[--json] [--reader R]\n                 [--timeout S]\n"
		"Turn a virgin tag into an issued one: a fresh random secret "
		"in file 3,\nreadable only with the tag's read key; all five "
		"keys changed to keys\nderived from the issuer key, key 0 "
		"last. Interrupted, it is finished by\nrunning it again. "
		"Progress goes to stderr.\n"
		"  --issuer-key F   the issuer key (see '%s keygen')\n"
		"  --lock           also make file 3's settings unchangeable "
		"forever\n                   (asks for confirmation)\n"
		"  --yes            confirm --lock without asking\n%s%s", prog,
		prog, common_help, exit_help);
}

/* --lock is irreversible: a human says yes, or the command line does. */
static int confirm_lock(const struct opts *o)
{
	char line[16];

	if (!o->lock || o->yes)
		return 0;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "%s: --lock is irreversible and must be "
			"confirmed: run on a terminal or add --yes\n", prog);
		return EX_USAGE;
	}
	fprintf(stderr, "--lock: the settings of file 3 of the next tag "
		"presented can never change\nagain, not even with the issuer "
		"key. Type 'yes' to go on: ");
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

static int provision_report(const struct tap *tp, int rc, bool lock)
{
	char uid[15];

	hex(tp->target.nfcid1, 7, uid);
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
	if (json)
		printf("{\"uid\":\"%s\",\"state\":\"issued\",\"locked\":%s}\n",
		       uid, lock ? "true" : "false");
	else
		printf("issued %s%s\n", uid, lock ? " (file 3 locked)" : "");
	return 0;
}

int cmd_provision(int argc, char **argv)
{
	uint8_t key[SECTAG_ISSUER_KEY_LEN];
	struct tap tp;
	struct opts o;
	int rc;

	rc = opts_done(parse_opts(argc, argv, "rtkLyj", &o), "provision",
		       provision_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc || (o.yes && !o.lock)) {
		fprintf(stderr, "%s: bad 'provision' usage%s; see '%s "
			"provision --help'\n", prog, o.yes && !o.lock ?
			" (--yes only confirms --lock)" : "", prog);
		return EX_USAGE;
	}
	rc = load_key(&o, key);
	if (!rc)
		rc = confirm_lock(&o);
	if (!rc)
		rc = tap_begin(&tp, &o);
	if (rc) {
		OPENSSL_cleanse(key, sizeof(key));
		return rc;
	}
	rc = sectag_provision(tp.t, key, o.lock, on_progress, NULL);
	OPENSSL_cleanse(key, sizeof(key));
	rc = provision_report(&tp, rc, o.lock);
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

	hex(uid, 7, u);
	if (show && !rc)
		hex(secret, SECTAG_SECRET_LEN, s);
	if (json) {
		printf("{\"uid\":\"%s\",\"genuine\":%s", u, rc ? "false" : "true");
		if (rc)
			printf(",\"reason\":\"%s\"", sectag_issue_strerror(rc));
		if (show && !rc)
			printf(",\"secret\":\"%s\"", s);
		printf("}\n");
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

	rc = opts_done(parse_opts(argc, argv, "rtkSj", &o), "verify",
		       verify_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc) {
		verify_usage(stderr);
		return EX_USAGE;
	}
	rc = load_key(&o, key);
	if (!rc)
		rc = tap_begin(&tp, &o);
	if (rc) {
		OPENSSL_cleanse(key, sizeof(key));
		return rc;
	}
	rc = sectag_verify(tp.t, key, secret, uid);
	OPENSSL_cleanse(key, sizeof(key));
	if (!rc || not_genuine(rc)) {
		if (rc && !uid[0])
			memcpy(uid, tp.target.nfcid1, 7);
		print_verdict(uid, rc, secret, o.show_secret);
		rc = rc ? EX_REFUSED : 0;
	} else {
		rc = tag_fail(rc, "cannot verify the tag");
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	tap_end(&tp);
	return rc;
}
