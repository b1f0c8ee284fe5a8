/*
 * tapdump - bring up ustack's TAP device and show, one line each, the frames the kernel sends it;
 * print the device and buffer-pool counters on exit. The first thing to run: it shows the wire the
 * protocol layers will stand on.
 *
 *   tapdump [--tap NAME] [--mac MAC] [--pcap FILE] [--seconds N] [--count N]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *to)
{
	fprintf(to,
		"usage: tapdump [options]\n"
		"  --tap NAME      TAP device to create or attach to (default tap0)\n"
		"  --mac MAC       the stack's MAC address (default: random, locally administered)\n"
		"  --pcap FILE     also write every frame, both directions, to FILE\n"
		"  --seconds N     stop after N seconds (default: run until SIGINT/SIGTERM)\n"
		"  --count N       stop after N frames\n"
		"  --help          this text\n");
}

static void print_mac(const uint8_t *m)
{
	printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* One line per frame, a little like tcpdump -e. */
static void print_frame(const struct sk_buff *skb, uint64_t t0)
{
	const uint8_t *p = skb->data;
	uint16_t type = (uint16_t)(p[12] << 8 | p[13]);
	uint64_t t = skb->tstamp_ns - t0;

	printf("%4" PRIu64 ".%06" PRIu64 " ", t / US_NSEC_PER_SEC, (t % US_NSEC_PER_SEC) / 1000);
	print_mac(p + 6);
	printf(" > ");
	print_mac(p);
	printf(" len %u ", skb->len);
	if (type == 0x0806 && skb->len >= ETH_HLEN + 28) {
		const uint8_t *a = p + ETH_HLEN;
		unsigned op = (unsigned)(a[6] << 8 | a[7]);
		if (op == 1)
			printf("ARP who-has %u.%u.%u.%u tell %u.%u.%u.%u", a[24], a[25], a[26], a[27],
			       a[14], a[15], a[16], a[17]);
		else if (op == 2)
			printf("ARP %u.%u.%u.%u is-at ", a[14], a[15], a[16], a[17]), print_mac(a + 8);
		else
			printf("ARP op %u", op);
	} else if (type == 0x0800 && skb->len >= ETH_HLEN + 20) {
		const uint8_t *ip = p + ETH_HLEN;
		printf("IPv4 %u.%u.%u.%u > %u.%u.%u.%u proto %u", ip[12], ip[13], ip[14], ip[15], ip[16],
		       ip[17], ip[18], ip[19], ip[9]);
	} else if (type == 0x86dd) {
		printf("IPv6");
	} else {
		printf("ethertype 0x%04x", type);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tap", required_argument, NULL, 't' },   { "mac", required_argument, NULL, 'm' },
		{ "pcap", required_argument, NULL, 'p' },  { "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct netdev_config cfg = { .name = "tap0" };
	const char *pcap_path = NULL;
	double seconds = 0;
	long count = 0, seen = 0;
	struct us_clock clock;
	struct skb_pool *pool;
	struct netdev *dev;
	struct skb_pool_stats ps;
	uint64_t t0, end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': cfg.name = optarg; break;
		case 'm':
			if (netdev_parse_mac(optarg, cfg.mac) != 0) {
				fprintf(stderr, "tapdump: bad MAC '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p': pcap_path = optarg; break;
		case 's': seconds = atof(optarg); break;
		case 'c': count = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	us_clock_init_monotonic(&clock);
	pool = skb_pool_create(NULL);
	cfg.pool = pool;
	cfg.clock = &clock;
	dev = netdev_tap_open(&cfg);
	if (!dev) {
		fprintf(stderr, "tapdump: cannot open TAP device %s: %s\n", cfg.name, strerror(errno));
		return 1;
	}
	if (pcap_path) {
		struct netdev *cap = netdev_capture_wrap(dev, pcap_path);
		if (!cap) {
			fprintf(stderr, "tapdump: cannot write %s: %s\n", pcap_path, strerror(errno));
			netdev_close(dev);
			return 1;
		}
		dev = cap;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("tapdump: listening on %s, mtu %u, our MAC ", dev->name, dev->mtu);
	print_mac(dev->mac);
	printf("\n");
	fflush(stdout);

	t0 = us_clock_now(&clock);
	end = seconds > 0 ? t0 + (uint64_t)(seconds * 1e9) : US_TIME_NEVER;
	while (!stop && us_clock_now(&clock) < end && (count == 0 || seen < count)) {
		struct pollfd pfd = { .fd = netdev_fd(dev), .events = POLLIN };
		struct sk_buff *batch[32];
		uint32_t n;

		poll(&pfd, 1, 100);
		netdev_poll(dev, 32);
		while ((n = netdev_rx_burst(dev, batch, 32)) > 0)
			for (uint32_t i = 0; i < n; i++) {
				if (count == 0 || seen < count)
					print_frame(batch[i], t0);
				seen++;
				skb_free(batch[i]);
			}
		fflush(stdout);
	}

	printf("\n%s counters:\n", dev->name);
	printf("  rx_packets %" PRIu64 "  rx_bytes %" PRIu64 "  rx_dropped %" PRIu64
	       "  rx_errors %" PRIu64 "  rx_ring_full %" PRIu64 "\n",
	       dev->stats.rx_packets, dev->stats.rx_bytes, dev->stats.rx_dropped, dev->stats.rx_errors,
	       dev->stats.rx_ring_full);
	printf("  tx_packets %" PRIu64 "  tx_bytes %" PRIu64 "  tx_dropped %" PRIu64
	       "  tx_errors %" PRIu64 "  tx_ring_full %" PRIu64 "\n",
	       dev->stats.tx_packets, dev->stats.tx_bytes, dev->stats.tx_dropped, dev->stats.tx_errors,
	       dev->stats.tx_ring_full);
	netdev_close(dev);
	skb_pool_get_stats(pool, &ps);
	printf("skb pool: allocated %" PRIu64 "  freed %" PRIu64 "  in_use %" PRIu64 "  peak %" PRIu64
	       "  alloc_failures %" PRIu64 "\n",
	       ps.allocated, ps.freed, ps.in_use, ps.peak, ps.alloc_failures);
	return skb_pool_destroy(pool) == 0 ? 0 : 1;
}
