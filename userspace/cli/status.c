// SPDX-License-Identifier: GPL-2.0
/*
 * sectag status: the readers (driver, power, polling, the agent's view),
 * the agent (running, protocol version, pending requests), the
 * enrolments per kind, and the programs that would fight us for a
 * reader: neard, pcscd beside a device bound to pn533_usb, libnfc's
 * modprobe blacklist. Exit 0 healthy, 1 a problem (each one said), 2
 * usage. Text or --json (json-c: every string escaped, control
 * characters included; they may come from /proc or /sys).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "agent.h"
#include "cli.h"
#include "jsonout.h"
#include "sim.h"
#include "store.h"

#define LIBNFC_BLACKLIST	"/etc/modprobe.d/blacklist-libnfc.conf"
#define PN533_USB_DRIVER	"/sys/bus/usb/drivers/pn533_usb"
#define MAX_PROBLEMS		16

struct rinfo {
	struct sectag_nfc_dev dev;
	char driver[64];
	bool virt, polling, polling_known;
	const char *agent_state;	/* NULL: the agent did not say */
};

struct status {
	struct rinfo *r;
	size_t n_readers;
	struct sectag_pcsc_reader *pc;	/* PC/SC readers, when pcscd runs */
	const char **pc_agent;		/* their state for the agent */
	size_t n_pc;
	bool nfc_ok;
	bool agent_running;		/* answered PING */
	bool agent_socket;		/* the socket exists */
	uint32_t agent_version;
	bool has_pending;
	uint32_t pending;
	bool store_ok;
	char store_err[128];
	size_t kinds[4];		/* by enum sectag_binding_kind */
	size_t bindings;
	pid_t neard, pcscd;
	size_t pn533_usb;		/* devices bound to pn533_usb */
	bool blacklist;
	const char *problem[MAX_PROBLEMS];
	char problem_buf[MAX_PROBLEMS][160];
	size_t n_problems;
};

static void problem(struct status *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct status *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n_problems == MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(s->problem_buf[s->n_problems],
		  sizeof(s->problem_buf[0]), fmt, ap);
	va_end(ap);
	s->problem[s->n_problems] = s->problem_buf[s->n_problems];
	s->n_problems++;
}

/* For text output: control characters from /proc or /sys as '?'. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* The driver bound to nfcN's device, or its parent's; "" if none. */
static void reader_driver(uint32_t idx, char *out, size_t size)
{
	static const char *const links[] = { "device/driver",
					     "device/../driver" };
	char path[96], target[PATH_MAX];
	const char *base;
	ssize_t n;
	size_t i;

	out[0] = 0;
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "/sys/class/nfc/nfc%u/%s", idx,
			 links[i]);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		base = strrchr(target, '/');
		base = base ? base + 1 : target;
		if (strlen(base) >= size)
			continue;
		memcpy(out, base, strlen(base) + 1);
		return;
	}
}

static void gather_readers(struct status *s)
{
	struct sectag_sim_reader *sr = NULL;
	struct sectag_nfc_dev *devs;
	struct sectag_nfc *nfc;
	struct sectag_sim *sim;
	size_t n_sim = 0, i, j;

	if (sectag_nfc_open(&nfc)) {
		problem(s, "the NFC subsystem is not available (modprobe nfc)");
		return;
	}
	s->nfc_ok = true;
	if (sectag_nfc_list(nfc, &devs, &s->n_readers)) {
		sectag_nfc_close(nfc);
		problem(s, "cannot list NFC devices");
		return;
	}
	sectag_nfc_close(nfc);
	s->r = calloc(s->n_readers ? s->n_readers : 1, sizeof(*s->r));
	if (!s->r) {
		free(devs);
		s->n_readers = 0;
		problem(s, "out of memory");
		return;
	}
	/* Our virtual readers have no device in sysfs: the simulator says. */
	if (!sectag_sim_open(&sim)) {
		if (sectag_sim_reader_list(sim, &sr, &n_sim))
			n_sim = 0;
		sectag_sim_close(sim);
	}
	for (i = 0; i < s->n_readers; i++) {
		struct rinfo *r = &s->r[i];

		r->dev = devs[i];
		clean(r->dev.name);
		reader_driver(r->dev.idx, r->driver, sizeof(r->driver));
		clean(r->driver);
		for (j = 0; j < n_sim; j++) {
			if (sr[j].nfc_index != r->dev.idx)
				continue;
			r->virt = true;
			r->polling = sr[j].polling;
			r->polling_known = true;
			if (!*r->driver)
				snprintf(r->driver, sizeof(r->driver),
					 "nfc_sectag");
		}
	}
	free(sr);
	free(devs);
	if (!s->n_readers && !s->n_pc)
		problem(s, "no NFC reader");
}

/* PC/SC readers: none without pcscd, which is no problem. */
static void gather_pcsc(struct status *s)
{
	struct sectag_pcsc *p;
	size_t i;

	if (sectag_pcsc_open(&p))
		return;
	if (sectag_pcsc_list(p, &s->pc, &s->n_pc))
		s->n_pc = 0;
	sectag_pcsc_close(p);
	s->pc_agent = calloc(s->n_pc ? s->n_pc : 1, sizeof(*s->pc_agent));
	if (!s->pc_agent)
		s->n_pc = 0;
	for (i = 0; i < s->n_pc; i++)
		clean(s->pc[i].name);
}

static void gather_agent(struct status *s)
{
	struct sectag_agent_req rq = { .verb = SECTAG_AGENT_PING };
	struct sectag_agent_ans ans;
	size_t i, j;
	int fd, rc;

	s->agent_socket = !access(agent_socket(), F_OK);
	fd = sectag_agent_connect(agent_socket(), 2000, 0, NULL);
	if (fd < 0) {
		if (s->agent_socket && fd != -ECONNREFUSED)
			problem(s, "sectagd's socket %s: %s", agent_socket(),
				strerror(-fd));
		return;
	}
	rc = sectag_agent_send(fd, &rq);
	if (!rc)
		rc = sectag_agent_recv(fd, &ans, sectag_agent_now_ms() + 5000);
	if (rc || ans.type != SECTAG_AGENT_HELLO) {
		problem(s, "sectagd does not answer PING (%s)",
			rc ? strerror(-rc) : "unexpected answer");
		close(fd);
		return;
	}
	s->agent_running = true;
	s->agent_version = ans.n;
	if (ans.n != SECTAG_AGENT_VERSION) {
		problem(s, "sectagd speaks protocol %u, this sectag %d", ans.n,
			SECTAG_AGENT_VERSION);
		close(fd);
		return;
	}
	rq.verb = SECTAG_AGENT_STATUS;
	rc = sectag_agent_send(fd, &rq);
	if (!rc)
		rc = sectag_agent_recv(fd, &ans, sectag_agent_now_ms() + 5000);
	close(fd);
	if (rc || ans.type != SECTAG_AGENT_STATE)
		return;		/* FAIL denied: not root */
	s->has_pending = true;
	s->pending = ans.n;
	for (i = 0; i < ans.n_readers; i++)
		for (j = 0; j < s->n_readers; j++)
			if (s->r[j].dev.idx == ans.readers[i].idx)
				s->r[j].agent_state =
					sectag_agent_rstate_name(ans.readers[i].state);
	for (i = 0; i < ans.n_readers; i++)
		for (j = 0; j < s->n_pc; j++)
			if (sectag_pcsc_reader_id(s->pc[j].name) ==
			    ans.readers[i].idx)
				s->pc_agent[j] =
					sectag_agent_rstate_name(ans.readers[i].state);
}

static void gather_store(struct status *s, const char *path)
{
	struct sectag_store st = { 0 };
	size_t i;
	int rc;

	rc = sectag_store_load(path, &st);
	if (rc) {
		snprintf(s->store_err, sizeof(s->store_err), "%s%s",
			 strerror(-rc), rc == -EACCES ? " (run as root)" : "");
		if (rc != -EACCES)
			problem(s, "the store %s: %s", path, strerror(-rc));
		return;
	}
	s->store_ok = true;
	s->bindings = st.n;
	for (i = 0; i < st.n; i++)
		if (st.b[i].kind >= 1 && st.b[i].kind <= 3)
			s->kinds[st.b[i].kind]++;
	sectag_store_free(&st);
}

/* The first process whose comm is @name, or 0. */
static pid_t find_process(const char *name)
{
	struct dirent *d;
	char path[64], comm[32];
	pid_t found = 0;
	DIR *dir;
	FILE *f;

	dir = opendir("/proc");
	if (!dir)
		return 0;
	while (!found && (d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/comm", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			if (!strcmp(comm, name))
				found = atoi(d->d_name);
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

static void gather_conflicts(struct status *s)
{
	struct dirent *d;
	DIR *dir;

	s->neard = find_process("neard");
	s->pcscd = find_process("pcscd");
	dir = opendir(PN533_USB_DRIVER);
	while (dir && (d = readdir(dir)))
		s->pn533_usb += strchr(d->d_name, ':') != NULL;	/* 1-1:1.0 */
	if (dir)
		closedir(dir);
	s->blacklist = !access(LIBNFC_BLACKLIST, F_OK);
	if (s->neard)
		problem(s, "neard is running (pid %d): it takes every NFC "
			"reader; stop it: systemctl disable --now neard",
			(int)s->neard);
	if (s->pcscd && s->pn533_usb)
		problem(s, "pcscd is running (pid %d) and %zu device(s) are "
			"bound to pn533_usb: pcscd's libnfc/ifdnfc driver and "
			"the kernel both want them; let one have them",
			(int)s->pcscd, s->pn533_usb);
	if (s->blacklist)
		problem(s, "%s exists: libnfc keeps pn533_usb and friends "
			"from binding kernel NFC readers; remove it to use "
			"them with sectag", LIBNFC_BLACKLIST);
}

static void print_text(const struct status *s, const char *store)
{
	size_t i;

	printf("readers:%s\n", s->n_readers || s->n_pc ? "" : " none");
	for (i = 0; i < s->n_readers; i++) {
		const struct rinfo *r = &s->r[i];

		printf("  %-6s index %u  driver %s%s  %s", r->dev.name,
		       r->dev.idx, *r->driver ? r->driver : "?",
		       r->virt ? " (virtual)" : "",
		       r->dev.powered ? "powered" : "off");
		if (r->polling_known)
			printf("%s", r->polling ? "  polling" : "  not polling");
		if (r->agent_state)
			printf("  agent: %s", r->agent_state);
		printf("\n");
	}
	for (i = 0; i < s->n_pc; i++) {
		printf("  " SECTAG_PCSC_PREFIX "%s  PC/SC  %s", s->pc[i].name,
		       s->pc[i].card ? "card present" : "no card");
		if (s->pc_agent[i])
			printf("  agent: %s", s->pc_agent[i]);
		printf("\n");
	}
	if (s->agent_running) {
		printf("agent: running, protocol %u", s->agent_version);
		if (s->has_pending)
			printf(", %u pending request(s)", s->pending);
		printf(" (%s)\n", agent_socket());
	} else {
		printf("agent: not running (%s)\n", agent_socket());
	}
	if (s->store_ok)
		printf("enrolments: %zu (luks %zu, user %zu, name %zu) in %s\n",
		       s->bindings, s->kinds[SECTAG_BIND_LUKS],
		       s->kinds[SECTAG_BIND_USER], s->kinds[SECTAG_BIND_NAME],
		       store);
	else
		printf("enrolments: unknown: %s: %s\n", store, s->store_err);
	if (!s->n_problems) {
		printf("status: healthy\n");
		return;
	}
	for (i = 0; i < s->n_problems; i++)
		printf("problem: %s\n", s->problem[i]);
	printf("status: %zu problem(s)\n", s->n_problems);
}

static json_object *reader_json(const struct rinfo *r)
{
	json_object *o = json_object_new_object();

	jout_int(o, "index", r->dev.idx);
	jout_str(o, "name", r->dev.name);
	jout_str(o, "driver", *r->driver ? r->driver : NULL);
	jout_bool(o, "virtual", r->virt);
	jout_bool(o, "powered", r->dev.powered);
	if (r->polling_known)
		jout_bool(o, "polling", r->polling);
	else
		jout_str(o, "polling", NULL);
	jout_str(o, "agent", r->agent_state);
	jout_bool(o, "borrowed", r->agent_state &&
		  !strcmp(r->agent_state, "borrowed"));
	return o;
}

static json_object *pcsc_json(const struct sectag_pcsc_reader *r,
			      const char *agent)
{
	char name[sizeof(SECTAG_PCSC_PREFIX) + SECTAG_PCSC_NAME_MAX];
	json_object *o = json_object_new_object();

	snprintf(name, sizeof(name), SECTAG_PCSC_PREFIX "%s", r->name);
	jout_str(o, "name", name);
	jout_bool(o, "pcsc", true);
	jout_bool(o, "card", r->card);
	jout_str(o, "agent", agent);
	jout_bool(o, "borrowed", agent && !strcmp(agent, "borrowed"));
	return o;
}

static json_object *agent_json(const struct status *s)
{
	json_object *o = json_object_new_object();

	jout_bool(o, "running", s->agent_running);
	jout_str(o, "socket", agent_socket());
	if (s->agent_running)
		jout_int(o, "protocol", s->agent_version);
	if (s->has_pending)
		jout_int(o, "pending", s->pending);
	return o;
}

static json_object *store_json(const struct status *s, const char *store)
{
	json_object *o = json_object_new_object();

	jout_str(o, "store", store);
	if (!s->store_ok) {
		jout_str(o, "error", s->store_err);
		return o;
	}
	jout_int(o, "total", s->bindings);
	jout_int(o, "luks", s->kinds[SECTAG_BIND_LUKS]);
	jout_int(o, "user", s->kinds[SECTAG_BIND_USER]);
	jout_int(o, "name", s->kinds[SECTAG_BIND_NAME]);
	return o;
}

static json_object *conflicts_json(const struct status *s)
{
	json_object *o = json_object_new_object();

	jout_int(o, "neard", s->neard);
	jout_int(o, "pcscd", s->pcscd);
	jout_int(o, "pn533_usb", s->pn533_usb);
	jout_bool(o, "libnfc_blacklist", s->blacklist);
	return o;
}

static void print_json(const struct status *s, const char *store)
{
	json_object *o = json_object_new_object(), *a;
	size_t i;

	jout_bool(o, "healthy", !s->n_problems);
	a = json_object_new_array();
	for (i = 0; i < s->n_readers; i++)
		json_object_array_add(a, reader_json(&s->r[i]));
	for (i = 0; i < s->n_pc; i++)
		json_object_array_add(a, pcsc_json(&s->pc[i], s->pc_agent[i]));
	json_object_object_add(o, "readers", a);
	json_object_object_add(o, "agent", agent_json(s));
	json_object_object_add(o, "enrolments", store_json(s, store));
	json_object_object_add(o, "conflicts", conflicts_json(s));
	a = json_object_new_array();
	for (i = 0; i < s->n_problems; i++)
		json_object_array_add(a, json_object_new_string(s->problem[i]));
	json_object_object_add(o, "problems", a);
	jout_print(o);
}

static void status_usage(FILE *f)
{
	fprintf(f, "usage: %s status [--store FILE] [--json]\n"
		"The readers (driver, power, polling, the agent's view), the "
		"PC/SC readers,\nthe agent, the enrolments per kind, and "
		"programs that take "
		"readers (neard, pcscd with\npn533_usb, libnfc's blacklist). "
		"Exit 0 healthy, 1 a problem, 2 usage.\n", prog);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		CLI_OPTS_END
	};
	const char *store = SECTAG_STORE_DEFAULT;
	struct status s = { 0 };
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case 0:		/* --json */
			break;
		case 's':
			store = optarg;
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			return getopt_error("status", status_usage, argv, o);
		}
	}
	if (optind != argc)
		return usage_error("status", status_usage, "unexpected '%s'",
				   argv[optind]);
	gather_pcsc(&s);
	gather_readers(&s);
	gather_agent(&s);
	gather_store(&s, store);
	gather_conflicts(&s);
	if (json)
		print_json(&s, store);
	else
		print_text(&s, store);
	free(s.r);
	free(s.pc);
	free(s.pc_agent);
	return s.n_problems ? EX_FAIL : 0;
}
