/*
 * test_sock_dump.c - the socket table (us_sockets_dump) and the per-connection counters behind it
 * (TCP_INFO's tcpi_bytes_acked, tcpi_bytes_received, tcpi_segs_out, tcpi_segs_in), on two stacks on
 * a pair wire in virtual time: a listener with a connection accepted and one waiting, known transfer
 * sizes each way, data left unread at both ends, a SYN-RECV child, a UDP socket with a datagram
 * queued and a ping socket, the timers as `ss -o` shows them, and a TIME-WAIT socket with its
 * timewait timer.
 */
#include <errno.h>
#include <linux/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "ustack/socket.h"

#define SA(x) ((struct sockaddr *)(x))

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	s.sin_addr.s_addr = htonl(addr);
	return s;
}

/* A stack's socket table, as text. The caller frees it. */
static char *dump_of(struct us_stack *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(m);
	us_sockets_dump(st, m);
	ck_assert_int_eq(fclose(m), 0);
	return buf;
}

/* One row of the table, split as ss's columns, and the `ss -i` line under it ("" if none). */
struct row {
	char netid[8], state[16], local[32], peer[32];
	unsigned long long recvq, sendq;
	char rest[256]; /* after the peer: timer:(...) fd:N ... */
	char info[1024];
};

/* The row whose local and peer columns are these; false when there is none. */
static bool find_row(const char *dump, const char *local, const char *peer, struct row *r)
{
	const char *p = dump;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char line[1024];
		int used = 0;

		ck_assert_uint_lt(n, sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		memset(r, 0, sizeof(*r));
		if (line[0] != '\t' &&
		    sscanf(line, "%7s %15s %llu %llu %31s %31s%n", r->netid, r->state, &r->recvq, &r->sendq,
			   r->local, r->peer, &used) == 6 &&
		    strcmp(r->local, local) == 0 && strcmp(r->peer, peer) == 0) {
			snprintf(r->rest, sizeof(r->rest), "%s", line + used);
			if (eol && eol[1] == '\t') {
				const char *e2 = strchr(eol + 1, '\n');
				size_t k = e2 ? (size_t)(e2 - eol - 1) : strlen(eol + 1);
				ck_assert_uint_lt(k, sizeof(r->info));
				memcpy(r->info, eol + 1, k);
				r->info[k] = '\0';
			}
			return true;
		}
		p = eol ? eol + 1 : NULL;
	}
	return false;
}

/* The number after " key:" in an info line; -1 when the key is not there. */
static long long info_val(const char *info, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), " %s:", key);
	p = strstr(info, k);
	return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

static struct tcp_info info_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	ck_assert_int_eq(us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	ck_assert_uint_eq(len, sizeof(ti));
	return ti;
}

/* Send exactly n pattern bytes, running the wire between tries. */
static void send_n(struct two *t, int fd, size_t n)
{
	static char buf[16384];
	size_t sent = 0;

	memset(buf, 'x', sizeof(buf));
	for (int guard = 0; sent < n && guard < 10000; guard++) {
		size_t k = n - sent < sizeof(buf) ? n - sent : sizeof(buf);
		ssize_t r = us_send(fd, buf, k, 0);

		if (r > 0)
			sent += (size_t)r;
		else
			ck_assert_int_eq(errno, EAGAIN);
		two_run(t, US_NSEC_PER_MSEC);
	}
	ck_assert_uint_eq(sent, n);
}

/* Read exactly n bytes (they have arrived already). */
static void recv_n(int fd, size_t n)
{
	char buf[4096];

	while (n) {
		ssize_t r = us_recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);
		ck_assert_int_gt(r, 0);
		n -= (size_t)r;
	}
}

/* bytes_acked and bytes_received against the transfer's own sizes; segs_out and segs_in only as the
 * dump printing TCP_INFO's fields (both read one counter: what they count is checked against the
 * stack's Tcp OutSegs and InSegs by the caller). */
static void check_counters(const struct row *r, const struct tcp_info *ti, unsigned long long acked,
			   unsigned long long received)
{
	ck_assert_uint_eq(ti->tcpi_bytes_acked, acked);
	ck_assert_uint_eq(ti->tcpi_bytes_received, received);
	ck_assert_int_eq(info_val(r->info, "bytes_acked"), (long long)acked);
	ck_assert_int_eq(info_val(r->info, "bytes_received"), (long long)received);
	ck_assert_int_eq(info_val(r->info, "segs_out"), (long long)ti->tcpi_segs_out);
	ck_assert_int_eq(info_val(r->info, "segs_in"), (long long)ti->tcpi_segs_in);
}

START_TEST(test_sockets_dump)
{
	struct two t;
	struct sockaddr_in any = sin_of(0, 5000), to_a = sin_of(A_IP, 5000), udp7 = sin_of(0, 7);
	struct sockaddr_in name;
	socklen_t nlen = sizeof(name);
	struct tcp_info ti_s, ti_c;
	struct row r;
	char local[32], peer[32], *d;
	int lfd, cfd, sfd, c2fd, ufd, bufd, pfd, one = 1;
	uint16_t cport;

	two_up(&t, NULL, NULL);
	lfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 8), 0);
	cfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(cfd, SA(&to_a), sizeof(to_a)), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	sfd = us_accept(lfd, NULL, NULL);
	ck_assert_int_ge(sfd, 0);
	ck_assert_int_eq(us_getsockname(cfd, SA(&name), &nlen), 0);
	cport = ntohs(name.sin_port);

	/* a data segment in flight: the retransmission timer at the 200 ms RTO floor, no expiry yet */
	ck_assert_int_eq(us_send(cfd, "0123456789", 10, 0), 10);
	d = dump_of(t.b);
	snprintf(local, sizeof(local), "198.18.0.2:%u", cport);
	ck_assert_msg(find_row(d, local, "198.18.0.1:5000", &r), "%s", d);
	ck_assert_str_eq(r.netid, "tcp");
	ck_assert_str_eq(r.state, "ESTAB");
	ck_assert_uint_eq(r.sendq, 10);
	ck_assert_ptr_nonnull(strstr(r.rest, " timer:(on,200ms,0)"));
	ck_assert_int_eq(info_val(r.info, "unacked"), 1);
	ck_assert_ptr_nonnull(strstr(r.info, "\t ts sack newreno wscale:"));
	ck_assert_int_eq(info_val(r.info, "mss"), 1448);
	free(d);

	/* 10,000 bytes from b to a (10 above and 9,990 more), 3,000 from a to b; a reads 4,000 of its
	 * 10,000 and b none of its 3,000 */
	send_n(&t, cfd, 9990);
	send_n(&t, sfd, 3000);
	two_run(&t, US_NSEC_PER_SEC); /* every ACK home, delayed ones too */
	recv_n(sfd, 4000);
	two_run(&t, US_NSEC_PER_SEC);

	ti_s = info_of(sfd);
	ti_c = info_of(cfd);
	/* one connection per stack, so its segments are all the stack's TCP segments (the listener
	 * counts none; the child counts the SYN that made it, as Linux) */
	ck_assert_int_eq(us_stats_get(t.b, "Tcp", "OutSegs"), ti_c.tcpi_segs_out);
	ck_assert_int_eq(us_stats_get(t.b, "Tcp", "InSegs"), ti_c.tcpi_segs_in);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "OutSegs"), ti_s.tcpi_segs_out);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "InSegs"), ti_s.tcpi_segs_in);
	ck_assert_uint_eq(ti_c.tcpi_segs_in, ti_s.tcpi_segs_out); /* a clean wire loses none */
	ck_assert_uint_eq(ti_s.tcpi_segs_in, ti_c.tcpi_segs_out);
	ck_assert_uint_gt(ti_c.tcpi_segs_out, 10000 / 1448);

	/* a second connection waits in the accept queue; a UDP socket holds a 5-byte datagram */
	c2fd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(c2fd, SA(&to_a), sizeof(to_a)), -1);
	/* a alone takes the SYN: a SYN-RECV child, its SYN-ACK timed by the initial 1 s RTO, not yet in
	 * the accept queue */
	us_stack_poll(t.a);
	nlen = sizeof(name);
	ck_assert_int_eq(us_getsockname(c2fd, SA(&name), &nlen), 0);
	snprintf(peer, sizeof(peer), "198.18.0.2:%u", ntohs(name.sin_port));
	d = dump_of(t.a);
	ck_assert_msg(find_row(d, "198.18.0.1:5000", peer, &r), "%s", d);
	ck_assert_str_eq(r.state, "SYN-RECV");
	ck_assert_ptr_nonnull(strstr(r.rest, " timer:(on,1sec,0) listener:5000"));
	ck_assert_int_eq(info_val(r.info, "segs_in"), 1);
	ck_assert_int_eq(info_val(r.info, "segs_out"), 1);
	ck_assert_msg(find_row(d, "0.0.0.0:5000", "0.0.0.0:*", &r), "%s", d);
	ck_assert_uint_eq(r.recvq, 0);
	free(d);
	pfd = us_socket_on(t.a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP);
	ck_assert_int_ge(pfd, 0);
	name = sin_of(0, 777); /* a ping socket's "port" is its echo identifier */
	ck_assert_int_eq(us_bind(pfd, SA(&name), sizeof(name)), 0);
	ufd = us_socket_on(t.a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(ufd, SA(&udp7), sizeof(udp7)), 0);
	bufd = us_socket_on(t.b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	udp7 = sin_of(A_IP, 7);
	ck_assert_int_eq(us_connect(bufd, SA(&udp7), sizeof(udp7)), 0);
	ck_assert_int_eq(us_send(bufd, "hello", 5, 0), 5);
	ck_assert_int_eq(us_setsockopt(cfd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
	two_run(&t, 100 * US_NSEC_PER_MSEC);

	d = dump_of(t.a);
	ck_assert_ptr_nonnull(strstr(d, "Netid State      Recv-Q  Send-Q  Local Address:Port"));
	/* the listener: Recv-Q the accept queue, Send-Q the backlog, as ss */
	ck_assert_msg(find_row(d, "0.0.0.0:5000", "0.0.0.0:*", &r), "%s", d);
	ck_assert_str_eq(r.state, "LISTEN");
	ck_assert_uint_eq(r.recvq, 1);
	ck_assert_uint_eq(r.sendq, 8);
	snprintf(peer, sizeof(peer), " fd:%d", lfd);
	ck_assert_ptr_nonnull(strstr(r.rest, peer));
	/* its ss -i line: no window or threshold of its own, left out as ss leaves them */
	ck_assert_ptr_nonnull(strstr(r.info, "\t newreno rto:1000 mss:536 bytes_acked:0 "));
	ck_assert_ptr_null(strstr(r.info, "cwnd:"));
	/* the accepted connection: 6,000 bytes unread, nothing unacknowledged */
	snprintf(peer, sizeof(peer), "198.18.0.2:%u", cport);
	ck_assert_msg(find_row(d, "198.18.0.1:5000", peer, &r), "%s", d);
	ck_assert_str_eq(r.netid, "tcp");
	ck_assert_str_eq(r.state, "ESTAB");
	ck_assert_uint_eq(r.recvq, 6000);
	ck_assert_uint_eq(r.sendq, 0);
	snprintf(local, sizeof(local), " fd:%d", sfd);
	ck_assert_ptr_nonnull(strstr(r.rest, local));
	ck_assert_ptr_null(strstr(r.rest, "timer:")); /* nothing in flight, no ACK owed */
	ti_s = info_of(sfd);
	check_counters(&r, &ti_s, 3000 + 1 /* our SYN */, 10000);
	ck_assert_int_eq(info_val(r.info, "unacked"), 0);
	ck_assert_ptr_nonnull(strstr(r.info, " retrans:0/0 "));
	ck_assert_int_eq(info_val(r.info, "cwnd"), ti_s.tcpi_snd_cwnd);
	ck_assert_int_eq(info_val(r.info, "rcv_space"), ti_s.tcpi_rcv_space);
	/* the unaccepted one: no descriptor yet, its listener named */
	ck_assert_ptr_nonnull(strstr(d, " listener:5000\n"));
	/* UDP: Recv-Q the bytes queued */
	ck_assert_msg(find_row(d, "0.0.0.0:7", "0.0.0.0:*", &r), "%s", d);
	ck_assert_str_eq(r.netid, "udp");
	ck_assert_str_eq(r.state, "UNCONN");
	ck_assert_uint_eq(r.recvq, 5);
	ck_assert_uint_eq(r.sendq, 0);
	/* a ping socket: its echo identifier where a port would be */
	ck_assert_msg(find_row(d, "0.0.0.0:777", "0.0.0.0:*", &r), "%s", d);
	ck_assert_str_eq(r.netid, "icmp");
	ck_assert_str_eq(r.state, "UNCONN");
	snprintf(local, sizeof(local), " fd:%d", pfd);
	ck_assert_ptr_nonnull(strstr(r.rest, local));
	free(d);

	/* b: 3,000 bytes unread, keepalive the only timer (two hours), the connected UDP socket */
	d = dump_of(t.b);
	snprintf(local, sizeof(local), "198.18.0.2:%u", cport);
	ck_assert_msg(find_row(d, local, "198.18.0.1:5000", &r), "%s", d);
	ck_assert_uint_eq(r.recvq, 3000);
	ck_assert_uint_eq(r.sendq, 0);
	ck_assert_ptr_nonnull(strstr(r.rest, " timer:(keepalive,119min,0)"));
	ti_c = info_of(cfd);
	check_counters(&r, &ti_c, 10000 + 1, 3000);
	/* connected, bound to no address of its own (a Linux socket would show the route's source) */
	ck_assert_msg(strstr(d, "udp   ESTAB      0       0       0.0.0.0:"), "%s", d);
	ck_assert_ptr_nonnull(strstr(d, " 198.18.0.1:7 "));
	free(d);

	/* a closes first, after reading everything: TIME-WAIT on a, with its 2 MSL (60 s) timer */
	recv_n(sfd, 6000);
	recv_n(cfd, 3000);
	ck_assert_int_eq(us_close(sfd), 0);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ti_c = info_of(cfd);
	ck_assert_uint_eq(ti_c.tcpi_bytes_received, 3000 + 1); /* the FIN, as Linux counts it */
	ck_assert_int_eq(us_close(cfd), 0);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	d = dump_of(t.a);
	snprintf(peer, sizeof(peer), "198.18.0.2:%u", cport);
	ck_assert_msg(find_row(d, "198.18.0.1:5000", peer, &r), "%s", d);
	ck_assert_str_eq(r.state, "TIME-WAIT");
	ck_assert_uint_eq(r.recvq, 0);
	ck_assert_uint_eq(r.sendq, 0);
	ck_assert_ptr_nonnull(strstr(r.rest, " timer:(timewait,59sec,0)"));
	ck_assert_str_eq(r.info, ""); /* no ss -i line for TIME-WAIT, as ss */
	free(d);

	us_close(c2fd);
	us_close(pfd);
	us_close(ufd);
	us_close(bufd);
	us_close(lfd);
	two_run(&t, 200 * US_NSEC_PER_SEC);
	d = dump_of(t.a);
	ck_assert_ptr_null(strstr(d, "tcp ")); /* every socket gone: the header only */
	free(d);
	two_down(&t);
}
END_TEST

/* ss's timer format (print_ms_timer) and the retransmission count beside it: a connect to a peer that
 * never answers is SYN-SENT with timer:(on,1sec,0); after the first expiry at 1 s the next is 2 s
 * away, so half a second later it reads timer:(on,1.500ms,1). */
START_TEST(test_timer_format)
{
	struct us_stack_config cfg = { 0 };
	struct two t;
	struct sockaddr_in to = sin_of(0xc6120009u, 80); /* 198.18.0.9: nobody */
	char *d;
	int fd;

	two_up(&t, NULL, &cfg);
	ck_assert_int_eq(us_neigh_add(t.b, 1, 0xc6120009u, (const uint8_t[6]){ 2, 0, 0, 0, 0, 9 }), 0);
	fd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(fd, SA(&to), sizeof(to)), -1);
	d = dump_of(t.b);
	ck_assert_ptr_nonnull(strstr(d, "tcp   SYN-SENT   0       0       198.18.0.2:"));
	ck_assert_ptr_nonnull(strstr(d, " 198.18.0.9:80 "));
	ck_assert_ptr_nonnull(strstr(d, " timer:(on,1sec,0)"));
	free(d);
	two_run(&t, 1500 * US_NSEC_PER_MSEC); /* one expiry at 1 s: the next in 2 s, from then */
	d = dump_of(t.b);
	ck_assert_ptr_nonnull(strstr(d, " timer:(on,1.500ms,1)"));
	free(d);
	us_close(fd);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	two_down(&t);
}
END_TEST

/* A zero window (a receiver of 8 KiB that never reads) with data waiting: the persist timer, its
 * probe count climbing as the probes go unanswered by an opening. */
START_TEST(test_persist_timer)
{
	struct two t;
	struct sockaddr_in any = sin_of(0, 5000), to_a = sin_of(A_IP, 5000);
	static char buf[65536];
	const char *p;
	unsigned probes0, probes1;
	char *d;
	int lfd, cfd, sfd, rcvbuf = 4096;

	two_up(&t, NULL, NULL);
	lfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 1), 0);
	cfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(cfd, SA(&to_a), sizeof(to_a)), -1);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	sfd = us_accept(lfd, NULL, NULL);
	ck_assert_int_ge(sfd, 0);
	ck_assert_int_gt(us_send(cfd, buf, sizeof(buf), 0), 8192);
	two_run(&t, US_NSEC_PER_SEC);
	d = dump_of(t.b);
	p = strstr(d, " timer:(persist,");
	ck_assert_msg(p, "%s", d);
	ck_assert_int_eq(sscanf(strchr(p + 16, ',') + 1, "%u)", &probes0), 1);
	free(d);
	two_run(&t, 10 * US_NSEC_PER_SEC);
	d = dump_of(t.b);
	p = strstr(d, " timer:(persist,");
	ck_assert_msg(p, "%s", d);
	ck_assert_int_eq(sscanf(strchr(p + 16, ',') + 1, "%u)", &probes1), 1);
	ck_assert_uint_gt(probes1, probes0);
	free(d);
	us_close(cfd);
	us_close(sfd);
	us_close(lfd);
	two_run(&t, 200 * US_NSEC_PER_SEC);
	two_down(&t);
}
END_TEST

static Suite *sock_dump_suite(void)
{
	Suite *s = suite_create("sock_dump");
	TCase *tc = tcase_create("dump");

	tcase_add_test(tc, test_sockets_dump);
	tcase_add_test(tc, test_timer_format);
	tcase_add_test(tc, test_persist_timer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(sock_dump_suite());
}
