/*
 * ping - ICMP echo from ustack, printed the way ping(8) prints it: a line per reply with its
 * sequence number and time, then the summary with loss and min/avg/max/mdev.
 *
 * It uses an ICMP datagram socket, as Linux's unprivileged "ping sockets" work:
 * us_socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP). We write the echo request from its ICMP header on
 * (type 8, code 0, our sequence number); the stack fills in the identifier (the socket's own) and
 * the checksum, and hands back only the replies to that identifier, from their ICMP header on. The
 * reply's TTL is printed when the stack can tell it (IP_RECVTTL), and left out when it cannot.
 *
 *   ping [-c COUNT] [-i SECONDS] [-s SIZE] [-W SECONDS] [--tap NAME] [--addr A/LEN] ... DEST
 *
 * Try it (in a network namespace; the kernel side of the TAP device gets 198.18.0.1/24):
 *   ip tuntap add dev tap0 mode tap; ip addr add 198.18.0.1/24 dev tap0; ip link set tap0 up
 *   ping --tap tap0 --addr 198.18.0.2/24 -c 3 198.18.0.1
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY 0
#define ICMP_HDR 8

static void usage(FILE *to)
{
	fprintf(to, "usage: ping [options] DEST\n"
		    "  -c COUNT        send COUNT requests, then wait for their replies (default 4)\n"
		    "  -i SECONDS      between requests (default 1)\n"
		    "  -s SIZE         payload bytes (default 56)\n"
		    "  -W SECONDS      wait for the last reply (default 2)\n" EX_COMMON_HELP);
}

/* The next reply into pkt; its TTL into *ttl (-1 when the stack does not say). Returns its
 * length, or -1 with errno. */
static ssize_t recv_reply(int fd, bool want_ttl, uint8_t *pkt, size_t size, int *ttl)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = pkt, .iov_len = size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	*ttl = -1;
	if (!want_ttl)
		return us_recv(fd, pkt, size, 0);
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	n = us_recvmsg(fd, &msg, 0);
	if (n < 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL && cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(ttl, CMSG_DATA(cm), sizeof(int));
	}
	return n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { EX_COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	static uint8_t pkt[ICMP_HDR + 65536], got[ICMP_HDR + 65536];
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct ex_opts o;
	struct us_stack *st;
	long count = 4, size = 56, sent = 0, received = 0, errors = 0;
	double interval = 1, wait = 2, tmin = 1e18, tmax = 0, tsum = 0, tsum2 = 0;
	double *sent_at, next_send, deadline = 0, start;
	uint32_t dst, addr;
	char dbuf[16], tbuf[16];
	bool want_ttl;
	int c, fd, one = 1;

	ex_opts_init(&o);
	while ((c = getopt_long(argc, argv, "c:i:s:W:h", opts, NULL)) != -1) {
		if (ex_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'c': count = atol(optarg); break;
		case 'i': interval = atof(optarg); break;
		case 's': size = atol(optarg); break;
		case 'W': wait = atof(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || us_parse_ipv4(argv[optind], &dst, NULL) != 0 || count < 1 ||
	    count > 10000000 || size < 0 || size > 65507 || interval < 0.001 || wait < 0) {
		usage(stderr);
		return 2;
	}
	to.sin_addr.s_addr = htonl(dst);
	sent_at = calloc((size_t)count, sizeof(*sent_at));
	if (!sent_at) {
		fprintf(stderr, "ping: out of memory\n");
		return 1;
	}
	st = ex_stack_start(&o, &addr);
	ex_signals();
	fd = us_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP);
	if (fd < 0) {
		fprintf(stderr, "ping: socket: %s\n", strerror(errno));
		free(sent_at);
		return ex_stack_down(st, 1);
	}
	want_ttl = us_setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)) == 0;
	/* as iputils ping: every ICMP error about our requests is reported, not only the hard ones */
	us_setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	pkt[0] = ICMP_ECHO_REQUEST; /* code, checksum and identifier stay 0: the stack fills them */
	for (long i = 0; i < size; i++)
		pkt[ICMP_HDR + i] = (uint8_t)(0x10 + i);
	printf("PING %s (%s) %ld(%ld) bytes of data.\n", argv[optind], us_format_ipv4(dst, dbuf), size,
	       size + 28);
	fflush(stdout);
	start = next_send = ex_seconds();
	while (!ex_stop) {
		double now = ex_seconds(), until;
		ssize_t n;
		int ttl;

		if (sent < count && now >= next_send) {
			uint16_t seq = (uint16_t)(sent + 1);
			pkt[6] = (uint8_t)(seq >> 8);
			pkt[7] = (uint8_t)seq;
			sent_at[sent] = now;
			if (us_sendto(fd, pkt, ICMP_HDR + (size_t)size, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
				printf("ping: sendmsg: %s\n", strerror(errno));
			sent++;
			next_send = now + interval;
			if (sent == count)
				deadline = now + wait;
		}
		for (int k = 0; k < 1000; k++) { /* what has arrived, bounded */
			double rx;
			long idx;
			size_t len;

			n = recv_reply(fd, want_ttl, got, sizeof(got), &ttl);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			rx = ex_seconds();
			if (n < 0) {
				/* an ICMP error for one of ours (the socket does not say which): count it */
				errors++;
				printf("From %s icmp_seq=%ld %s\n", dbuf, sent, strerror(errno));
				fflush(stdout);
				continue;
			}
			if (n < ICMP_HDR || got[0] != ICMP_ECHO_REPLY)
				continue;
			idx = (long)((got[6] << 8) | got[7]) - 1;
			len = (size_t)n - ICMP_HDR;
			if (idx >= 0 && idx < sent && sent_at[idx] > 0) {
				double ms = (rx - sent_at[idx]) * 1e3;
				received++;
				sent_at[idx] = 0; /* a duplicate is not counted twice */
				tmin = ms < tmin ? ms : tmin;
				tmax = ms > tmax ? ms : tmax;
				tsum += ms;
				tsum2 += ms * ms;
				if (ttl >= 0)
					snprintf(tbuf, sizeof(tbuf), " ttl=%d", ttl);
				else
					tbuf[0] = '\0';
				printf("%zd bytes from %s: icmp_seq=%ld%s time=%.3f ms%s\n", n, dbuf, idx + 1, tbuf,
				       ms,
				       memcmp(got + ICMP_HDR, pkt + ICMP_HDR, len < (size_t)size ? len : (size_t)size)
					       ? " (BAD DATA)"
					       : "");
			}
			fflush(stdout);
		}
		if ((sent == count && received + errors >= count) || (deadline > 0 && now >= deadline))
			break;
		until = sent < count ? next_send : deadline;
		now = ex_seconds();
		ex_wait_fd(fd, POLLIN, until > now ? (int)((until - now) * 1e3) + 1 : 0);
	}
	printf("\n--- %s ping statistics ---\n", dbuf);
	/* iputils' finish(): "+N errors" only when there were some, the loss as %g */
	printf("%ld packets transmitted, %ld received", sent, received);
	if (errors)
		printf(", +%ld errors", errors);
	printf(", %g%% packet loss, time %.0fms\n", sent ? (double)(sent - received) * 100.0 / (double)sent : 0.0,
	       (ex_seconds() - start) * 1e3);
	if (received) {
		double avg = tsum / (double)received;
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", tmin, avg, tmax,
		       sqrt(fmax(0, tsum2 / (double)received - avg * avg)));
	}
	free(sent_at);
	us_close(fd);
	return ex_stack_down(st, received > 0 ? 0 : 1);
}
