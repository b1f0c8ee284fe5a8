/*
 * tcp_rx_path - drive one TCP connection between two stacks on a pair wire (virtual time) through a
 * bulk transfer, so that `valgrind --tool=callgrind` can count the instructions each received
 * segment costs, layer by layer (bench/rx_instructions.sh prints the table).
 *
 *   tcp_rx_path [MEGABYTES] [--latency]      (default 8)
 *
 * --latency switches per-layer timing on in both stacks (to count what it costs) and prints the
 * receiver's and the sender's tables; on the virtual clock their times are virtual, mostly zero.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

static void run(struct us_stack *a, struct us_stack *b, struct us_clock *clock, uint64_t ns)
{
	uint64_t until = us_clock_now(clock) + ns;

	for (int i = 0; i < 1000000; i++) {
		uint64_t na = us_stack_poll(a), nb = us_stack_poll(b);
		uint64_t wa = netdev_next_deadline(us_stack_netdev(a, 1));
		uint64_t wb = netdev_next_deadline(us_stack_netdev(b, 1));
		uint64_t next = na < nb ? na : nb, now = us_clock_now(clock);
		next = wa < next ? wa : next;
		next = wb < next ? wb : next;
		if (next <= now)
			continue;
		if (next > until)
			break;
		us_clock_set(clock, next);
	}
	if (us_clock_now(clock) < until)
		us_clock_set(clock, until);
}

int main(int argc, char **argv)
{
	uint64_t total = (argc > 1 ? strtoull(argv[1], NULL, 10) : 8) << 20, sent = 0, got = 0;
	bool timing = argc > 2 && strcmp(argv[2], "--latency") == 0;
	struct us_stack_config ca = { .seed = 1 }, cb = { .seed = 2 };
	struct netdev_pair_config pc = { .wire_capacity = 1u << 16 };
	static uint8_t buf[65536];
	struct us_clock clock;
	struct us_stack *a, *b;
	struct netdev *da, *db;
	struct us_tcp *l, *s = NULL, *c;
	int err;

	us_clock_init_virtual(&clock, 1000 * US_NSEC_PER_SEC);
	ca.clock = cb.clock = &clock;
	a = us_stack_create(&ca);
	b = us_stack_create(&cb);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(a), .clock = &clock, .mac = { 2, 0, 0, 0, 0, 0xa },
				       .rx_ring_size = 1024, .tx_ring_size = 1024 };
	pc.b = (struct netdev_config){ .pool = us_stack_pool(b), .clock = &clock, .mac = { 2, 0, 0, 0, 0, 0xb },
				       .rx_ring_size = 1024, .tx_ring_size = 1024 };
	if (netdev_pair_create(&pc, &da, &db) != 0)
		return 1;
	us_stack_add_netdev(a, da);
	us_stack_add_netdev(b, db);
	us_addr_add(a, 1, 0xc6120001u, 24);
	us_addr_add(b, 1, 0xc6120002u, 24);
	if (timing && (us_latency_enable(a, true) < 0 || us_latency_enable(b, true) < 0))
		return 1;
	l = us_tcp_open(a);
	us_tcp_bind(l, 0, 5000);
	us_tcp_listen(l, 1);
	c = us_tcp_open(b);
	if (us_tcp_connect(c, 0xc6120001u, 5000) != -EINPROGRESS)
		return 1;
	run(a, b, &clock, 10 * US_NSEC_PER_MSEC);
	s = us_tcp_accept(l, &err);
	if (!s)
		return 1;
	memset(buf, 0x5a, sizeof(buf));
	while (got < total) {
		int r;
		while (sent < total && (r = us_tcp_send(c, buf, sizeof(buf))) > 0)
			sent += (uint64_t)r;
		run(a, b, &clock, US_NSEC_PER_MSEC);
		while ((r = us_tcp_recv(s, buf, sizeof(buf))) > 0)
			got += (uint64_t)r;
	}
	printf("segments received: %lld (TcpExt TCPHPHits %lld)\n", (long long)us_stats_get(a, "Tcp", "InSegs"),
	       (long long)us_stats_get(a, "TcpExt", "TCPHPHits"));
	if (timing) {
		printf("receiving stack:\n");
		us_latency_dump(a, stdout);
		printf("sending stack:\n");
		us_latency_dump(b, stdout);
	}
	us_tcp_close(c);
	us_tcp_close(s);
	us_tcp_close(l);
	us_stack_destroy(a);
	us_stack_destroy(b);
	return 0;
}
