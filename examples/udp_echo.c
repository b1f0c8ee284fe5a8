/*
 * udp_echo - a UDP echo server (RFC 862) on ustack's socket API: every datagram is sent back to where
 * it came from, byte for byte. The stack under it answers ARP and ping.
 *
 *   udp_echo [--port N] [--tap NAME] [--addr A/LEN] [--gw ADDR] [--pcap FILE] [--seconds N]
 *
 * Try it (in a network namespace; the kernel side of the TAP device gets 198.18.0.1/24):
 *   udp_echo --tap tap0 --addr 198.18.0.2/24 &
 *   ip addr add 198.18.0.1/24 dev tap0; ip link set tap0 up
 *   echo hello | nc -u -w1 198.18.0.2 7
 */
#include <errno.h>
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
	long port = 7;
	double seconds = 0, end;
	int c, fd;

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
	st = ex_stack_start(&o, NULL);
	ex_signals();
	fd = ex_listen(SOCK_DGRAM, (uint16_t)port, 0);
	if (fd < 0) {
		fprintf(stderr, "udp_echo: bind: %s\n", strerror(errno));
		return ex_stack_down(st, 1);
	}
	fprintf(stderr, "udp_echo: %s on %s, port %ld\n", o.addr, o.tap, port);
	end = seconds > 0 ? ex_seconds() + seconds : 0;
	while (!ex_stop && (end == 0 || ex_seconds() < end)) {
		if (ex_wait_fd(fd, POLLIN, 100) <= 0)
			continue;
		for (;;) {
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);
			ssize_t n = us_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

			/* EAGAIN: all answered; an error (ICMP unreachable for an earlier answer) is
			 * reported once, and the socket goes on */
			if (n < 0)
				break;
			us_sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
		}
	}
	us_close(fd);
	return ex_stack_down(st, 0);
}
