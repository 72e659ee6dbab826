// SPDX-License-Identifier: GPL-2.0
/*
 * ncidevemu: an NFC controller (NFCC) speaking NCI 1.0, emulated in
 * userspace on /dev/virtual_nci, with an NTAG 424 DNA (the real engine,
 * kernel/ntag424.c built against tests/unit/kshim) in its field, so that
 * the distribution's own NCI core (nci.ko: net/nfc/nci/) drives it as it
 * drives the NXP controllers built into laptops (nxp-nci_i2c). For tests
 * in the VM; needs root, nci.ko and virtual_ncidev.ko (tests/nci/Kbuild).
 *
 *   ncidevemu [--uid HEX14] [--tag-present] [--segment N] [--discovery-ms N]
 *             [--silent-lift] [--verbose]
 *
 * Opening /dev/virtual_nci makes virtual_ncidev register an NCI device
 * with the core, which registers an nfcN: ncidevemu prints "nfcN", then
 * "ready", on stdout, and answers the core until SIGTERM or SIGINT, when
 * it prints its counts on stderr and exits (the device goes with the
 * file). The tag starts out of the field unless --tag-present:
 *   SIGUSR1  place the tag in the field
 *   SIGUSR2  lift it (the engine is power-cycled, as a real tag is)
 *
 * What the NFCC answers (NCI 1.0 message formats; the 6.1 core's side
 * in net/nfc/nci/core.c, rsp.c, ntf.c and data.c):
 *   CORE_RESET_CMD        RSP OK, NCI version 1.0, the configuration
 *                         status the reset type asked for; RF state
 *                         back to idle, the field off (the tag resets).
 *                         No CORE_RESET_NTF: that is NCI 2.0.
 *   CORE_INIT_CMD         the NCI 1.0 RSP (rsp.c, v1 layout): RF
 *                         interfaces Frame, ISO-DEP, NFC-DEP; one logical
 *                         connection; 255-byte control payloads;
 *                         manufacturer ID 04h (NXP, ISO/IEC 7816-6)
 *   CORE_SET_CONFIG_CMD   RSP OK, no invalid parameter
 *   RF_DISCOVER_MAP_CMD   RSP OK
 *   RF_DISCOVER_CMD       RSP OK and RFST_DISCOVERY. With NFC-A passive
 *                         poll among the configurations and the tag in
 *                         the field (one poll period, --discovery-ms, after
 *                         the RSP, or when it is placed later): the
 *                         NFCC activates it itself, as an NFCC does with
 *                         a single tag of a mapped protocol (no
 *                         RF_DISCOVER_NTF, no host select), and sends
 *                         RF_INTF_ACTIVATED_NTF: ISO-DEP interface and
 *                         protocol, NFC-A passive poll, max data payload
 *                         255, 1 credit, SENS_RES/NFCID1/SEL_RES from the
 *                         engine, 106 kbps both ways, and the ATS as the
 *                         activation parameter (ntf.c: the core takes the
 *                         single target as auto-activated, RFST
 *                         POLL_ACTIVE, and reports it to userspace).
 *   RF_DISCOVER_SELECT    in RFST_W4_HOST_SELECT, of our one target and
 *                         ISO-DEP: RSP OK, then RF_INTF_ACTIVATED_NTF as
 *                         above if the tag is in the field, else
 *                         CORE_GENERIC_ERROR_NTF ACTIVATION_FAILED (the
 *                         state stays). Elsewhere RSP SEMANTIC_ERROR:
 *                         in discovery the one target is activated by
 *                         the NFCC, never chosen by the host
 *   RF_DEACTIVATE_CMD     in RFST_DISCOVERY or RFST_W4_HOST_SELECT (idle
 *                         only): RSP OK, RFST_IDLE, no NTF (rsp.c
 *                         completes on the RSP outside POLL_ACTIVE; a
 *                         later NTF would complete the next request). In
 *                         RFST_POLL_ACTIVE: RSP OK then RF_DEACTIVATE_NTF
 *                         of the type asked, reason DH request (ntf.c
 *                         completes on the NTF). Idle: field off (the
 *                         tag resets); sleep: the tag is deselected,
 *                         RFST_W4_HOST_SELECT (userspace's
 *                         NFC_CMD_DEACTIVATE_TARGET asks for sleep; the
 *                         core's next poll deactivates to idle first);
 *                         discovery: deselected, polled again.
 *                         Elsewhere: RSP SEMANTIC_ERROR.
 *   other commands        RSP SYNTAX_ERROR (logged)
 *   data, conn 0          gathered over segments (PBF); every segment's
 *                         credit comes back at once in
 *                         CORE_CONN_CREDITS_NTF (the core sends the next
 *                         segment only then: data.c, core.c tx_work);
 *                         the whole C-APDU goes to the engine and its
 *                         R-APDU comes back in data packets of at most
 *                         255 bytes, or N with --segment N (PBF set on
 *                         all but the last).
 *
 * A tag lifted while activated: in poll mode an NFCC learns of a removal
 * only when the tag stops answering, and NCI has it report the failed
 * exchange and stay in RFST_POLL_ACTIVE: the next data packet gets its
 * credit back and CORE_INTERFACE_ERROR_NTF with RF_TIMEOUT_ERROR (B2h)
 * on conn 0, and no RF_DEACTIVATE_NTF. ntf.c completes the exchange with
 * -EIO; the raw socket reports EIO and is shut down (af_nfc rawsock.c),
 * exactly as with pn533. libsectag then deactivates the target (sleep,
 * from NFC_CMD_DEACTIVATE_TARGET) before it closes the socket; a socket
 * closed without that deactivates it (idle) itself. A tag placed again
 * is not activated again before a new discovery or a host select: its
 * power cycle left it in IDLE. The core has no presence
 * check for NCI devices (nci_nfc_ops has no check_presence), so
 * NFC_EVENT_TARGET_LOST never comes.
 *
 * virtual_ncidev holds one frame from the core at a time and drops the
 * next one (its send returns -1, which the core ignores) until ours is
 * read: one thread reads and answers at once; the main thread waits for
 * signals. The device has no poll(); a read interrupted by a signal
 * fails with EFAULT. Answers to one command are written in their order;
 * each write is one frame, queued by nci_recv_frame().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "emu.h"
#include "engine_api.h"
#include "pn533emu_engine.h"

#define DEVICE			"/dev/virtual_nci"
#define IOCTL_GET_NCIDEV_IDX	0	/* virtual_ncidev.c */

#define MT_DATA		0
#define MT_CMD		1
#define MT_RSP		2
#define MT_NTF		3
#define PBF_CONT	0x10
#define HDR_LEN		3
#define MAX_PAYLOAD	255

#define GID_CORE	0x0
#define GID_RF		0x1
/* Core OIDs */
#define CORE_RESET		0x00
#define CORE_INIT		0x01
#define CORE_SET_CONFIG		0x02
#define CORE_CONN_CREDITS	0x06
#define CORE_GENERIC_ERROR	0x07
#define CORE_INTERFACE_ERROR	0x08
/* RF management OIDs */
#define RF_DISCOVER_MAP		0x00
#define RF_DISCOVER		0x03
#define RF_DISCOVER_SELECT	0x04
#define RF_INTF_ACTIVATED	0x05
#define RF_DEACTIVATE		0x06

#define ST_OK			0x00
#define ST_SYNTAX_ERROR		0x05
#define ST_SEMANTIC_ERROR	0x06
#define ST_ACTIVATION_FAILED	0xA1
#define ST_RF_TIMEOUT_ERROR	0xB2

#define RF_IF_FRAME		0x01
#define RF_IF_ISO_DEP		0x02
#define RF_IF_NFC_DEP		0x03
#define RF_PROTO_ISO_DEP	0x04
#define NFC_A_PASSIVE_POLL	0x00
#define DEACT_IDLE		0x00
#define DEACT_SLEEP		0x01
#define DEACT_SLEEP_AF		0x02
#define DEACT_DISCOVERY		0x03
#define REASON_DH_REQUEST	0x00

#define STATIC_RF_CONN		0
#define CREDITS			1
#define DISCOVERY_ID		1

/* ATS of an NTAG 424 DNA (datasheet): TL, T0, TA(1), TB(1), TC(1), T1. */
static const uint8_t ntag_ats[6] = { 0x06, 0x77, 0x77, 0x71, 0x02, 0x80 };

enum rfst { RFST_IDLE, RFST_DISCOVERY, RFST_W4_HOST_SELECT,
	    RFST_POLL_ACTIVE };
static const char *const rfst_name[] = { "idle", "discovery",
					 "w4-host-select", "poll-active" };

static size_t segment = MAX_PAYLOAD;	/* --segment: answers cut at this */
static int nci_fd = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	struct ntag424 *tag;
	enum rfst rfst;
	bool poll_a;		/* the discovery polls NFC-A */
	bool present;		/* in the field */
	bool active;		/* ISO-DEP activated by the NFCC */
	uint8_t capdu[1024];	/* gathered data segments */
	size_t clen;
	unsigned long n_cmd, n_data, n_activations, n_rf_timeouts;
} T;

/*
 * A real NFCC answers RF_DISCOVER_CMD at once and finds a tag already in
 * the field one poll period later, never in the same breath: 6.1's core
 * (nci_start_poll) records the polled protocols only after the RSP has
 * woken it, and drops an activation it processes before that ("the
 * target found does not have the desired protocol"), leaving the device
 * polling with a target it never reports. Documentation/upstream/0002-*
 * has the fix; until then we keep real hardware's pace (0 ms: the RSP
 * and the activation back to back, the race for tests/nci/race.sh).
 */
static unsigned int discovery_ms = 20;	/* --discovery-ms; 0 reproduces it */
/*
 * --silent-lift: data for a lifted tag gets its credit back and no
 * answer at all, as from a controller that lost the frame; the core's
 * data timer (NCI_DATA_TIMEOUT, 3 s) then fails the exchange
 * (tests/nci/closerace.sh).
 */
static bool silent_lift;

static void set_rfst(enum rfst s)
{
	if (emu_verbose && s != T.rfst)
		emu_log("RF state %s -> %s", rfst_name[T.rfst], rfst_name[s]);
	T.rfst = s;
}

/* One frame to the core: header byte 0, byte 1, then @n bytes. */
static void send_frame(uint8_t b0, uint8_t b1, const uint8_t *p, size_t n)
{
	uint8_t f[HDR_LEN + MAX_PAYLOAD];

	f[0] = b0;
	f[1] = b1;
	f[2] = (uint8_t)n;
	if (n)
		memcpy(f + HDR_LEN, p, n);
	emu_dbg_hex("<-", f, HDR_LEN + n);
	if (write(nci_fd, f, HDR_LEN + n) != (ssize_t)(HDR_LEN + n))
		emu_log("write: %s", strerror(errno));
}

static void ctrl(uint8_t mt, uint8_t gid, uint8_t oid, const uint8_t *p,
		 size_t n)
{
	send_frame((uint8_t)(mt << 5 | gid), oid, p, n);
}

static void rsp_status(uint8_t gid, uint8_t oid, uint8_t st)
{
	ctrl(MT_RSP, gid, oid, &st, 1);
}

/* ---- RF ---------------------------------------------------------------- */

/* The field goes off: a tag in it loses power and resets. */
static void field_off(void)
{
	if (T.present)
		ntag424_power_cycle(T.tag);
	T.active = false;
	T.clen = 0;
}

/* The tag ends its ISO-DEP session (S(DESELECT)); it keeps power. */
static void deselect(void)
{
	if (T.present && T.active)
		emu_engine_deselect(T.tag);
	T.active = false;
	T.clen = 0;
}

/* RF technology specific parameters of NFC-A passive poll mode. */
static size_t nfca_params(uint8_t *a)
{
	uint8_t uid[EMU_NFCID1_MAX], sel;
	uint16_t sens;
	unsigned int ulen;
	size_t k = 0;

	ulen = emu_engine_rf(T.tag, uid, &sens, &sel);
	a[k++] = (uint8_t)sens;		/* SENS_RES, as ntf.c reads it (le16) */
	a[k++] = (uint8_t)(sens >> 8);
	a[k++] = (uint8_t)ulen;
	memcpy(a + k, uid, ulen);
	k += ulen;
	a[k++] = 1;			/* SEL_RES length */
	a[k++] = sel;
	return k;
}

/*
 * Poll, anticollision, RATS: the tag activated by the NFCC, reported in
 * RF_INTF_ACTIVATED_NTF.
 */
static void activate(void)
{
	uint8_t a[64];
	size_t k = 0, n;

	emu_engine_deselect(T.tag);	/* a fresh activation */
	a[k++] = DISCOVERY_ID;
	a[k++] = RF_IF_ISO_DEP;
	a[k++] = RF_PROTO_ISO_DEP;
	a[k++] = NFC_A_PASSIVE_POLL;
	a[k++] = MAX_PAYLOAD;		/* max data packet payload */
	a[k++] = CREDITS;		/* initial credits */
	n = nfca_params(a + k + 1);
	a[k++] = (uint8_t)n;
	k += n;
	a[k++] = NFC_A_PASSIVE_POLL;	/* data exchange tech and mode */
	a[k++] = 0x00;			/* 106 kbps transmit */
	a[k++] = 0x00;			/* 106 kbps receive */
	a[k++] = 1 + sizeof(ntag_ats);	/* activation parameters: */
	a[k++] = sizeof(ntag_ats);	/* RATS response length, ATS */
	memcpy(a + k, ntag_ats, sizeof(ntag_ats));
	k += sizeof(ntag_ats);
	T.active = true;
	T.clen = 0;
	T.n_activations++;
	set_rfst(RFST_POLL_ACTIVE);
	ctrl(MT_NTF, GID_RF, RF_INTF_ACTIVATED, a, k);
}

/* In discovery, a tag in the field of a polled technology is found. */
static void discover(void)
{
	if (T.rfst == RFST_DISCOVERY && T.poll_a && T.present)
		activate();
}

/* ---- commands ------------------------------------------------------------ */

static void core_init(void)
{
	static const uint8_t r[] = {
		ST_OK,
		0x00, 0x00, 0x00, 0x00,	/* NFCC features */
		3, RF_IF_FRAME, RF_IF_ISO_DEP, RF_IF_NFC_DEP,
		1,			/* max logical connections */
		0x00, 0x00,		/* max routing table size */
		MAX_PAYLOAD,		/* max control packet payload */
		0x00, 0x00,		/* max size for large parameters */
		0x04,			/* manufacturer: NXP */
		0x00, 0x00, 0x00, 0x00,	/* manufacturer specific */
	};

	ctrl(MT_RSP, GID_CORE, CORE_INIT, r, sizeof(r));
}

static void core_cmd(uint8_t oid, const uint8_t *p, size_t n)
{
	uint8_t r[3];

	switch (oid) {
	case CORE_RESET:
		field_off();
		set_rfst(RFST_IDLE);
		r[0] = ST_OK;
		r[1] = 0x10;		/* NCI 1.0 */
		r[2] = n ? p[0] : 0;	/* configuration kept (0) or reset */
		ctrl(MT_RSP, GID_CORE, CORE_RESET, r, 3);
		break;
	case CORE_INIT:
		core_init();
		break;
	case CORE_SET_CONFIG:
		r[0] = ST_OK;
		r[1] = 0;		/* no invalid parameter */
		ctrl(MT_RSP, GID_CORE, CORE_SET_CONFIG, r, 2);
		break;
	default:
		emu_log("core command %02x not emulated", oid);
		rsp_status(GID_CORE, oid, ST_SYNTAX_ERROR);
	}
}

/* RF_DISCOVER_CMD: number of configurations, then (tech and mode, freq). */
static void rf_discover(const uint8_t *p, size_t n)
{
	if (T.rfst != RFST_IDLE || n < 1 || n < 1 + 2 * (size_t)p[0]) {
		rsp_status(GID_RF, RF_DISCOVER, n < 1 ? ST_SYNTAX_ERROR :
			   ST_SEMANTIC_ERROR);
		return;
	}
	T.poll_a = false;
	for (size_t i = 0; i < p[0]; i++)
		T.poll_a |= p[1 + 2 * i] == NFC_A_PASSIVE_POLL;
	rsp_status(GID_RF, RF_DISCOVER, ST_OK);
	set_rfst(RFST_DISCOVERY);
	if (!discovery_ms) {
		discover();
		return;
	}
	/* discover() from serve_signals() when this SIGALRM comes */
	setitimer(ITIMER_REAL, &(struct itimerval){
			.it_value.tv_usec = discovery_ms * 1000 }, NULL);
}

static void rf_deactivate(const uint8_t *p, size_t n)
{
	uint8_t type = n ? p[0] : DEACT_IDLE, ntf[2];

	if ((T.rfst == RFST_DISCOVERY || T.rfst == RFST_W4_HOST_SELECT) &&
	    type == DEACT_IDLE) {
		rsp_status(GID_RF, RF_DEACTIVATE, ST_OK);
		field_off();
		set_rfst(RFST_IDLE);
		return;
	}
	if (T.rfst != RFST_POLL_ACTIVE || type > DEACT_DISCOVERY) {
		rsp_status(GID_RF, RF_DEACTIVATE, ST_SEMANTIC_ERROR);
		return;
	}
	rsp_status(GID_RF, RF_DEACTIVATE, ST_OK);
	if (type == DEACT_IDLE) {
		field_off();
		set_rfst(RFST_IDLE);
	} else {
		deselect();
		set_rfst(type == DEACT_DISCOVERY ? RFST_DISCOVERY :
			 RFST_W4_HOST_SELECT);
	}
	ntf[0] = type;
	ntf[1] = REASON_DH_REQUEST;
	ctrl(MT_NTF, GID_RF, RF_DEACTIVATE, ntf, 2);
	discover();
}

/*
 * In RFST_W4_HOST_SELECT (the target put to sleep) the host activates it
 * again; an NFCC wakes it (WUPA) and activates it, or reports that it
 * did not answer and stays in the state. The core completes its request
 * on either notification (rsp.c, ntf.c).
 */
static void rf_discover_select(const uint8_t *p, size_t n)
{
	uint8_t st = ST_ACTIVATION_FAILED;

	if (T.rfst != RFST_W4_HOST_SELECT || n < 3 || p[0] != DISCOVERY_ID ||
	    p[1] != RF_PROTO_ISO_DEP || p[2] != RF_IF_ISO_DEP) {
		rsp_status(GID_RF, RF_DISCOVER_SELECT, ST_SEMANTIC_ERROR);
		return;
	}
	rsp_status(GID_RF, RF_DISCOVER_SELECT, ST_OK);
	if (T.present)
		activate();
	else
		ctrl(MT_NTF, GID_CORE, CORE_GENERIC_ERROR, &st, 1);
}

static void rf_cmd(uint8_t oid, const uint8_t *p, size_t n)
{
	switch (oid) {
	case RF_DISCOVER_MAP:
		rsp_status(GID_RF, oid, ST_OK);
		break;
	case RF_DISCOVER:
		rf_discover(p, n);
		break;
	case RF_DISCOVER_SELECT:
		rf_discover_select(p, n);
		break;
	case RF_DEACTIVATE:
		rf_deactivate(p, n);
		break;
	default:
		emu_log("RF command %02x not emulated", oid);
		rsp_status(GID_RF, oid, ST_SYNTAX_ERROR);
	}
}

/* ---- data ---------------------------------------------------------------- */

static void credit_back(uint8_t conn)
{
	const uint8_t c[3] = { 1, conn, CREDITS };

	ctrl(MT_NTF, GID_CORE, CORE_CONN_CREDITS, c, sizeof(c));
}

/* The tag did not answer: what an NFCC reports after the FWT. */
static void rf_timeout(uint8_t conn)
{
	const uint8_t e[2] = { ST_RF_TIMEOUT_ERROR, conn };

	T.n_rf_timeouts++;
	emu_log("no answer from the tag: CORE_INTERFACE_ERROR_NTF "
		"RF_TIMEOUT_ERROR");
	ctrl(MT_NTF, GID_CORE, CORE_INTERFACE_ERROR, e, sizeof(e));
}

/* The R-APDU in data packets of at most @segment bytes. */
static void send_data(uint8_t conn, const uint8_t *p, size_t n)
{
	size_t seg;

	do {
		seg = n > segment ? segment : n;
		send_frame((uint8_t)(MT_DATA << 5 | (n > seg ? PBF_CONT : 0) |
				     conn), 0, p, seg);
		p += seg;
		n -= seg;
	} while (n);
}

static void data_packet(uint8_t b0, const uint8_t *p, size_t n)
{
	uint8_t conn = b0 & 0x0F, r[ENGINE_MAX_RAPDU];
	int rc;

	T.n_data++;
	credit_back(conn);
	if (conn != STATIC_RF_CONN || T.rfst != RFST_POLL_ACTIVE) {
		emu_log("data on conn %u in RF state %s dropped", conn,
			rfst_name[T.rfst]);
		return;
	}
	if (T.clen + n > sizeof(T.capdu)) {
		emu_log("segmented command too long");
		T.clen = 0;
		rf_timeout(conn);
		return;
	}
	memcpy(T.capdu + T.clen, p, n);
	T.clen += n;
	if (b0 & PBF_CONT)
		return;
	if (!T.present || !T.active) {
		T.clen = 0;
		if (silent_lift)
			emu_log("no answer from the tag, and none to the host");
		else
			rf_timeout(conn);
		return;
	}
	rc = ntag424_process(T.tag, T.capdu, T.clen, r);
	T.clen = 0;
	if (rc < 0)
		rf_timeout(conn);
	else
		send_data(conn, r, (size_t)rc);
}

static void frame(const uint8_t *f, size_t n)
{
	uint8_t mt = f[0] >> 5;
	size_t plen = f[2];

	emu_dbg_hex("->", f, n);
	if (n < HDR_LEN || n < HDR_LEN + plen) {
		emu_log("short frame (%zu bytes) ignored", n);
		return;
	}
	if (mt == MT_DATA) {
		data_packet(f[0], f + HDR_LEN, plen);
		return;
	}
	if (mt != MT_CMD) {
		emu_log("message type %u from the host ignored", mt);
		return;
	}
	T.n_cmd++;
	if ((f[0] & 0x0F) == GID_CORE)
		core_cmd(f[1] & 0x3F, f + HDR_LEN, plen);
	else if ((f[0] & 0x0F) == GID_RF)
		rf_cmd(f[1] & 0x3F, f + HDR_LEN, plen);
	else
		rsp_status(f[0] & 0x0F, f[1] & 0x3F, ST_SYNTAX_ERROR);
}

static void *reader(void *arg)
{
	uint8_t f[HDR_LEN + 512];
	ssize_t n;

	(void)arg;
	for (;;) {
		n = read(nci_fd, f, sizeof(f));
		if (n < 0 && (errno == EINTR || errno == EFAULT))
			continue;
		if (n <= 0) {
			emu_log("read: %s", n ? strerror(errno) : "end of file");
			return NULL;
		}
		pthread_mutex_lock(&lock);
		frame(f, (size_t)n);
		pthread_mutex_unlock(&lock);
	}
}

/* ---- place and lift -------------------------------------------------------- */

static void place(void)
{
	if (T.present)
		return;
	T.present = true;
	emu_log("tag placed");
	discover();
}

static void lift(void)
{
	if (!T.present)
		return;
	field_off();		/* for the tag, leaving the field */
	T.present = false;
	emu_log("tag lifted");
}

/* ---- main ---------------------------------------------------------------- */

static int parse_opt(int c, const char *arg)
{
	char *end;
	unsigned long v;

	if (c == 'l') {
		silent_lift = true;
		return 0;
	}
	v = strtoul(arg, &end, 10);
	if (*end)
		return -1;
	if (c == 's') {
		segment = v;
		return !segment || segment > MAX_PAYLOAD ? -1 : 0;
	}
	if (c == 'd') {
		discovery_ms = v;
		return discovery_ms > 999 ? -1 : 0;
	}
	return -1;
}

static void parse_args(int argc, char **argv, uint8_t *uid, bool *present)
{
	static const struct option opts[] = {
		{ "segment", required_argument, NULL, 's' },
		{ "discovery-ms", required_argument, NULL, 'd' },
		{ "silent-lift", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};

	emu_parse_args(argc, argv, opts, parse_opt,
		       "[--segment N] [--discovery-ms N] [--silent-lift]", uid,
		       present);
}

/*
 * Unregistering a device that is up resets it first (nci_close_device()),
 * but virtual_ncidev drops every frame once its file is being released,
 * so the core would wait NCI_RESET_TIMEOUT (5 s) for our answer. Power
 * it down while we still answer: the rfkill soft block does that
 * (nfc_rfkill_set_block()), unless the core polls or holds a target.
 */
static void power_down(uint32_t idx)
{
	char pat[64];
	glob_t g;
	int fd;

	snprintf(pat, sizeof(pat), "/sys/class/nfc/nfc%u/rfkill*/soft", idx);
	if (glob(pat, 0, NULL, &g))
		return;
	fd = open(g.gl_pathv[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		emu_log("cannot power the device down: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	globfree(&g);
}

/* Signals, one at a time, until SIGTERM or SIGINT. */
static void serve_signals(const sigset_t *set)
{
	int sig;

	for (;;) {
		if (sigwait(set, &sig))
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			return;
		pthread_mutex_lock(&lock);
		if (sig == SIGUSR1)
			place();
		else if (sig == SIGALRM)
			discover();	/* the poll period after RF_DISCOVER */
		else
			lift();
		pthread_mutex_unlock(&lock);
	}
}

int main(int argc, char **argv)
{
	uint8_t uid[ENGINE_UID_LEN] = { 0x04, 0x4E, 0x43, 0x49, 0x00, 0x00,
					0x01 };
	bool present = false;
	pthread_t tid;
	uint32_t idx;
	sigset_t set;

	emu_set_name("ncidevemu");
	parse_args(argc, argv, uid, &present);
	/* Every thread leaves these to sigwait() in the main thread. */
	emu_signals(&set);
	sigaddset(&set, SIGALRM);	/* the poll period after RF_DISCOVER */
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	T.tag = ntag424_create(uid);
	if (!T.tag) {
		emu_log("cannot create the tag");
		return 1;
	}
	T.present = present;
	nci_fd = open(DEVICE, O_RDWR | O_CLOEXEC);
	if (nci_fd < 0) {
		emu_log("cannot open %s: %s (virtual_ncidev loaded?)", DEVICE,
			strerror(errno));
		return 1;
	}
	if (ioctl(nci_fd, IOCTL_GET_NCIDEV_IDX, &idx)) {
		emu_log("cannot read the device index: %s", strerror(errno));
		return 1;
	}
	if (pthread_create(&tid, NULL, reader, NULL)) {
		emu_log("cannot start the reader thread");
		return 1;
	}
	printf("nfc%u\nready\n", idx);
	fflush(stdout);
	serve_signals(&set);
	pthread_mutex_lock(&lock);
	fprintf(stderr, "ncidevemu: commands %lu, data packets %lu, "
		"activations %lu, RF timeouts %lu\n", T.n_cmd, T.n_data,
		T.n_activations, T.n_rf_timeouts);
	pthread_mutex_unlock(&lock);
	power_down(idx);
	/*
	 * Exit with the reader thread blocked in read(): the file is released
	 * after it, and with it the NCI device (virtual_ncidev_close()).
	 */
	_exit(0);
}
