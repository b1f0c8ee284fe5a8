/*
 * tcp_peer - one TCP connection on a ustack TAP device, for the live tests: listen for or connect
 * to the kernel side, send a file (then close the sending side), and write what arrives to another
 * file until the peer closes.
 *
 *   tcp_peer --tap NAME --addr A/LEN (--listen PORT | --connect ADDR:PORT)
 *            [--send FILE] [--recv FILE] [--seconds LIMIT] [--after-recv] [--vnet-hdr]
 *
 * --after-recv sends the file only once the peer's data has all arrived (a server that answers).
 * --vnet-hdr opens the TAP device with its offloads (IFF_VNET_HDR, docs/offload.md).
 * Exits 0 when both directions finished cleanly within the limit; prints the stack's counters.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tap", required_argument, NULL, 't' },     { "addr", required_argument, NULL, 'a' },
		{ "listen", required_argument, NULL, 'l' },  { "connect", required_argument, NULL, 'c' },
		{ "send", required_argument, NULL, 's' },    { "recv", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 'S' }, { "after-recv", no_argument, NULL, 'A' },
		{ "vnet-hdr", no_argument, NULL, 'V' },      { NULL, 0, NULL, 0 },
	};
	const char *tap = "tap0", *addr_s = "198.18.0.2/24", *connect_s = NULL;
	const char *send_path = NULL, *recv_path = NULL;
	long listen_port = 0;
	double seconds = 60;
	int after_recv = 0, c, ifindex, status = 1;
	static uint8_t buf[65536], sbuf[65536]; /* receive, and the pending part of the file */
	struct netdev_config nc = { 0 };
	struct us_stack *st;
	struct netdev *dev;
	struct us_tcp *l = NULL, *t = NULL;
	FILE *in = NULL, *out = NULL;
	uint32_t addr, peer = 0;
	uint16_t peer_port = 0;
	uint8_t plen;
	uint64_t end, sent = 0, got = 0;
	size_t pend_len = 0, pend_off = 0;
	int send_done = 0, recv_done = 0, shut = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': tap = optarg; break;
		case 'a': addr_s = optarg; break;
		case 'l': listen_port = atol(optarg); break;
		case 'c': connect_s = optarg; break;
		case 's': send_path = optarg; break;
		case 'r': recv_path = optarg; break;
		case 'S': seconds = atof(optarg); break;
		case 'A': after_recv = 1; break;
		case 'V': nc.vnet_hdr = true; break;
		default: return 2;
		}
	}
	if (us_parse_ipv4(addr_s, &addr, &plen) != 0 || (!listen_port && !connect_s))
		return 2;
	if (connect_s) {
		char host[32];
		const char *colon = strchr(connect_s, ':');
		if (!colon || (size_t)(colon - connect_s) >= sizeof(host))
			return 2;
		memcpy(host, connect_s, (size_t)(colon - connect_s));
		host[colon - connect_s] = '\0';
		if (us_parse_ipv4(host, &peer, NULL) != 0)
			return 2;
		peer_port = (uint16_t)atol(colon + 1);
	}
	if (send_path && !(in = fopen(send_path, "rb")))
		return 1;
	if (recv_path && !(out = fopen(recv_path, "wb")))
		return 1;
	st = us_stack_create(NULL);
	nc.pool = us_stack_pool(st);
	nc.clock = us_stack_clock(st);
	nc.name = tap;
	dev = netdev_tap_open(&nc);
	if (!dev) {
		perror(tap);
		return 1;
	}
	ifindex = us_stack_add_netdev(st, dev);
	us_addr_add(st, ifindex, addr, plen);
	end = us_stack_now(st) + (uint64_t)(seconds * 1e9);
	if (listen_port) {
		l = us_tcp_open(st);
		if (us_tcp_bind(l, 0, (uint16_t)listen_port) != 0 || us_tcp_listen(l, 4) != 0)
			return 1;
	} else {
		t = us_tcp_open(st);
		if (us_tcp_connect(t, peer, peer_port) != -EINPROGRESS)
			return 1;
	}
	if (!in)
		send_done = 1;
	if (!out)
		recv_done = 0;
	while (us_stack_now(st) < end) {
		int r;

		us_stack_wait(st, 20);
		if (!t) {
			int err;
			t = us_tcp_accept(l, &err);
			if (!t)
				continue;
		}
		if (us_tcp_state(t) == 2 /* SYN-SENT */)
			continue;
		if ((us_tcp_events(t) & US_TCP_EV_ERROR) && us_tcp_state(t) == 0) {
			fprintf(stderr, "tcp_peer: connection failed: %s\n", strerror(-us_tcp_error(t)));
			break;
		}
		/* receive */
		while (!recv_done && (r = us_tcp_recv(t, buf, sizeof(buf))) != -EAGAIN) {
			if (r < 0) {
				fprintf(stderr, "tcp_peer: recv: %s\n", strerror(-r));
				goto out;
			}
			if (r == 0) {
				recv_done = 1;
				break;
			}
			if (out)
				fwrite(buf, 1, (size_t)r, out);
			got += (uint64_t)r;
		}
		/* send */
		while (!send_done && (!after_recv || recv_done)) {
			if (pend_off == pend_len) {
				pend_len = fread(sbuf, 1, sizeof(sbuf), in);
				pend_off = 0;
				if (pend_len == 0) {
					send_done = 1;
					break;
				}
			}
			r = us_tcp_send(t, sbuf + pend_off, pend_len - pend_off);
			if (r == -EAGAIN)
				break;
			if (r < 0) {
				fprintf(stderr, "tcp_peer: send: %s\n", strerror(-r));
				goto out;
			}
			pend_off += (size_t)r;
			sent += (uint64_t)r;
		}
		if (send_done && !shut) {
			us_tcp_shutdown(t, 1);
			shut = 1;
		}
		if (send_done && recv_done) {
			struct us_tcp_info ti;
			us_tcp_info(t, &ti);
			/* wait until what we sent is acknowledged */
			if (ti.unacked == 0 && ti.bytes_queued_snd == 0) {
				status = 0;
				break;
			}
		}
	}
	if (status)
		fprintf(stderr, "tcp_peer: time limit: sent %llu, got %llu\n", (unsigned long long)sent,
			(unsigned long long)got);
out:
	fprintf(stderr, "tcp_peer: sent %llu bytes, received %llu bytes\n", (unsigned long long)sent,
		(unsigned long long)got);
	if (t)
		us_tcp_close(t);
	if (l)
		us_tcp_close(l);
	/* let the close finish on the wire */
	for (int i = 0; i < 50; i++)
		us_stack_wait(st, 10);
	us_stats_dump_raw(st, stderr);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	if (us_stack_destroy(st) != 0) {
		fprintf(stderr, "tcp_peer: skbs leaked\n");
		return 1;
	}
	return status;
}
