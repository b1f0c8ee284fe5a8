/*
 * udp_echo - a UDP echo server (RFC 862) on ustack: every datagram is sent back to where it came
 * from, byte for byte. The stack under it answers ARP and ping.
 *
 *   udp_echo [--port N] [--tap NAME] [--addr A/LEN] [--gw ADDR] [--pcap FILE] [--seconds N]
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void usage(FILE *to)
{
	fprintf(to, "usage: udp_echo [options]\n"
		    "  --port N        UDP port to echo on (default 7)\n"
		    "  --seconds N     stop after N seconds (default: until SIGINT/SIGTERM)\n" EX_COMMON_HELP);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "port", required_argument, NULL, 'p' },
					      { "seconds", required_argument, NULL, 's' },
					      EX_COMMON_LONGOPTS,
					      { NULL, 0, NULL, 0 } };
	static uint8_t buf[65536];
	struct ex_opts o;
	struct us_stack *st;
	struct us_udp *u;
	long port = 7;
	double seconds = 0;
	uint64_t end;
	uint32_t addr;
	int c, r;

	ex_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ex_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 's': seconds = atof(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (port < 1 || port > 65535) {
		fprintf(stderr, "udp_echo: bad port\n");
		return 2;
	}
	st = ex_stack_up(&o, &addr);
	ex_signals();
	u = us_udp_open(st);
	r = us_udp_bind(u, 0, (uint16_t)port);
	if (r < 0) {
		fprintf(stderr, "udp_echo: bind: %s\n", strerror(-r));
		return ex_stack_down(st, 1);
	}
	fprintf(stderr, "udp_echo: %s on %s, port %ld\n", o.addr, o.tap, port);
	end = seconds > 0 ? us_stack_now(st) + (uint64_t)(seconds * 1e9) : US_TIME_NEVER;
	while (!ex_stop && us_stack_now(st) < end) {
		uint32_t from;
		uint16_t sport;
		int n;

		us_stack_wait(st, 100);
		while ((n = us_udp_recvfrom(u, buf, sizeof(buf), &from, &sport)) >= 0) {
			size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf);
			us_udp_sendto(u, buf, len, from, sport);
		}
		us_stack_poll(st);
	}
	us_udp_close(u);
	return ex_stack_down(st, 0);
}
