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
 * listens on a TCP port and accepts what arrives (the connections read, and close at end of stream).
 *
 * --isn-relative lets a capture be written without knowing the stack's initial sequence number: the
 * acknowledgment numbers of the TCP segments read from it count from 0 = the stack's ISN, and are
 * rewritten to absolute ones (the ISN is taken from the SYN-ACK the stack sends).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#define MAX_ECHO 8

/* ---- the ISN-relative rewriting device, wrapped around the pcap device ---- */

#define MAX_FLOWS 16

struct rewrite {
	struct netdev *lower;
	struct {
		uint8_t key[12]; /* the stack's address and port, then the peer's, as on the wire */
		uint32_t isn;
	} flows[MAX_FLOWS];
	int n;
};

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* The TCP header of an IPv4 frame, or NULL. */
static uint8_t *frame_tcp(struct sk_buff *skb, uint8_t **ip)
{
	uint8_t *p = skb->data;

	if (skb->len < 14 + 20 + 20 || be16(p + 12) != 0x0800 || p[14 + 9] != 6)
		return NULL;
	*ip = p + 14;
	if (14 + (uint32_t)((p[14] & 15) * 4) + 20 > skb->len)
		return NULL;
	return p + 14 + (p[14] & 15) * 4;
}

static void tcp_fix_csum(uint8_t *ip, uint8_t *th)
{
	uint32_t len = be16(ip + 2) - (uint32_t)((ip[0] & 15) * 4), sum = 0;

	th[16] = th[17] = 0;
	for (int i = 12; i < 20; i += 2)
		sum += be16(ip + i);
	sum += 6 + len;
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += be16(th + i);
	if (len & 1)
		sum += (uint32_t)th[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	th[16] = (uint8_t)(sum >> 8);
	th[17] = (uint8_t)sum;
}

static int rewrite_poll(struct netdev *dev, uint32_t budget)
{
	struct rewrite *rw = dev->priv;
	struct sk_buff *skb;
	int done = 0;

	netdev_poll(rw->lower, budget);
	while (netdev_rx_burst(rw->lower, &skb, 1) == 1) {
		uint8_t *ip, *th = frame_tcp(skb, &ip), key[12];
		if (th && (th[13] & 0x10)) {
			/* inbound: the stack is the destination */
			memcpy(key, ip + 16, 4), memcpy(key + 4, th + 2, 2);
			memcpy(key + 6, ip + 12, 4), memcpy(key + 10, th, 2);
			for (int i = 0; i < rw->n; i++) {
				if (memcmp(rw->flows[i].key, key, 12) == 0) {
					uint32_t ack = be32(th + 8) + rw->flows[i].isn;
					th[8] = (uint8_t)(ack >> 24), th[9] = (uint8_t)(ack >> 16);
					th[10] = (uint8_t)(ack >> 8), th[11] = (uint8_t)ack;
					tcp_fix_csum(ip, th);
					break;
				}
			}
		}
		skb->tstamp_ns = 0;
		if (netdev_rx_deliver(dev, skb) == 0)
			done++;
	}
	return done;
}

static void rewrite_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct rewrite *rw = dev->priv;

	for (uint32_t k = 0; k < n; k++) {
		uint8_t *ip, *th = frame_tcp(skbs[k], &ip);
		if (th && (th[13] & 0x12) == 0x12 && rw->n < MAX_FLOWS) {
			/* outbound SYN-ACK: remember the stack's ISN for this flow */
			uint8_t *key = rw->flows[rw->n].key;
			memcpy(key, ip + 12, 4), memcpy(key + 4, th, 2);
			memcpy(key + 6, ip + 16, 4), memcpy(key + 10, th + 2, 2);
			rw->flows[rw->n].isn = be32(th + 4);
			for (int i = 0; i < rw->n; i++)
				if (memcmp(rw->flows[i].key, key, 12) == 0)
					rw->n--; /* a retransmission: already known */
			rw->n++;
		}
		dev->stats.tx_packets++;
		netdev_xmit(rw->lower, skbs[k]);
	}
	netdev_flush(rw->lower);
}

static uint64_t rewrite_deadline(const struct netdev *dev)
{
	return netdev_next_deadline(((const struct rewrite *)dev->priv)->lower);
}

static void rewrite_close(struct netdev *dev)
{
	netdev_close(((struct rewrite *)dev->priv)->lower);
}

static const struct netdev_ops rewrite_ops = {
	.kind = "isn-rewrite",
	.poll = rewrite_poll,
	.xmit = rewrite_xmit,
	.next_deadline = rewrite_deadline,
	.close = rewrite_close,
};

/* Accept what the listeners have, read what the connections have, close them at end of stream. */
static void serve_tcp(struct us_tcp **listeners, int n, struct us_tcp **conns, int *n_conns)
{
	static uint8_t buf[65536];

	for (int i = 0; i < n; i++) {
		struct us_tcp *c;
		int err;
		while (*n_conns < 64 && (c = us_tcp_accept(listeners[i], &err)) != NULL)
			conns[(*n_conns)++] = c;
	}
	for (int i = 0; i < *n_conns; i++) {
		int r;
		if (!conns[i])
			continue;
		while ((r = us_tcp_recv(conns[i], buf, sizeof(buf))) > 0)
			;
		if (r == 0) {
			us_tcp_close(conns[i]); /* the stack sends its FIN */
			conns[i] = NULL;
		}
	}
}

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
		{ "tcp-listen", required_argument, NULL, 'T' }, { "isn-relative", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct netdev_pcap_config pc = { .timing = NETDEV_PCAP_TIMED };
	struct us_stack_config sc = { .seed = 1 };
	const char *stats_path = NULL, *addr_s = "198.18.0.2/24", *mac_s = "02:00:00:00:00:02";
	const char *neigh[16];
	long echo_ports[MAX_ECHO], tcp_ports[MAX_ECHO];
	struct us_tcp *listeners[MAX_ECHO];
	int n_tcp = 0, isn_relative = 0, n_conns = 0;
	struct us_tcp *conns[64];
	int n_neigh = 0, n_echo = 0, c, ifindex;
	double linger = 1;
	struct us_udp *echo[MAX_ECHO];
	struct us_clock clock;
	struct us_stack *st;
	struct netdev *dev, *pcapdev;
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
		case 'R': isn_relative = 1; break;
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
	pcapdev = dev;
	if (isn_relative) {
		struct netdev *rw = netdev_alloc(&rewrite_ops, &pc.base, sizeof(struct rewrite));
		((struct rewrite *)rw->priv)->lower = dev;
		memcpy(rw->mac, dev->mac, 6);
		rw->mtu = dev->mtu;
		dev = rw;
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
	while (netdev_pcap_next_time(pcapdev, &t) == 0) {
		uint64_t next = us_stack_poll(st);
		if (next > t)
			next = t;
		if (next > us_clock_now(&clock))
			us_clock_set(&clock, next);
		us_stack_poll(st);
		serve_echo(echo, n_echo);
		serve_tcp(listeners, n_tcp, conns, &n_conns);
		us_stack_poll(st);
	}
	/* let timers run on for the linger time, visiting each deadline */
	end = us_clock_now(&clock) + (uint64_t)(linger * 1e9);
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t next;
		serve_echo(echo, n_echo);
		serve_tcp(listeners, n_tcp, conns, &n_conns);
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
	for (int i = 0; i < n_conns; i++)
		us_tcp_close(conns[i]);
	for (int i = 0; i < n_tcp; i++)
		us_tcp_close(listeners[i]);
	if (us_stack_destroy(st) != 0) {
		fprintf(stderr, "pcap_replay: skbs leaked\n");
		return 1;
	}
	return 0;
}
