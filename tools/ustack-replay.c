/*
 * ustack-replay - replays a pcap file into one ustack stack on virtual time, records what the stack
 * sends, and compares it with an expected capture (docs/ustack-replay.md is the manual).
 *
 *   ustack-replay --in IN.pcap --out OUT.pcap [--expect EXP.pcap] [options]
 *
 * The stack's clock is virtual and starts at the first input frame's time; each frame is received
 * when the clock reaches its timestamp, and the clock jumps from one event to the next (a frame, a
 * timer, an active open) until --linger seconds after the last input frame. The stack's device
 * (replay_dev.c) receives the input, keeps the relative TCP numbers, records what is sent and hands
 * it to a pcap device that writes OUT; applications on the stack's
 * sockets answer what arrives (replay_app.c); at the end the recorded frames are compared with the
 * expected ones (replay_cmp.c) and the counters with --expect-counter.
 *
 * Exit status: 0 everything matched, 1 a mismatch (frames or counters), 2 usage or file errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define EXIT_MISMATCH 1
#define EXIT_USAGE 2
/* A capture that starts this close to the epoch is moved up by this much on the stack's clock. */
#define RP_MIN_CLOCK_NS (1000 * US_NSEC_PER_SEC)

struct rp_listen_opt {
	uint16_t port;
	enum rp_action act;
	uint64_t n;
};

struct rp_connect_opt {
	uint32_t addr;
	uint16_t port;
	uint64_t at_ns; /* after the first input frame */
	uint64_t n;
	uint16_t lport; /* 0: an ephemeral port */
	bool started;
};

struct rp_counter_opt {
	char group[16];
	char name[48];
	int64_t value;
};

struct rp_opts {
	const char *in, *out, *expect, *stats;
	uint32_t addr;
	uint8_t prefix_len;
	uint8_t mac[ETH_ALEN];
	uint32_t mtu;
	uint32_t gw;
	bool has_gw;
	struct us_stack_config sc;
	double linger_s;
	bool relative, verbose;
	struct rp_cmp_config cmp;
	/* repeatable options */
	struct {
		uint32_t addr;
		uint8_t mac[ETH_ALEN];
	} neigh[64];
	int n_neigh;
	struct rp_listen_opt listen[64];
	int n_listen;
	struct rp_listen_opt udp[64];
	int n_udp;
	struct rp_connect_opt connect[64];
	int n_connect;
	struct rp_counter_opt counter[128];
	int n_counter;
	/* --expect-drop: the one drop reason the input must move (value: by how much), or none */
	struct rp_counter_opt drop;
	bool has_drop;
};

static const char usage_text[] =
	"usage: ustack-replay --in IN.pcap --out OUT.pcap [--expect EXP.pcap] [options]\n"
	"\n"
	"stack:\n"
	"  --addr A/LEN            the stack's address (198.18.0.2/24)\n"
	"  --mac MAC               the stack's MAC (02:00:00:00:00:02)\n"
	"  --mtu N                 device MTU (1500)\n"
	"  --gw ADDR               default route via ADDR\n"
	"  --neigh ADDR=MAC        permanent neighbour entry (repeatable)\n"
	"  --isn-key HEX32         RFC 6528 ISN secret, 32 hex digits\n"
	"  --seed N                the stack's random seed (1)\n"
	"  --tcp-opt LIST          options offered on SYN/SYN-ACK: mss,ws,ts,sack or none (all)\n"
	"  --tcp-recovery LIST     loss detection of what the stack sends: rack,tlp or none (none)\n"
	"  --rcvbuf N, --sndbuf N  TCP buffers, bytes\n"
	"applications:\n"
	"  --listen PORT[:ACTION]  TCP listener; echo, discard (default), send=N, close\n"
	"  --udp PORT[:ACTION]     UDP socket; echo (default), discard\n"
	"  --connect ADDR:PORT[,at=SEC][,send=N][,lport=N]   active open (repeatable)\n"
	"run and compare:\n"
	"  --linger SEC            run on SEC seconds after the last input frame (1)\n"
	"  --relative, --absolute  how TCP numbers in IN and EXP are read (--relative)\n"
	"  --stats FILE            write the counters to FILE\n"
	"  --expect-counter G.NAME=V   counter NAME of group G must be V after the run\n"
	"  --expect-drop G.NAME[=N]    the run's discards were counted by drop counter G.NAME (N\n"
	"                          times, 1 by default) and by no other; 'none': no drop counter moved\n"
	"  --ignore FIELD[,FIELD]  do not compare FIELD: eth.src eth.dst ip.id ip.ttl ip.checksum\n"
	"                          ip.flags tcp.seq tcp.ack tcp.window tcp.tsval tcp.tsecr tcp.options\n"
	"                          tcp.checksum udp.checksum icmp.checksum payload time\n"
	"  --time-tolerance MS     frame times must match within MS ms (1)\n"
	"  --verbose               print each frame in and out with its virtual time\n"
	"  --help\n"
	"exit status: 0 match, 1 mismatch, 2 usage or file error\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ustack-replay: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(ustack-replay --help for the options)\n");
	return -1;
}

/* A whole unsigned decimal number no larger than max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end && *v <= max;
}

/* Non-negative seconds or milliseconds, finite. */
static bool parse_nonneg(const char *s, double *v)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	*v = strtod(s, &end);
	return !errno && !*end && *v >= 0 && *v <= 1e9;
}

static bool parse_port(const char *s, size_t len, uint16_t *port)
{
	char buf[8];
	uint64_t v;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!parse_u64(buf, 65535, &v) || v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* PORT[:ACTION] */
static int parse_listen(const char *arg, bool udp, struct rp_listen_opt *l)
{
	const char *colon = strchr(arg, ':');
	const char *act = colon ? colon + 1 : NULL;

	if (!parse_port(arg, colon ? (size_t)(colon - arg) : strlen(arg), &l->port))
		return usage_error("bad port in '%s'", arg);
	l->act = udp ? RP_ACT_ECHO : RP_ACT_DISCARD;
	l->n = 0;
	if (!act)
		return 0;
	if (strcmp(act, "echo") == 0)
		l->act = RP_ACT_ECHO;
	else if (strcmp(act, "discard") == 0)
		l->act = RP_ACT_DISCARD;
	else if (!udp && strcmp(act, "close") == 0)
		l->act = RP_ACT_CLOSE;
	else if (!udp && strncmp(act, "send=", 5) == 0 && parse_u64(act + 5, UINT64_C(1) << 40, &l->n))
		l->act = RP_ACT_SEND;
	else
		return usage_error(udp ? "bad UDP action in '%s' (echo, discard)"
				       : "bad action in '%s' (echo, discard, send=N, close)",
				   arg);
	return 0;
}

/* ADDR:PORT[,at=SEC][,send=N][,lport=N] */
static int parse_connect(const char *arg, struct rp_connect_opt *c)
{
	char buf[128], *tok, *save = NULL, *colon;
	bool first = true;

	if (strlen(arg) >= sizeof(buf))
		return usage_error("--connect '%s' is too long", arg);
	strcpy(buf, arg);
	*c = (struct rp_connect_opt){ 0 };
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), first = false) {
		double at;
		if (first) {
			colon = strchr(tok, ':');
			if (!colon)
				return usage_error("--connect '%s': ADDR:PORT expected", arg);
			*colon = '\0';
			if (us_parse_ipv4(tok, &c->addr, NULL) != 0 || strchr(tok, '/') ||
			    !parse_port(colon + 1, strlen(colon + 1), &c->port))
				return usage_error("--connect '%s': ADDR:PORT expected", arg);
		} else if (strncmp(tok, "at=", 3) == 0 && parse_nonneg(tok + 3, &at)) {
			c->at_ns = (uint64_t)(at * 1e9 + 0.5);
		} else if (strncmp(tok, "send=", 5) == 0 && parse_u64(tok + 5, UINT64_C(1) << 40, &c->n)) {
		} else if (strncmp(tok, "lport=", 6) == 0 && parse_port(tok + 6, strlen(tok + 6), &c->lport)) {
		} else {
			return usage_error("--connect '%s': at=SEC, send=N or lport=N expected after the port", arg);
		}
	}
	if (first)
		return usage_error("--connect '%s': ADDR:PORT expected", arg);
	return 0;
}

/* G.NAME=V */
static int parse_counter(const char *arg, struct rp_counter_opt *c)
{
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
	uint64_t v;

	if (!dot || !eq || eq < dot || (size_t)(dot - arg) >= sizeof(c->group) ||
	    (size_t)(eq - dot - 1) >= sizeof(c->name) || dot == arg || eq == dot + 1 ||
	    !parse_u64(eq + 1, INT64_MAX, &v))
		return usage_error("--expect-counter '%s': GROUP.NAME=VALUE expected", arg);
	memcpy(c->group, arg, (size_t)(dot - arg));
	c->group[dot - arg] = '\0';
	memcpy(c->name, dot + 1, (size_t)(eq - dot - 1));
	c->name[eq - dot - 1] = '\0';
	c->value = (int64_t)v;
	return 0;
}

/* G.NAME[=N] naming a drop reason counter, or none */
static int parse_drop(const char *arg, struct rp_opts *o)
{
	char buf[96];
	enum us_stats_kind kind;

	if (o->has_drop)
		return usage_error("--expect-drop '%s': given twice", arg);
	o->has_drop = true;
	if (strcmp(arg, "none") == 0)
		return 0;
	if (strchr(arg, '=')) {
		if (parse_counter(arg, &o->drop) != 0)
			return -1;
	} else {
		if (snprintf(buf, sizeof(buf), "%s=1", arg) >= (int)sizeof(buf) || parse_counter(buf, &o->drop) != 0)
			return usage_error("--expect-drop '%s': GROUP.NAME[=N] or none expected", arg);
	}
	kind = us_stats_kind(o->drop.group, o->drop.name, NULL);
	if (kind != US_STATS_DROP)
		return usage_error(kind == US_STATS_DROP_DETAIL ? "--expect-drop '%s': a detail counter; name its reason"
								: "--expect-drop '%s': not a drop counter",
				   arg);
	if (o->drop.value == 0)
		return usage_error("--expect-drop '%s': N must be at least 1 (or say none)", arg);
	return 0;
}

static int parse_neigh(const char *arg, uint32_t *addr, uint8_t mac[ETH_ALEN])
{
	const char *eq = strchr(arg, '=');
	char ip[32];

	if (!eq || (size_t)(eq - arg) >= sizeof(ip))
		return usage_error("--neigh '%s': ADDR=MAC expected", arg);
	memcpy(ip, arg, (size_t)(eq - arg));
	ip[eq - arg] = '\0';
	if (us_parse_ipv4(ip, addr, NULL) != 0 || strchr(ip, '/') || netdev_parse_mac(eq + 1, mac) != 0)
		return usage_error("--neigh '%s': ADDR=MAC expected", arg);
	return 0;
}

static int parse_isn_key(const char *arg, uint8_t key[16])
{
	const char *s = arg;

	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		s += 2;
	if (strlen(s) != 32)
		return usage_error("--isn-key '%s': 32 hex digits expected", arg);
	for (int i = 0; i < 16; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char ch = s[2 * i + j];
			unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
				     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
				     : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
							      : 16;
			if (d > 15)
				return usage_error("--isn-key '%s': 32 hex digits expected", arg);
			v = v << 4 | d;
		}
		key[i] = (uint8_t)v;
	}
	return 0;
}

static int parse_tcp_opt(const char *arg, struct us_stack_config *sc)
{
	char buf[64], *tok, *save = NULL;
	bool mss = false, ws = false, ts = false, sack = false;

	if (strlen(arg) >= sizeof(buf))
		return usage_error("--tcp-opt '%s': a list of mss, ws, ts, sack, or none", arg);
	strcpy(buf, arg);
	if (strcmp(buf, "none") != 0) {
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (strcmp(tok, "mss") == 0)
				mss = true;
			else if (strcmp(tok, "ws") == 0)
				ws = true;
			else if (strcmp(tok, "ts") == 0)
				ts = true;
			else if (strcmp(tok, "sack") == 0)
				sack = true;
			else
				return usage_error("--tcp-opt '%s': a list of mss, ws, ts, sack, or none", arg);
		}
	}
	sc->tcp_no_window_scaling = !ws;
	sc->tcp_no_timestamps = !ts;
	sc->tcp_no_sack = !sack;
	if (!mss)
		fprintf(stderr, "ustack-replay: --tcp-opt %s: the stack always sends its MSS option "
				"(struct us_stack_config has no switch for it)\n", arg);
	return 0;
}

/* RFC 8985's RACK and TLP; the corpus's expectations are RFC 5681's and RFC 6298's, so none unless
 * asked (the library's default is both). */
static int parse_tcp_recovery(const char *arg, struct us_stack_config *sc)
{
	char buf[64], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return usage_error("--tcp-recovery '%s': a list of rack, tlp, or none", arg);
	strcpy(buf, arg);
	sc->tcp_recovery = US_TCP_RECOVERY_ONLY;
	if (strcmp(buf, "none") == 0)
		return 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "rack") == 0)
			sc->tcp_recovery |= US_TCP_RECOVERY_RACK;
		else if (strcmp(tok, "tlp") == 0)
			sc->tcp_recovery |= US_TCP_RECOVERY_TLP;
		else
			return usage_error("--tcp-recovery '%s': a list of rack, tlp, or none", arg);
	}
	return 0;
}

static int parse_ignore(const char *arg, struct rp_cmp_config *cmp)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return usage_error("--ignore '%s' is too long", arg);
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int f = rp_field_by_name(tok);
		if (f < 0)
			return usage_error("--ignore: no field '%s' (see --help)", tok);
		cmp->ignore[f] = true;
	}
	return 0;
}

enum {
	OPT_IN = 256, OPT_OUT, OPT_EXPECT, OPT_ADDR, OPT_MAC, OPT_MTU, OPT_GW, OPT_NEIGH, OPT_LISTEN, OPT_UDP,
	OPT_CONNECT, OPT_ISN_KEY, OPT_SEED, OPT_TCP_OPT, OPT_TCP_RECOVERY, OPT_RCVBUF, OPT_SNDBUF, OPT_LINGER,
	OPT_RELATIVE, OPT_ABSOLUTE, OPT_STATS, OPT_EXPECT_COUNTER, OPT_EXPECT_DROP, OPT_IGNORE, OPT_TIME_TOLERANCE,
	OPT_VERBOSE, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "in", required_argument, NULL, OPT_IN },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "gw", required_argument, NULL, OPT_GW },
	{ "neigh", required_argument, NULL, OPT_NEIGH },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "udp", required_argument, NULL, OPT_UDP },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "isn-key", required_argument, NULL, OPT_ISN_KEY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "tcp-opt", required_argument, NULL, OPT_TCP_OPT },
	{ "tcp-recovery", required_argument, NULL, OPT_TCP_RECOVERY },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "sndbuf", required_argument, NULL, OPT_SNDBUF },
	{ "linger", required_argument, NULL, OPT_LINGER },
	{ "relative", no_argument, NULL, OPT_RELATIVE },
	{ "absolute", no_argument, NULL, OPT_ABSOLUTE },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "expect-counter", required_argument, NULL, OPT_EXPECT_COUNTER },
	{ "expect-drop", required_argument, NULL, OPT_EXPECT_DROP },
	{ "ignore", required_argument, NULL, OPT_IGNORE },
	{ "time-tolerance", required_argument, NULL, OPT_TIME_TOLERANCE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

#define TOO_MANY(n, arr, what) ((n) >= (int)(sizeof(arr) / sizeof((arr)[0])) ? usage_error("too many %s", what) : 0)

/* One option; 0, -1 on a usage error, 1 for --help. */
static int parse_one(struct rp_opts *o, int c, const char *arg)
{
	uint64_t v;
	double d;

	switch (c) {
	case OPT_IN: o->in = arg; return 0;
	case OPT_OUT: o->out = arg; return 0;
	case OPT_EXPECT: o->expect = arg; return 0;
	case OPT_STATS: o->stats = arg; return 0;
	case OPT_ADDR:
		if (!strchr(arg, '/') || us_parse_ipv4(arg, &o->addr, &o->prefix_len) != 0)
			return usage_error("--addr '%s': ADDR/LEN expected", arg);
		return 0;
	case OPT_MAC:
		return netdev_parse_mac(arg, o->mac) == 0 ? 0 : usage_error("--mac '%s': aa:bb:cc:dd:ee:ff expected", arg);
	case OPT_MTU:
		if (!parse_u64(arg, 65535, &v) || v < 68)
			return usage_error("--mtu '%s': 68 to 65535", arg);
		o->mtu = (uint32_t)v;
		return 0;
	case OPT_GW:
		if (strchr(arg, '/') || us_parse_ipv4(arg, &o->gw, NULL) != 0)
			return usage_error("--gw '%s': an address expected", arg);
		o->has_gw = true;
		return 0;
	case OPT_NEIGH:
		if (TOO_MANY(o->n_neigh, o->neigh, "--neigh"))
			return -1;
		if (parse_neigh(arg, &o->neigh[o->n_neigh].addr, o->neigh[o->n_neigh].mac))
			return -1;
		o->n_neigh++;
		return 0;
	case OPT_LISTEN:
		if (TOO_MANY(o->n_listen, o->listen, "--listen") || parse_listen(arg, false, &o->listen[o->n_listen]))
			return -1;
		o->n_listen++;
		return 0;
	case OPT_UDP:
		if (TOO_MANY(o->n_udp, o->udp, "--udp") || parse_listen(arg, true, &o->udp[o->n_udp]))
			return -1;
		o->n_udp++;
		return 0;
	case OPT_CONNECT:
		if (TOO_MANY(o->n_connect, o->connect, "--connect") || parse_connect(arg, &o->connect[o->n_connect]))
			return -1;
		o->n_connect++;
		return 0;
	case OPT_EXPECT_COUNTER:
		if (TOO_MANY(o->n_counter, o->counter, "--expect-counter") ||
		    parse_counter(arg, &o->counter[o->n_counter]))
			return -1;
		o->n_counter++;
		return 0;
	case OPT_EXPECT_DROP: return parse_drop(arg, o);
	case OPT_ISN_KEY: return parse_isn_key(arg, o->sc.tcp_isn_key);
	case OPT_SEED:
		if (!parse_u64(arg, UINT64_MAX, &o->sc.seed))
			return usage_error("--seed '%s': a number expected", arg);
		return 0;
	case OPT_TCP_OPT: return parse_tcp_opt(arg, &o->sc);
	case OPT_TCP_RECOVERY: return parse_tcp_recovery(arg, &o->sc);
	case OPT_RCVBUF:
	case OPT_SNDBUF:
		if (!parse_u64(arg, UINT32_MAX, &v) || v == 0)
			return usage_error("buffer size '%s': a positive number of bytes expected", arg);
		if (c == OPT_RCVBUF)
			o->sc.tcp_rmem = (uint32_t)v;
		else
			o->sc.tcp_wmem = (uint32_t)v;
		return 0;
	case OPT_LINGER:
		if (!parse_nonneg(arg, &o->linger_s) || o->linger_s > 1e6)
			return usage_error("--linger '%s': seconds expected", arg);
		return 0;
	case OPT_RELATIVE: o->relative = true; return 0;
	case OPT_ABSOLUTE: o->relative = false; return 0;
	case OPT_IGNORE: return parse_ignore(arg, &o->cmp);
	case OPT_TIME_TOLERANCE:
		if (!parse_nonneg(arg, &d))
			return usage_error("--time-tolerance '%s': milliseconds expected", arg);
		o->cmp.tolerance_ms = d;
		return 0;
	case OPT_VERBOSE: o->verbose = true; return 0;
	case OPT_HELP: return 1;
	default: return usage_error("%s", "unknown option");
	}
}

static int parse_args(struct rp_opts *o, int argc, char **argv)
{
	int c, r;

	*o = (struct rp_opts){ .mtu = 1500, .linger_s = 1, .relative = true, .prefix_len = 24 };
	o->sc.seed = 1;
	o->sc.tcp_recovery = US_TCP_RECOVERY_ONLY; /* --tcp-recovery none */
	o->cmp.tolerance_ms = 1;
	o->cmp.max_lines = 200;
	us_parse_ipv4("198.18.0.2", &o->addr, NULL);
	netdev_parse_mac("02:00:00:00:00:02", o->mac);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			return usage_error("unknown option or missing argument: %s",
					   optind > 0 && optind <= argc ? argv[optind - 1] : "?");
		}
		r = parse_one(o, c, optarg);
		if (r)
			return r;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->in || !o->out)
		return usage_error("%s", "--in and --out are required");
	o->cmp.stack_addr = o->addr;
	return 0;
}

/* ---- the run ---- */

struct rp_run {
	struct rp_opts *o;
	struct us_clock clock;
	struct us_stack *st;
	struct netdev *dev; /* the replay device (the stack owns it) */
	struct rp_app *app;
	const struct rp_frames *in; /* the input, times from its first frame */
	struct rp_frames got; /* what the stack sent */
	uint64_t clock0;      /* stack-clock time of the first input frame */
	uint64_t end;	      /* when the run stops */
};

/* Poll the stack and let the applications act until nothing moves at this instant. Returns the
 * stack's next deadline. */
static uint64_t settle(struct rp_run *r)
{
	uint64_t next = us_stack_poll(r->st);

	for (int i = 0; i < 10000 && rp_app_service(r->app); i++)
		next = us_stack_poll(r->st);
	return next;
}

static int start_connects(struct rp_run *r, uint64_t *next)
{
	uint64_t now = us_clock_now(&r->clock);

	for (int i = 0; i < r->o->n_connect; i++) {
		struct rp_connect_opt *c = &r->o->connect[i];
		uint64_t at = r->clock0 + c->at_ns;
		int e;

		if (c->started)
			continue;
		if (at > now) {
			if (at < *next)
				*next = at;
			continue;
		}
		c->started = true;
		e = rp_app_connect(r->app, c->addr, c->port, c->lport, c->n);
		if (e) {
			char a[16];
			fprintf(stderr, "ustack-replay: --connect %s:%u: %s\n", rp_ipv4_str(c->addr, a), c->port,
				strerror(-e));
			return -1;
		}
	}
	return 0;
}

/* Jump the clock from event to event until the end. */
static int run_loop(struct rp_run *r)
{
	unsigned spins = 0;

	for (;;) {
		uint64_t now = us_clock_now(&r->clock), next = US_TIME_NEVER, dl;

		if (start_connects(r, &next) != 0)
			return -1;
		dl = settle(r);
		if (now >= r->end)
			return 0;
		if (dl < next)
			next = dl;
		if (next > r->end)
			next = r->end;
		if (next <= now) {
			/* more is due now than one round took (frames beyond the receive budget) */
			if (++spins < 100000)
				continue;
			next = now + 1;
		}
		spins = 0;
		us_clock_set(&r->clock, next);
	}
}

/* The stack on the replay device on the pcap device, its address, routes, neighbours and sockets. */
static int setup(struct rp_run *r)
{
	struct rp_opts *o = r->o;
	/* the pcap device only writes OUT: the replay device receives the input itself */
	struct netdev_pcap_config pc = { .out_path = o->out };
	struct rp_dev_config dc = { .in = r->in, .t0_ns = r->clock0, .relative = o->relative,
				    .verbose = o->verbose, .out = &r->got };
	int ifindex, e;

	us_clock_init_virtual(&r->clock, r->clock0);
	o->sc.clock = &r->clock;
	r->st = us_stack_create(&o->sc);
	r->app = r->st ? rp_app_new(r->st) : NULL;
	if (!r->app) {
		perror("ustack-replay: creating the stack");
		return -1;
	}
	pc.base.pool = us_stack_pool(r->st);
	pc.base.clock = &r->clock;
	pc.base.name = "pcap0";
	pc.base.mtu = o->mtu;
	memcpy(pc.base.mac, o->mac, ETH_ALEN);
	dc.lower = netdev_pcap_open(&pc);
	if (!dc.lower) {
		fprintf(stderr, "ustack-replay: %s: %s\n", o->out, strerror(errno));
		return -1;
	}
	r->dev = rp_dev_open(&dc, &pc.base);
	if (!r->dev) {
		perror("ustack-replay: the replay device");
		netdev_close(dc.lower);
		return -1;
	}
	ifindex = us_stack_add_netdev(r->st, r->dev);
	if (ifindex < 0) {
		fprintf(stderr, "ustack-replay: adding the device: %s\n", strerror(-ifindex));
		netdev_close(r->dev);
		r->dev = NULL;
		return -1;
	}
	/* the address is configured as the first frame arrives: its announcement is sent at t=0 */
	e = us_addr_add(r->st, ifindex, o->addr, o->prefix_len);
	if (e) {
		fprintf(stderr, "ustack-replay: --addr: %s\n", strerror(-e));
		return -1;
	}
	if (o->has_gw && (e = us_route_add(r->st, 0, 0, o->gw, ifindex)) != 0) {
		fprintf(stderr, "ustack-replay: --gw: %s\n", strerror(-e));
		return -1;
	}
	for (int i = 0; i < o->n_neigh; i++) {
		if ((e = us_neigh_add(r->st, ifindex, o->neigh[i].addr, o->neigh[i].mac)) != 0) {
			fprintf(stderr, "ustack-replay: --neigh: %s\n", strerror(-e));
			return -1;
		}
	}
	for (int i = 0; i < o->n_listen; i++) {
		if ((e = rp_app_listen(r->app, o->listen[i].port, o->listen[i].act, o->listen[i].n)) != 0) {
			fprintf(stderr, "ustack-replay: --listen %u: %s\n", o->listen[i].port, strerror(-e));
			return -1;
		}
	}
	for (int i = 0; i < o->n_udp; i++) {
		if ((e = rp_app_udp(r->app, o->udp[i].port, o->udp[i].act)) != 0) {
			fprintf(stderr, "ustack-replay: --udp %u: %s\n", o->udp[i].port, strerror(-e));
			return -1;
		}
	}
	return 0;
}

struct drop_check {
	const struct rp_opts *o;
	unsigned *mismatches;
};

/* --expect-drop: the named reason moved by N, its detail counters by at most N, nothing else. */
static void check_drop(void *arg, const char *group, const char *name, uint64_t v)
{
	struct drop_check *c = arg;
	const struct rp_counter_opt *d = &c->o->drop;
	const char *reason;
	enum us_stats_kind kind = us_stats_kind(group, name, &reason);
	bool named = d->group[0] && strcmp(group, d->group) == 0;

	if (kind == US_STATS_OTHER)
		return;
	if (named && strcmp(name, d->name) == 0) {
		if (v != (uint64_t)d->value) {
			fprintf(stderr, "drop counter %s.%s: expected %" PRId64 ", got %" PRIu64 "\n", group, name,
				d->value, v);
			(*c->mismatches)++;
		}
		return;
	}
	if (kind == US_STATS_DROP_DETAIL && named && strcmp(reason, d->name) == 0) {
		if (v > (uint64_t)d->value) {
			fprintf(stderr, "drop counter %s.%s (detail of %s): %" PRIu64 ", more than %" PRId64 "\n",
				group, name, reason, v, d->value);
			(*c->mismatches)++;
		}
		return;
	}
	if (v) {
		fprintf(stderr, "drop counter %s.%s: %" PRIu64 ", expected only %s%s%s to count drops\n", group,
			name, v, d->group[0] ? d->group : "none", d->group[0] ? "." : "", d->name);
		(*c->mismatches)++;
	}
}

/* The counters after the run: written to --stats, checked against --expect-counter and
 * --expect-drop. */
static int check_counters(struct rp_run *r, unsigned *mismatches)
{
	struct rp_opts *o = r->o;

	if (o->stats) {
		FILE *f = fopen(o->stats, "w");
		if (!f) {
			fprintf(stderr, "ustack-replay: %s: %s\n", o->stats, strerror(errno));
			return -1;
		}
		us_stats_dump_raw(r->st, f);
		if (fclose(f) != 0) {
			fprintf(stderr, "ustack-replay: %s: %s\n", o->stats, strerror(errno));
			return -1;
		}
	}
	for (int i = 0; i < o->n_counter; i++) {
		const struct rp_counter_opt *c = &o->counter[i];
		int64_t v = us_stats_get(r->st, c->group, c->name);

		if (v < 0) {
			fprintf(stderr, "ustack-replay: --expect-counter: no counter %s.%s\n", c->group, c->name);
			return -1;
		}
		if (v != c->value) {
			fprintf(stderr, "counter %s.%s: expected %" PRId64 ", got %" PRId64 "\n", c->group, c->name,
				c->value, v);
			(*mismatches)++;
		}
	}
	if (o->has_drop)
		us_stats_foreach(r->st, check_drop, &(struct drop_check){ .o = o, .mismatches = mismatches });
	return 0;
}

/*
 * t=0 of the run, in the captures' clock: the first input frame's time, or the first expected
 * frame's when that is earlier (a case where the stack speaks first, --connect: its SYN precedes the
 * peer's first frame). *last is the last input frame's time.
 */
static void capture_times(const struct rp_frames *in, const struct rp_frames *exp, int64_t *t0, int64_t *last)
{
	*t0 = in->n ? in->v[0].t_ns : exp->n ? exp->v[0].t_ns : 0;
	if (in->n && exp->n && exp->v[0].t_ns < *t0)
		*t0 = exp->v[0].t_ns;
	*last = *t0;
	for (size_t i = 0; i < in->n; i++)
		if (in->v[i].t_ns > *last)
			*last = in->v[i].t_ns;
}

int main(int argc, char **argv)
{
	struct rp_opts *o = calloc(1, sizeof(*o));
	struct rp_frames in = { 0 }, exp = { 0 };
	struct rp_run r = { 0 };
	unsigned mismatches = 0;
	int64_t t0, last;
	uint64_t end_ns;
	int status = EXIT_USAGE, p;

	if (!o) {
		perror("ustack-replay");
		return EXIT_USAGE;
	}
	p = parse_args(o, argc, argv);
	if (p) {
		if (p > 0)
			fputs(usage_text, stdout);
		free(o);
		return p > 0 ? 0 : EXIT_USAGE;
	}
	r.o = o;
	if (rp_read_pcap(o->in, 0, &in) != 0 || (o->expect && rp_read_pcap(o->expect, 0, &exp) != 0))
		goto out;
	capture_times(&in, &exp, &t0, &last);
	if (t0 < 0) {
		fprintf(stderr, "ustack-replay: %s: a timestamp before 1970\n", o->in);
		goto out;
	}
	for (size_t i = 0; i < in.n; i++)
		in.v[i].t_ns -= t0;
	for (size_t i = 0; i < exp.n; i++)
		exp.v[i].t_ns -= t0;
	r.in = &in;
	/* the stack's clock reads the captures' time, unless that is too close to zero */
	r.clock0 = (uint64_t)t0 < RP_MIN_CLOCK_NS ? (uint64_t)t0 + RP_MIN_CLOCK_NS : (uint64_t)t0;
	end_ns = (uint64_t)(last - t0);
	for (int i = 0; i < o->n_connect; i++)
		if (o->connect[i].at_ns > end_ns)
			end_ns = o->connect[i].at_ns;
	r.end = r.clock0 + end_ns + (uint64_t)(o->linger_s * 1e9 + 0.5);
	if (setup(&r) != 0 || run_loop(&r) != 0)
		goto out;
	if (o->expect)
		mismatches += rp_compare(&o->cmp, &r.got, &exp);
	if (check_counters(&r, &mismatches) != 0)
		goto out;
	status = mismatches ? EXIT_MISMATCH : 0;
	if (mismatches)
		fprintf(stderr, "ustack-replay: %u difference%s\n", mismatches, mismatches == 1 ? "" : "s");
out:
	if (r.dev)
		rp_dev_mute(r.dev);
	rp_app_free(r.app);
	if (us_stack_destroy(r.st) != 0) {
		fprintf(stderr, "ustack-replay: the stack leaked buffers\n");
		status = EXIT_MISMATCH;
	}
	rp_frames_free(&r.got);
	rp_frames_free(&in);
	rp_frames_free(&exp);
	free(o);
	return status;
}
