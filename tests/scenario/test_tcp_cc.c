/*
 * test_tcp_cc.c - congestion control on a long fat link: two stacks over the pair wire and the
 * fault wrapper made a 100 Mbit/s link with 25 ms each way (50 ms RTT, a bandwidth-delay product of
 * 625,000 bytes, some 413 full frames), buffers of 4 MB. A bulk transfer from a to b leaves slow
 * start through one forced loss; from then on the link's utilisation - the bytes b's device
 * receives per 100 ms against what 100 Mbit/s carries - is watched until it stays at 90 % or more.
 * CUBIC (RFC 9438) gets there sooner than NewReno (RFC 5681, RFC 6582): it backs off to 0.7 of its
 * window, not half, and climbs back along the cubic instead of one segment per round trip.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netdev_internal.h"
#include "scenario.h"
#include "ustack/proto.h"

#define MS (US_NSEC_PER_MSEC)
#define SEC (US_NSEC_PER_SEC)
#define RATE_BPS 100000000ull
#define ONE_WAY_NS (25 * MS)
#define BUF_BYTES (4u << 20)
#define BIN_NS (100 * MS)     /* utilisation is measured per 100 ms */
#define SUSTAIN_BINS 5	      /* "reached": this many bins in a row at 90 % or more */
#define HORIZON_NS (20 * SEC) /* after the loss, at most */

/* ---- a wrapper that drops one data frame when told to ---- */

struct dropper {
	bool armed;	  /* drop the next frame that carries data */
	uint32_t dropped;
	uint64_t drop_ns; /* when it did */
};

static int dropper_poll(struct netdev *dev, uint32_t budget)
{
	struct sk_buff *batch[NETDEV_MAX_BATCH];
	uint64_t before = dev->stats.rx_packets;
	uint32_t n;
	int r = netdev_poll(dev->lower, budget);

	if (r < 0)
		return r;
	while ((n = netdev_rx_burst(dev->lower, batch, NETDEV_MAX_BATCH)) > 0)
		for (uint32_t i = 0; i < n; i++)
			netdev_rx_deliver(dev, batch[i]);
	return (int)(dev->stats.rx_packets - before);
}

static void dropper_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct dropper *d = dev->priv;

	for (uint32_t i = 0; i < n; i++) {
		if (d->armed && skbs[i]->len > 1000) {
			d->armed = false;
			d->dropped++;
			d->drop_ns = us_clock_now(dev->clock);
			skb_free(skbs[i]);
			continue;
		}
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += skbs[i]->len;
		netdev_xmit(dev->lower, skbs[i]);
	}
	netdev_flush(dev->lower);
}

static int dropper_fd(const struct netdev *dev)
{
	return netdev_fd(dev->lower);
}

static uint64_t dropper_next_deadline(const struct netdev *dev)
{
	return netdev_next_deadline(dev->lower);
}

static void dropper_close(struct netdev *dev)
{
	netdev_close(dev->lower);
}

static const struct netdev_ops dropper_ops = {
	.kind = "dropper",
	.poll = dropper_poll,
	.xmit = dropper_xmit,
	.fd = dropper_fd,
	.next_deadline = dropper_next_deadline,
	.close = dropper_close,
};

/* ---- the link ---- */

/* a's device: pair end -> fault wrapper (the link, both ways) -> dropper. */
static struct netdev *link_wrap(struct netdev *dev, void *arg)
{
	struct netdev_fault_config fc = { .seed = 1, .latency_ns = ONE_WAY_NS, .rate_bps = RATE_BPS,
					  .queue_frames = 1000 };

	(void)arg;
	dev = netdev_fault_wrap(dev, &fc);
	return dev ? netdev_wrap(&dropper_ops, dev, sizeof(struct dropper)) : NULL;
}

/* The fault wrapper alone, configured by arg. */
static struct netdev *lan_wrap(struct netdev *dev, void *arg)
{
	return netdev_fault_wrap(dev, arg);
}

/* As two_up, with big buffers, the congestion control cc and a's device through link_wrap. */
static struct dropper *link_up(struct two *t, const char *cc)
{
	struct us_stack_config cfg = { .tcp_rmem = BUF_BYTES, .tcp_wmem = BUF_BYTES, .tcp_congestion = cc };
	struct two_opts o = { .cfg_a = &cfg, .ring = 4096, .wrap = link_wrap };

	two_up_opts(t, &o);
	return us_stack_netdev(t->a, 1)->priv;
}

/* ---- the transfer ---- */

#define PAT 251 /* the stream's byte i is i % 251 */

/* The stream's bytes i % PAT, any offset: PAT bytes of slack after 64 KiB. */
static uint8_t pat_buf[65536 + PAT];

static void pat_init(void)
{
	for (uint32_t i = 0; i < sizeof(pat_buf); i++)
		pat_buf[i] = (uint8_t)(i % PAT);
}

/* Send the stream from byte *sent, up to limit bytes in all, until the send buffer is full. */
static void pat_send(struct us_tcp *snd, uint64_t *sent, uint64_t limit)
{
	while (*sent < limit) {
		uint32_t k = limit - *sent < 65536 ? (uint32_t)(limit - *sent) : 65536;
		int n = us_tcp_send(snd, pat_buf + *sent % PAT, k);

		if (n == -EAGAIN)
			break;
		ck_assert_int_gt(n, 0);
		*sent += (uint64_t)n;
	}
}

/* Read what has arrived, each byte checked against the stream from byte *got (who: for the
 * message). */
static void pat_recv(struct us_tcp *rcv, uint64_t *got, const char *who)
{
	static uint8_t rbuf[65536];

	for (;;) {
		int n = us_tcp_recv(rcv, rbuf, sizeof(rbuf));

		if (n == -EAGAIN)
			break;
		ck_assert_int_gt(n, 0);
		for (int i = 0; i < n; i++)
			if (rbuf[i] != (*got + (uint64_t)i) % PAT)
				ck_abort_msg("%s: byte %llu out of place", who,
					     (unsigned long long)(*got + (uint64_t)i));
		*got += (uint64_t)n;
	}
}

struct run {
	const char *cc;
	uint64_t reach_ns;	    /* loss to sustained 90 %; HORIZON_NS when never */
	double util_after[3];	    /* in the first, second and third second after the loss */
	uint32_t cwnd_at_loss;	    /* the sender's window just before the loss was found, bytes */
	uint32_t ssthresh;	    /* and the threshold it chose */
	uint64_t bytes;		    /* delivered to the application, in order */
};

/* A bulk transfer a -> b until the utilisation has stayed at 90 % for SUSTAIN_BINS bins after the
 * forced loss (armed once the window reaches 300 segments, during slow start). */
static void bulk(struct run *r)
{
	struct two t;
	struct dropper *drop;
	struct us_tcp *l, *server, *client;
	struct netdev *bdev;
	struct us_tcp_info ti;
	uint64_t sent = 0, got = 0, bin_start = 0, bin_bytes0 = 0, full_bins = 0, run_start = 0;
	uint64_t end = 0;
	int err, bins = 0;
	bool found = false;

	pat_init();
	drop = link_up(&t, r->cc);
	bdev = us_stack_netdev(t.b, 1);
	l = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_bind(l, 0, 5001), 0);
	ck_assert_int_eq(us_tcp_listen(l, 1), 0);
	server = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_connect(server, B_IP, 5001), -EINPROGRESS);
	two_run(&t, 200 * MS);
	client = us_tcp_accept(l, &err);
	ck_assert_ptr_nonnull(client);
	us_tcp_info(server, &ti);
	ck_assert_uint_eq(ti.snd_mss, 1448);
	ck_assert_uint_ge((uint64_t)65535 << ti.snd_wscale, BUF_BYTES); /* the window can say 4 MB */

	for (long step = 0; step < 100000; step++) {
		uint64_t now = us_clock_now(&t.clock);

		pat_send(server, &sent, UINT64_MAX);
		two_run(&t, MS);
		pat_recv(client, &got, r->cc);
		us_tcp_info(server, &ti);
		if (!drop->dropped && !drop->armed && ti.snd_cwnd >= 300 * ti.snd_mss)
			drop->armed = true;
		if (ti.snd_ssthresh == UINT32_MAX)
			r->cwnd_at_loss = ti.snd_cwnd; /* still in slow start */
		else if (!r->ssthresh)
			r->ssthresh = ti.snd_ssthresh;
		if (!drop->dropped)
			continue;
		if (!bin_start) {
			bin_start = drop->drop_ns;
			bin_bytes0 = bdev->stats.rx_bytes;
		}
		if (now + MS - bin_start < BIN_NS)
			continue;
		{
			/* a bin is over: its utilisation */
			uint64_t bytes = bdev->stats.rx_bytes - bin_bytes0;
			double util = (double)bytes * 8 / ((double)RATE_BPS * BIN_NS / SEC);

			if (bins < 30)
				r->util_after[bins / 10] += util / 10;
			bins++;
			bin_start += BIN_NS;
			bin_bytes0 = bdev->stats.rx_bytes;
			if (util >= 0.9) {
				if (full_bins++ == 0)
					run_start = bin_start - BIN_NS;
			} else {
				full_bins = 0;
			}
			if (full_bins == SUSTAIN_BINS && !found) {
				found = true;
				r->reach_ns = run_start - drop->drop_ns;
				end = bin_start + 2 * SEC; /* a little more, to see it hold */
			}
			if (!found && bin_start - drop->drop_ns >= HORIZON_NS) {
				r->reach_ns = HORIZON_NS;
				break;
			}
			if (found && bin_start >= end && bins >= 30)
				break;
		}
	}
	r->bytes = got;
	ck_assert_uint_eq(drop->dropped, 1);
	{
		struct netdev_fault_stats rx, tx;

		/* the forced drop was the only loss: the link's queue never overflowed, no timeout */
		ck_assert_int_eq(netdev_fault_get_stats(us_stack_netdev(t.a, 1)->lower, &rx, &tx), 0);
		ck_assert_uint_eq(rx.queue_dropped + tx.queue_dropped, 0);
		ck_assert_int_eq(us_stats_get(t.a, "TcpExt", "TCPTimeouts"), 0);
		ck_assert_int_ge(us_stats_get(t.a, "Tcp", "RetransSegs"), 1);
	}
	us_tcp_abort(server); /* and freed: an abort is a close */
	us_tcp_close(client);
	us_tcp_close(l);
	two_run(&t, SEC);
	two_down(&t);
}

/* After one loss near the end of slow start, CUBIC's link is back at 90 % utilisation sooner than
 * NewReno's (RFC 9438 §1: it "quickly" regains the bandwidth where Reno takes one segment per RTT).
 * On this path NewReno needs about 150 round trips from half its window; CUBIC starts from 0.7 of
 * it and follows the concave cubic up. */
START_TEST(test_cubic_regains_link_sooner)
{
	struct run cubic = { .cc = "cubic" }, newreno = { .cc = "newreno" };

	bulk(&cubic);
	bulk(&newreno);
	printf("100 Mbit/s, 50 ms RTT, one loss at a window of %u (cubic) / %u (newreno) bytes:\n",
	       cubic.cwnd_at_loss, newreno.cwnd_at_loss);
	printf("  cubic:   ssthresh %7u bytes, 90 %% utilisation %.2f s after the loss "
	       "(%.0f %%, %.0f %%, %.0f %% in seconds 1-3)\n",
	       cubic.ssthresh, (double)cubic.reach_ns / 1e9, cubic.util_after[0] * 100,
	       cubic.util_after[1] * 100, cubic.util_after[2] * 100);
	printf("  newreno: ssthresh %7u bytes, 90 %% utilisation %.2f s after the loss "
	       "(%.0f %%, %.0f %%, %.0f %% in seconds 1-3)\n",
	       newreno.ssthresh, (double)newreno.reach_ns / 1e9, newreno.util_after[0] * 100,
	       newreno.util_after[1] * 100, newreno.util_after[2] * 100);
	ck_assert_uint_lt(cubic.reach_ns, HORIZON_NS);
	ck_assert_uint_lt(newreno.reach_ns, HORIZON_NS);
	ck_assert_uint_lt(cubic.reach_ns, newreno.reach_ns);
	/* the decrease: beta_cubic = 0.7 of the window (RFC 9438 §4.6), half the flight for NewReno */
	ck_assert_uint_gt(cubic.ssthresh, newreno.ssthresh);
}
END_TEST

/* ---- RACK-TLP (RFC 8985) on and off through a lossy LAN ---- */

#define LAN_ONE_WAY_NS (50 * US_NSEC_PER_USEC) /* 0.1 ms RTT, as TAP to the kernel */
#define LAN_RATE_BPS 1000000000ull
#define LAN_BYTES (20u << 20)

struct lan_run {
	uint64_t ns;				 /* the transfer's virtual time */
	int64_t rtos, retrans, probes, probe_fixes, recoveries;
	uint64_t dropped;			 /* frames the wrapper dropped, both ways */
};

/* LAN_BYTES a -> b through a 1 Gbit/s link of 0.1 ms RTT that drops `loss` of the frames each way,
 * every byte checked; a's loss detection as tcp_recovery says (b, the receiver, as the default). */
static void lan_transfer(double loss, uint32_t recovery, struct lan_run *r)
{
	struct netdev_fault_config fc = { .seed = 3, .drop = loss, .latency_ns = LAN_ONE_WAY_NS,
					  .rate_bps = LAN_RATE_BPS, .queue_frames = 1000 };
	struct us_stack_config ca = { .tcp_rmem = 1u << 20, .tcp_wmem = 1u << 20, .tcp_recovery = recovery };
	struct us_stack_config cb = { .tcp_rmem = 1u << 20, .tcp_wmem = 1u << 20 };
	struct two_opts o = { .cfg_a = &ca, .cfg_b = &cb, .wrap = lan_wrap, .arg = &fc };
	struct netdev_fault_stats rx, tx;
	struct us_tcp *l, *snd, *rcv = NULL;
	uint64_t sent = 0, got = 0, start;
	struct two t;
	int err;

	pat_init();
	two_up_opts(&t, &o);
	l = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_bind(l, 0, 5001), 0);
	ck_assert_int_eq(us_tcp_listen(l, 1), 0);
	snd = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_connect(snd, B_IP, 5001), -EINPROGRESS);
	/* the handshake may lose a segment too: as long as its retransmissions take */
	for (int i = 0; i < 600 && !rcv; i++) {
		two_run(&t, 100 * MS);
		rcv = us_tcp_accept(l, &err);
	}
	ck_assert_ptr_nonnull(rcv);
	start = us_clock_now(&t.clock);
	for (long step = 0; got < LAN_BYTES; step++) {
		pat_send(snd, &sent, LAN_BYTES);
		two_run(&t, MS);
		pat_recv(rcv, &got, "lan");
		ck_assert_msg(step < 3600000, "stalled at %llu of %u bytes", (unsigned long long)got, LAN_BYTES);
	}
	r->ns = us_clock_now(&t.clock) - start;
	r->rtos = us_stats_get(t.a, "TcpExt", "TCPTimeouts");
	r->retrans = us_stats_get(t.a, "Tcp", "RetransSegs");
	r->probes = us_stats_get(t.a, "TcpExt", "TCPLossProbes");
	r->probe_fixes = us_stats_get(t.a, "TcpExt", "TCPLossProbeRecovery");
	r->recoveries = us_stats_get(t.a, "TcpExt", "TCPSackRecovery");
	ck_assert_int_eq(netdev_fault_get_stats(us_stack_netdev(t.a, 1), &rx, &tx), 0);
	r->dropped = rx.dropped + tx.dropped;
	us_tcp_abort(snd);
	us_tcp_abort(rcv);
	us_tcp_close(l);
	two_run(&t, SEC);
	two_down(&t);
}

/* RFC 8985 against RFC 6675 alone, the same 20 MB at 1 % and 5 % random loss (both directions, so
 * ACKs too) on a 0.1 ms RTT: with RACK-TLP the sender needs fewer retransmission timeouts - a lost
 * retransmission is found when a later segment is SACKed, a lost tail or last ACK by a probe two
 * round trips on, a loss at a small window without three duplicate ACKs - and so less time; without
 * it, it sends no probe. (At the time of writing: 1 %: 0.23 s and 0 timeouts against 0.42 s and 1;
 * 5 %: 0.77 s and 1 against 8.81 s and 39.) */
START_TEST(test_rack_tlp_fewer_timeouts)
{
	static const double rates[] = { 0.01, 0.05 };

	for (int i = 0; i < 2; i++) {
		struct lan_run on, off;

		lan_transfer(rates[i], 0, &on);
		lan_transfer(rates[i], US_TCP_RECOVERY_ONLY, &off);
		printf("20 MB at %.0f %% loss, 0.1 ms RTT: RACK-TLP %.2f s, %lld timeouts, %lld retransmissions, "
		       "%lld probes (%lld repaired alone), %lld recoveries; RFC 6675 alone %.2f s, %lld timeouts, "
		       "%lld retransmissions, %lld recoveries (%llu and %llu frames dropped)\n",
		       rates[i] * 100, (double)on.ns / 1e9, (long long)on.rtos, (long long)on.retrans,
		       (long long)on.probes, (long long)on.probe_fixes, (long long)on.recoveries,
		       (double)off.ns / 1e9, (long long)off.rtos, (long long)off.retrans,
		       (long long)off.recoveries, (unsigned long long)on.dropped,
		       (unsigned long long)off.dropped);
		fflush(stdout);
		ck_assert_int_lt(on.rtos, off.rtos);
		ck_assert_uint_lt(on.ns, off.ns);
		ck_assert_int_eq(off.probes, 0);
		if (rates[i] >= 0.05)
			ck_assert_int_gt(on.probes, 0); /* at 5 % some tails and last ACKs are lost */
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_cc_scenario");
	TCase *tc = test_tcase("tcp_cc_scenario");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_cubic_regains_link_sooner);
	tcase_add_test(tc, test_rack_tlp_fewer_timeouts);
	suite_add_tcase(s, tc);
	return test_run(s);
}
