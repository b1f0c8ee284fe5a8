/*
 * ping - ICMP echo from ustack, printed the way ping(8) prints it: a line per reply with its
 * sequence number, TTL and time, then the summary with loss and min/avg/max/mdev.
 *
 *   ping [-c COUNT] [-i SECONDS] [-s SIZE] [-W SECONDS] [--tap NAME] [--addr A/LEN] ... DEST
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void usage(FILE *to)
{
	fprintf(to, "usage: ping [options] DEST\n"
		    "  -c COUNT        stop after COUNT replies (default 4)\n"
		    "  -i SECONDS      between requests (default 1)\n"
		    "  -s SIZE         payload bytes (default 56)\n"
		    "  -W SECONDS      wait for the last reply (default 2)\n" EX_COMMON_HELP);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { EX_COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	static uint8_t payload[65536], got[65536];
	struct ex_opts o;
	struct us_stack *st;
	struct us_ping *p;
	long count = 4, size = 56, sent = 0, received = 0, errors = 0;
	double interval = 1, wait = 2, tmin = 1e18, tmax = 0, tsum = 0, tsum2 = 0;
	uint64_t *sent_at, next_send, deadline = US_TIME_NEVER, start;
	uint32_t dst, addr;
	char dbuf[16], fbuf[16];
	int c;

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
	    size < 0 || size > 65507 || interval < 0.001) {
		usage(stderr);
		return 2;
	}
	st = ex_stack_up(&o, &addr);
	ex_signals();
	p = us_ping_open(st, (uint16_t)(us_stack_now(st) & 0xffff));
	sent_at = calloc((size_t)count, sizeof(*sent_at));
	for (long i = 0; i < size; i++)
		payload[i] = (uint8_t)(0x10 + i);
	printf("PING %s (%s) %ld(%ld) bytes of data.\n", argv[optind], us_format_ipv4(dst, dbuf), size,
	       size + 28);
	fflush(stdout);
	start = next_send = us_stack_now(st);
	while (!ex_stop) {
		uint64_t now = us_stack_now(st);
		struct us_ping_reply r;

		if (sent < count && now >= next_send) {
			sent_at[sent] = now;
			us_ping_send(p, dst, (uint16_t)(sent + 1), payload, (size_t)size, 0);
			sent++;
			next_send = now + (uint64_t)(interval * 1e9);
			if (sent == count)
				deadline = now + (uint64_t)(wait * 1e9);
		}
		while (us_ping_recv(p, &r, got, sizeof(got)) == 0) {
			long idx = (long)r.seq - 1;
			if (r.error) {
				errors++;
				printf("From %s icmp_seq=%u %s\n", us_format_ipv4(r.from, fbuf), r.seq,
				       strerror(-r.error));
			} else if (idx >= 0 && idx < sent && sent_at[idx]) {
				double ms = (double)(r.rx_ns - sent_at[idx]) / 1e6;
				received++;
				sent_at[idx] = 0; /* a duplicate is not counted twice */
				tmin = ms < tmin ? ms : tmin;
				tmax = ms > tmax ? ms : tmax;
				tsum += ms;
				tsum2 += ms * ms;
				printf("%u bytes from %s: icmp_seq=%u ttl=%u time=%.3f ms%s\n", r.len + 8,
				       us_format_ipv4(r.from, fbuf), r.seq, r.ttl, ms,
				       memcmp(got, payload, r.len < (size_t)size ? r.len : (size_t)size) ? " (BAD DATA)" : "");
			}
			fflush(stdout);
		}
		if ((sent == count && received + errors >= count) || now >= deadline)
			break;
		us_stack_wait(st, 10);
	}
	printf("\n--- %s ping statistics ---\n", dbuf);
	printf("%ld packets transmitted, %ld received, %s%ld%% packet loss, time %.0fms\n", sent, received,
	       errors ? "+errors, " : "", sent ? (sent - received) * 100 / sent : 0,
	       (double)(us_stack_now(st) - start) / 1e6);
	if (received) {
		double avg = tsum / (double)received;
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", tmin, avg, tmax,
		       sqrt(tsum2 / (double)received - avg * avg));
	}
	free(sent_at);
	us_ping_close(p);
	return ex_stack_down(st, received > 0 ? 0 : 1);
}
