/*
 * idle_conns - what N idle TCP connections cost the stack that accepted them: two stacks in one
 * process on a pair wire, on virtual time; the server (198.18.0.1) listens on P ports, the client
 * (198.18.0.2) opens N connections to them from its own ports 1024.. (bound with SO_REUSEADDR, one
 * 4-tuple each), in batches, and the server accepts every one. Then the connections sit idle.
 *
 *   idle_conns [N] [--api socket|tcp] [--ehash BUCKETS] [--rounds R]     (default 1000000, socket)
 *
 * --api socket: non-blocking us_socket/us_bind/us_connect/us_accept on driven stacks (what users
 * get: a descriptor and a struct us_file beside each connection); --api tcp: the us_tcp_* calls of
 * proto.h, the connection alone. --ehash: both stacks' established-hash buckets (the stack's
 * default, 65536, when not given).
 *
 * Memory is counted exactly: linked with alloc_count.c, every heap block is tagged with the side
 * (server, client, setup) that allocated it, so the server's bytes are its own even with the client
 * in the same process. Printed: bytes per connection asked for and as glibc's malloc spends them,
 * part by part (the control block, the socket layer's file and descriptor slot, the hash tables);
 * the process's RSS (both stacks and the tags); timers armed and buffers held once idle; and what
 * an idle round of us_stack_poll + us_stack_timeout_ms costs on the server (wall clock: for
 * information; bench/idle_conns.sh counts its instructions with callgrind at two sizes).
 *
 * White-box on purpose: it reads the stack's internal headers for the structures' sizes and the
 * timer queue.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ustack/proto.h>
#include <ustack/socket.h>
#include <ustack/ustack.h>

#include "alloc_count.h"
#include "core.h"
#include "sock.h"
#include "tcp.h"

#define A_IP 0xc6120001u /* server 198.18.0.1 */
#define B_IP 0xc6120002u /* client 198.18.0.2 */
#define SERVER 1
#define CLIENT 2
#define PORT0 5000
#define CPORT0 1024
#define CPORTS 64000 /* client ports 1024 .. 65023 */
#define BATCH 8192

static struct us_clock clk;
static struct us_stack *sv, *cl;
static bool sock_api = true;

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The client's calls run on a thread of their own, in lockstep with the main thread (one runs at a
 * time), so that glibc's malloc serves them from another arena: with the client destroyed and
 * malloc_trim, the RSS left is the server's, not the server's interleaved with the client's holes. */
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cv = PTHREAD_COND_INITIALIZER;
static void (*job_fn)(void *);
static void *job_arg;
static bool job_done;

static void job_quit(void *unused)
{
	(void)unused;
}

static void *client_thread(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&job_lock);
	for (;;) {
		while (!job_fn)
			pthread_cond_wait(&job_cv, &job_lock);
		if (job_fn == job_quit) {
			job_fn = NULL;
			break;
		}
		alloc_side = CLIENT;
		job_fn(job_arg);
		alloc_side = 0;
		job_fn = NULL;
		job_done = true;
		pthread_cond_broadcast(&job_cv);
	}
	pthread_mutex_unlock(&job_lock);
	return NULL;
}

static void on_client(void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&job_lock);
	job_fn = fn;
	job_arg = arg;
	job_done = false;
	pthread_cond_broadcast(&job_cv);
	while (!job_done && fn != job_quit)
		pthread_cond_wait(&job_cv, &job_lock);
	pthread_mutex_unlock(&job_lock);
}

static void client_poll(void *next)
{
	*(uint64_t *)next = us_stack_poll(cl);
}

static uint64_t poll_side(struct us_stack *st)
{
	uint64_t next;

	if (st == cl) {
		on_client(client_poll, &next);
		return next;
	}
	alloc_side = SERVER;
	next = us_stack_poll(st);
	alloc_side = 0;
	return next;
}

/* Poll both, jumping the clock from deadline to deadline, for ns of virtual time (scenario.c). */
static void run(uint64_t ns)
{
	uint64_t until = us_clock_now(&clk) + ns;

	for (long i = 0; i < 100000000; i++) {
		uint64_t na = poll_side(sv), nb = poll_side(cl);
		uint64_t wa = netdev_next_deadline(us_stack_netdev(sv, 1));
		uint64_t wb = netdev_next_deadline(us_stack_netdev(cl, 1));
		uint64_t next = na < nb ? na : nb, now = us_clock_now(&clk);

		next = wa < next ? wa : next;
		next = wb < next ? wb : next;
		if (next <= now)
			continue;
		if (next > until)
			break;
		us_clock_set(&clk, next);
	}
	if (us_clock_now(&clk) < until)
		us_clock_set(&clk, until);
	poll_side(sv);
	poll_side(cl);
}

static long rss_kb(const char *field)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			kb = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return kb;
}

static void die(const char *what, long i)
{
	fprintf(stderr, "idle_conns: %s (connection %ld): %s\n", what, i, strerror(errno));
	exit(1);
}

/* A listener on port: a descriptor, or an us_tcp handle. */
struct endpoint {
	int fd;
	struct us_tcp *t;
};

static struct endpoint listen_on(uint16_t port)
{
	struct endpoint e = { -1, NULL };

	alloc_side = SERVER;
	if (sock_api) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
		e.fd = us_socket_on(sv, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (e.fd < 0 || us_bind(e.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || us_listen(e.fd, 4096) < 0)
			die("listen", port);
	} else {
		e.t = us_tcp_open(sv);
		if (!e.t || us_tcp_bind(e.t, 0, port) < 0 || us_tcp_listen(e.t, 4096) < 0)
			die("listen", port);
	}
	alloc_side = 0;
	return e;
}

static struct endpoint connect_from(uint16_t lport, uint16_t rport, long i)
{
	struct endpoint e = { -1, NULL };
	int r;

	if (sock_api) {
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(lport),
					  .sin_addr.s_addr = htonl(B_IP) };
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(rport),
					  .sin_addr.s_addr = htonl(A_IP) };
		int one = 1;
		e.fd = us_socket_on(cl, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (e.fd < 0 || us_setsockopt(e.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    us_bind(e.fd, (struct sockaddr *)&me, sizeof(me)) < 0)
			die("client socket", i);
		if (us_connect(e.fd, (struct sockaddr *)&to, sizeof(to)) == 0 || errno != EINPROGRESS)
			die("connect", i);
	} else {
		e.t = us_tcp_open(cl);
		if (!e.t)
			die("us_tcp_open", i);
		((struct tcp_sock *)(void *)e.t)->reuseaddr = true; /* proto.h has no SO_REUSEADDR */
		if (us_tcp_bind(e.t, B_IP, lport) < 0)
			die("us_tcp_bind", i);
		if ((r = us_tcp_connect(e.t, A_IP, rport)) != -EINPROGRESS) {
			errno = -r;
			die("us_tcp_connect", i);
		}
	}
	return e;
}

/* On the client thread: connections [from, to) of cli[], to the server's ports in turn. */
struct batch {
	struct endpoint *cli;
	long from, to;
	int ports;
};

static void client_connect(void *arg)
{
	struct batch *b = arg;

	for (long i = b->from; i < b->to; i++)
		b->cli[i] = connect_from((uint16_t)(CPORT0 + i / b->ports), (uint16_t)(PORT0 + i % b->ports), i);
}

static void client_create(void *cfg)
{
	cl = us_stack_create(cfg);
}

static void client_destroy(void *leaked)
{
	*(uint64_t *)leaked = us_stack_destroy(cl);
}

/* Accept what is waiting on l into out[]; returns how many. */
static long accept_all(struct endpoint l, struct endpoint *out, long room)
{
	long n = 0;

	alloc_side = SERVER;
	while (n < room) {
		if (sock_api) {
			int fd = us_accept4(l.fd, NULL, NULL, SOCK_NONBLOCK);
			if (fd < 0) {
				if (errno != EAGAIN)
					die("accept", n);
				break;
			}
			out[n++] = (struct endpoint){ fd, NULL };
		} else {
			int err;
			struct us_tcp *t = us_tcp_accept(l.t, &err);
			if (!t)
				break;
			out[n++] = (struct endpoint){ -1, t };
		}
	}
	alloc_side = 0;
	return n;
}

/* R idle rounds on the server as a driven application makes them; its own function so that
 * callgrind can count it alone (--toggle-collect=idle_rounds). */
__attribute__((noinline)) static uint64_t idle_rounds(struct us_stack *st, long r)
{
	uint64_t acc = 0;

	for (long i = 0; i < r; i++) {
		acc += us_stack_poll(st);
		acc += (uint64_t)us_stack_timeout_ms(st);
	}
	return acc;
}

static void row(const char *what, double req, double chunk)
{
	printf("  %-34s %10.1f %10.1f\n", what, req, chunk);
}

static double chunk_of(size_t n)
{
	size_t c = (n + 8 + 15) & ~(size_t)15;

	return (double)(c < 32 ? 32 : c);
}

int main(int argc, char **argv)
{
	long n = 1000000, rounds = 100000, accepted = 0, opened = 0;
	uint32_t ehash = 0;
	struct us_stack_config cs = { .seed = 1 }, cc = { .seed = 2 };
	struct netdev_pair_config pc = { .wire_capacity = 1u << 17 };
	struct netdev *da, *db;
	struct endpoint *lst, *srv, *cli;
	struct alloc_count base, half = { 0 };
	int ports;
	double t0, t_open, t_idle;
	uint64_t acc, leaked;
	pthread_t client;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--api") == 0 && i + 1 < argc)
			sock_api = strcmp(argv[++i], "tcp") != 0;
		else if (strcmp(argv[i], "--ehash") == 0 && i + 1 < argc)
			ehash = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = strtol(argv[++i], NULL, 10);
		else
			n = strtol(argv[i], NULL, 10);
	}
	ports = (int)((n + CPORTS - 1) / CPORTS);
	ports = ports < 16 ? 16 : ports;
	if (n < 1 || ports > 1000) {
		fprintf(stderr, "usage: idle_conns [N (1..64,000,000)] [--api socket|tcp] [--ehash BUCKETS] "
				"[--rounds R]\n");
		return 2;
	}
	lst = calloc((size_t)ports, sizeof(*lst));
	srv = calloc((size_t)n, sizeof(*srv));
	cli = calloc((size_t)n, sizeof(*cli));
	if (!lst || !srv || !cli)
		return 1;

	us_clock_init_virtual(&clk, 1000 * US_NSEC_PER_SEC);
	cs.clock = cc.clock = &clk;
	cs.tcp_ehash_size = cc.tcp_ehash_size = ehash;
	cs.tcp_max_syn_backlog = 2 * BATCH; /* a batch's SYNs are answered without cookies */
	alloc_side = SERVER;
	sv = us_stack_create(&cs);
	if (pthread_create(&client, NULL, client_thread, NULL) != 0)
		return 1;
	on_client(client_create, &cc);
	if (!sv || !cl)
		return 1;
	pc.a = (struct netdev_config){ .pool = us_stack_pool(sv), .clock = &clk, .name = "sv0",
				       .mac = { 2, 0, 0, 0, 0, 0xa }, .rx_ring_size = 1024, .tx_ring_size = 1024 };
	pc.b = (struct netdev_config){ .pool = us_stack_pool(cl), .clock = &clk, .name = "cl0",
				       .mac = { 2, 0, 0, 0, 0, 0xb }, .rx_ring_size = 1024, .tx_ring_size = 1024 };
	if (netdev_pair_create(&pc, &da, &db) != 0 || us_stack_add_netdev(sv, da) != 1 ||
	    us_stack_add_netdev(cl, db) != 1 || us_addr_add(sv, 1, A_IP, 24) != 0 ||
	    us_addr_add(cl, 1, B_IP, 24) != 0)
		return 1;
	for (int p = 0; p < ports; p++)
		lst[p] = listen_on((uint16_t)(PORT0 + p));
	run(10 * US_NSEC_PER_MSEC);
	base = alloc_counts[SERVER];

	t0 = wall();
	while (accepted < n) {
		long until = opened + BATCH < n ? opened + BATCH : n, before = accepted;
		struct batch b = { cli, opened, until, ports };

		on_client(client_connect, &b);
		opened = until;
		for (int guard = 0; guard < 1000 && accepted < opened; guard++) {
			run(US_NSEC_PER_MSEC);
			for (int p = 0; p < ports; p++)
				accepted += accept_all(lst[p], srv + accepted, n - accepted);
		}
		if (!half.mallocs && accepted >= n / 2) {
			run(US_NSEC_PER_MSEC);
			half = alloc_counts[SERVER];
			half.blocks = accepted; /* the count it was taken at */
		}
		if (accepted == before) {
			fprintf(stderr, "idle_conns: no progress at %ld accepted of %ld opened\n", accepted, opened);
			return 1;
		}
	}
	t_open = wall() - t0;
	/* idle: the neighbour entries age out (30 s REACHABLE, 60 s STALE); the connections stay */
	run(100 * US_NSEC_PER_SEC);

	{
		struct alloc_count now = alloc_counts[SERVER];
		struct skb_pool_stats ps;
		double per = (double)now.bytes / (double)n;
		double per_chunk = (double)now.chunk_bytes / (double)n;
		double blocks = (double)(now.blocks - base.blocks) / (double)n;
		/* the three tables are allocated whole when the stack is made: ehash, lhash, bhash */
		double eh = (double)(sv->tcp->ehash_mask + 1 + sv->tcp->lhash_mask + 1 + 65536) * sizeof(void *) /
			    (double)n;
		size_t f = sock_api ? sizeof(struct us_file) : 0;
		double fdslot = sock_api ? sizeof(void *) : 0;
		double parts = sizeof(struct tcp_sock) + (double)f + fdslot + eh;
		double parts_chunk = chunk_of(sizeof(struct tcp_sock)) + (sock_api ? chunk_of(f) : 0) + fdslot + eh;
		uint32_t timers = timer_count(&sv->timers), ctimers = timer_count(&cl->timers);
		uint64_t cskbs = skb_pool_in_use(us_stack_pool(cl));

		skb_pool_get_stats(us_stack_pool(sv), &ps);
		printf("idle_conns: %ld connections accepted through the %s API, %d listening ports, "
		       "%u established-hash buckets\n",
		       n, sock_api ? "socket" : "us_tcp_*", ports, sv->tcp->ehash_mask + 1);
		printf("server stack, bytes per connection:     asked for  malloc'd\n");
		row("struct tcp_sock", sizeof(struct tcp_sock), chunk_of(sizeof(struct tcp_sock)));
		if (sock_api) {
			row("struct us_file (socket layer)", (double)f, chunk_of(f));
			row("descriptor slot (process-wide)", fdslot, fdslot);
		}
		row("hash tables (made whole, shared)", eh, eh);
		row("skbs held", (double)ps.in_use, (double)ps.in_use);
		row("other (total - parts)", per - parts, per_chunk - parts_chunk);
		row("total: the server's heap / N", per, per_chunk);
		if (half.mallocs && half.blocks < n) /* not when one batch opened them all */
			row("marginal (the second half's)", (double)(now.bytes - half.bytes) / (double)(n - half.blocks),
			    (double)(now.chunk_bytes - half.chunk_bytes) / (double)(n - half.blocks));
		printf("  heap blocks per connection: %.2f\n", blocks);
		printf("server heap for %ld connections: %.1f MiB asked for, %.1f MiB malloc'd (%.1f MiB of it "
		       "before the first)\n",
		       n, (double)now.bytes / 1048576.0, (double)now.chunk_bytes / 1048576.0,
		       (double)base.chunk_bytes / 1048576.0);
		printf("client heap: %.1f MiB malloc'd\n", (double)alloc_counts[CLIENT].chunk_bytes / 1048576.0);
		printf("process RSS: %ld MiB now, %ld MiB peak (both stacks, and 16 bytes of tag per block)\n",
		       rss_kb("VmRSS:") / 1024, rss_kb("VmHWM:") / 1024);
		/* the client goes, its heap back to the system: what is left is the server's (tags included) */
		on_client(client_destroy, &leaked);
		on_client(job_quit, NULL);
		pthread_join(client, NULL);
		if (leaked != 0)
			return 1;
		cl = NULL;
		free(cli);
		cli = NULL;
		malloc_trim(0);
		printf("process RSS with the client stack destroyed: %ld MiB (the server, its tags %.1f MiB, "
		       "the bench's arrays %.1f MiB)\n",
		       rss_kb("VmRSS:") / 1024, (double)(alloc_counts[SERVER].blocks * 16) / 1048576.0,
		       (double)((size_t)n * sizeof(*srv)) / 1048576.0);
		printf("timers armed once idle: server %u, client %u; skbs in use: server %llu, client %llu\n",
		       timers, ctimers, (unsigned long long)ps.in_use, (unsigned long long)cskbs);
		t0 = wall();
		acc = idle_rounds(sv, rounds);
		t_idle = wall() - t0;
		printf("us_stack_poll returns %s; us_stack_timeout_ms %d\n",
		       us_stack_poll(sv) == US_TIME_NEVER ? "never" : "a deadline", us_stack_timeout_ms(sv));
		printf("opening them: %.2f s (wall clock, both stacks, informational)\n", t_open);
		printf("idle round (us_stack_poll + us_stack_timeout_ms): %.0f ns over %ld rounds (wall clock) "
		       "[%llu]\n",
		       t_idle * 1e9 / (double)rounds, rounds, (unsigned long long)(acc & 1));
	}

	/* destroying a stack closes its descriptors and frees its connections */
	if (us_stack_destroy(sv) != 0)
		return 1;
	free(lst);
	free(srv);
	return 0;
}
