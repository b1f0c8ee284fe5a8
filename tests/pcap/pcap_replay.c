/*
 * pcap_replay - the replay driver of the pcap tests: a stack on a pcap device, on virtual time taken
 * from the input capture, writing what it sends to an output capture and its counters to a file.
 *
 *   pcap_replay --in IN.pcap --out OUT.pcap [--stats FILE] [--addr A/LEN] [--mac MAC]
 *               [--neigh ADDR=MAC]... [--udp-echo PORT]... [--tcp-listen PORT]... [--linger SECONDS]
 *
 * Each input frame is received when the virtual clock reaches its offset from the first frame; the
 * clock then runs on for --linger seconds (default 1) so that timers fire (ARP retries, reassembly
 * timeouts). --udp-echo PORT binds a UDP endpoint that echoes what it receives; --tcp-listen PORT
 * listens on a TCP port and accepts what arrives (the connections only read).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#define MAX_ECHO 8

/* Echo every datagram waiting on the echo endpoints back to its sender. */
static void serve_echo(struct us_udp **echo, int n)
{
	static uint8_t buf[65536];

	for (int i = 0; i < n; i++) {
		uint32_t from;
		uint16_t port;
		int len;
		while ((len = us_udp_recvfrom(echo[i], buf, sizeof(buf), &from, &port)) >= 0)
			us_udp_sendto(echo[i], buf, (size_t)len, from, port);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },	    { "out", required_argument, NULL, 'o' },
		{ "stats", required_argument, NULL, 's' },  { "addr", required_argument, NULL, 'a' },
		{ "mac", required_argument, NULL, 'm' },    { "neigh", required_argument, NULL, 'n' },
		{ "udp-echo", required_argument, NULL, 'u' }, { "linger", required_argument, NULL, 'l' },
		{ "tcp-listen", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct netdev_pcap_config pc = { .timing = NETDEV_PCAP_TIMED };
	struct us_stack_config sc = { .seed = 1 };
	const char *stats_path = NULL, *addr_s = "198.18.0.2/24", *mac_s = "02:00:00:00:00:02";
	const char *neigh[16];
	long echo_ports[MAX_ECHO], tcp_ports[MAX_ECHO];
	struct us_tcp *listeners[MAX_ECHO];
	int n_tcp = 0;
	int n_neigh = 0, n_echo = 0, c, ifindex;
	double linger = 1;
	struct us_udp *echo[MAX_ECHO];
	struct us_clock clock;
	struct us_stack *st;
	struct netdev *dev;
	uint32_t addr;
	uint8_t plen;
	uint64_t t, end;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': pc.in_path = optarg; break;
		case 'o': pc.out_path = optarg; break;
		case 's': stats_path = optarg; break;
		case 'a': addr_s = optarg; break;
		case 'm': mac_s = optarg; break;
		case 'n': if (n_neigh < 16) neigh[n_neigh++] = optarg; break;
		case 'u': if (n_echo < MAX_ECHO) echo_ports[n_echo++] = atol(optarg); break;
		case 'l': linger = atof(optarg); break;
		case 'T': if (n_tcp < MAX_ECHO) tcp_ports[n_tcp++] = atol(optarg); break;
		default: fprintf(stderr, "pcap_replay: bad option\n"); return 2;
		}
	}
	if (!pc.in_path || !pc.out_path || us_parse_ipv4(addr_s, &addr, &plen) != 0) {
		fprintf(stderr, "usage: pcap_replay --in IN --out OUT [--stats F] [--addr A/LEN] ...\n");
		return 2;
	}
	us_clock_init_virtual(&clock, 1000 * US_NSEC_PER_SEC);
	sc.clock = &clock;
	st = us_stack_create(&sc);
	pc.base.pool = us_stack_pool(st);
	pc.base.clock = &clock;
	pc.base.name = "pcap0";
	if (netdev_parse_mac(mac_s, pc.base.mac) != 0) {
		fprintf(stderr, "pcap_replay: bad --mac\n");
		return 2;
	}
	dev = netdev_pcap_open(&pc);
	if (!dev) {
		perror(pc.in_path);
		return 1;
	}
	ifindex = us_stack_add_netdev(st, dev);
	/* the address is configured before the first frame; its gratuitous ARP is the first output */
	us_addr_add(st, ifindex, addr, plen);
	for (int i = 0; i < n_neigh; i++) {
		char ip[32];
		const char *eq = strchr(neigh[i], '=');
		uint32_t na;
		uint8_t mac[6];
		if (!eq || (size_t)(eq - neigh[i]) >= sizeof(ip)) {
			fprintf(stderr, "pcap_replay: bad --neigh %s\n", neigh[i]);
			return 2;
		}
		memcpy(ip, neigh[i], (size_t)(eq - neigh[i]));
		ip[eq - neigh[i]] = '\0';
		if (us_parse_ipv4(ip, &na, NULL) != 0 || netdev_parse_mac(eq + 1, mac) != 0 ||
		    us_neigh_add(st, ifindex, na, mac) != 0) {
			fprintf(stderr, "pcap_replay: bad --neigh %s\n", neigh[i]);
			return 2;
		}
	}
	for (int i = 0; i < n_echo; i++) {
		echo[i] = us_udp_open(st);
		if (us_udp_bind(echo[i], 0, (uint16_t)echo_ports[i]) != 0) {
			fprintf(stderr, "pcap_replay: cannot bind UDP port %ld\n", echo_ports[i]);
			return 1;
		}
	}
	for (int i = 0; i < n_tcp; i++) {
		listeners[i] = us_tcp_open(st);
		if (us_tcp_bind(listeners[i], 0, (uint16_t)tcp_ports[i]) != 0 ||
		    us_tcp_listen(listeners[i], 16) != 0) {
			fprintf(stderr, "pcap_replay: cannot listen on TCP port %ld\n", tcp_ports[i]);
			return 1;
		}
	}
	us_stack_poll(st);
	/* replay: jump the clock to each frame's time (or an earlier timer), poll */
	while (netdev_pcap_next_time(dev, &t) == 0) {
		uint64_t next = us_stack_poll(st);
		if (next > t)
			next = t;
		if (next > us_clock_now(&clock))
			us_clock_set(&clock, next);
		us_stack_poll(st);
		serve_echo(echo, n_echo);
	}
	/* let timers run on for the linger time, visiting each deadline */
	end = us_clock_now(&clock) + (uint64_t)(linger * 1e9);
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t next;
		serve_echo(echo, n_echo);
		next = us_stack_poll(st);
		if (next > end)
			break;
		if (next > us_clock_now(&clock))
			us_clock_set(&clock, next);
	}
	us_clock_set(&clock, end);
	us_stack_poll(st);
	if (stats_path) {
		FILE *f = fopen(stats_path, "w");
		if (f) {
			us_stats_dump(st, f);
			fclose(f);
		}
	}
	for (int i = 0; i < n_echo; i++)
		us_udp_close(echo[i]);
	for (int i = 0; i < n_tcp; i++)
		us_tcp_close(listeners[i]);
	if (us_stack_destroy(st) != 0) {
		fprintf(stderr, "pcap_replay: skbs leaked\n");
		return 1;
	}
	return 0;
}
