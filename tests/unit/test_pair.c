/*
 * test_pair.c - the in-memory wire, and through it the generic device paths every backend shares:
 * the RX ring and its budget, the TX ring and its flush, limits and their counters, closing.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static struct netdev *pa, *pb;

static void pair_open(uint32_t ring, uint32_t wire)
{
	struct netdev_pair_config cfg = { .wire_capacity = wire };

	cfg.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock, .name = "pa",
					.mac = { 2, 0, 0, 0, 0, 0xa }, .rx_ring_size = ring,
					.tx_ring_size = ring };
	cfg.b = cfg.a;
	cfg.b.name = "pb";
	cfg.b.mac[5] = 0xb;
	ck_assert_int_eq(netdev_pair_create(&cfg, &pa, &pb), 0);
}

static void pair_close_both(void)
{
	netdev_close(pa);
	netdev_close(pb);
	pa = pb = NULL;
}

/* A frame sent on one end arrives on the other byte for byte, with the receiving device and the
 * clock's time set (a copy in the receiver's own pool: test_pair_two_pools). */
START_TEST(test_pair_delivers)
{
	struct sk_buff *skb, *got[4];

	pair_open(0, 0);
	ck_assert_str_eq(pa->name, "pa");
	ck_assert_uint_eq(pa->mtu, 1500);
	ck_assert_uint_eq(pb->mac[5], 0xb);
	skb = test_frame(t_pool, 100, 7);
	ck_assert_int_eq(netdev_xmit(pa, skb), 0);
	/* nothing moves until the TX ring is flushed */
	ck_assert_int_eq(netdev_poll(pb, 16), 0);
	ck_assert_uint_eq(netdev_next_deadline(pb), US_TIME_NEVER);
	ck_assert_uint_eq(netdev_flush(pa), 1);
	ck_assert_uint_eq(netdev_next_deadline(pb), 0);
	ck_assert_int_eq(netdev_poll(pb, 16), 1);
	ck_assert_uint_eq(netdev_rx_burst(pb, got, 4), 1);
	ck_assert(test_frame_is(got[0], 100, 7));
	ck_assert_ptr_eq(got[0]->dev, pb);
	ck_assert_uint_eq(got[0]->tstamp_ns, us_clock_now(&t_clock));
	ck_assert_uint_ge(skb_headroom(got[0]), SKB_MAX_HEADER);
	ck_assert_uint_eq(pa->stats.tx_packets, 1);
	ck_assert_uint_eq(pa->stats.tx_bytes, 100);
	ck_assert_uint_eq(pb->stats.rx_packets, 1);
	ck_assert_uint_eq(pb->stats.rx_bytes, 100);
	skb_free(got[0]);
	pair_close_both();
}
END_TEST

/* Frames keep their order and poll takes at most its budget per call. */
START_TEST(test_pair_budget_and_order)
{
	struct sk_buff *got[64];
	uint32_t n = 0;

	pair_open(0, 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(netdev_xmit(pb, test_frame(t_pool, 60 + i, (uint8_t)i)), 0);
	netdev_flush(pb);
	ck_assert_int_eq(netdev_poll(pa, 8), 8);
	ck_assert_int_eq(netdev_poll(pa, 0), 0);
	ck_assert_int_eq(netdev_poll(pa, 100), 42);
	ck_assert_int_eq(netdev_poll(pa, 100), 0);
	n = netdev_rx_burst(pa, got, 64);
	ck_assert_uint_eq(n, 50);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert(test_frame_is(got[i], 60 + i, (uint8_t)i));
		skb_free(got[i]);
	}
	pair_close_both();
}
END_TEST

/* A poll never takes more than the RX ring has room for; what stays on the wire waits. */
START_TEST(test_pair_rx_ring_room)
{
	struct sk_buff *got[8];

	pair_open(4, 0);
	for (int i = 0; i < 6; i++)
		netdev_xmit(pa, test_frame(t_pool, 64, (uint8_t)i));
	netdev_flush(pa);
	ck_assert_int_eq(netdev_poll(pb, 64), 4);
	ck_assert_int_eq(netdev_poll(pb, 64), 0);
	ck_assert_uint_eq(pb->stats.rx_ring_full, 0);
	ck_assert_uint_eq(netdev_rx_burst(pb, got, 8), 4);
	for (int i = 0; i < 4; i++)
		skb_free(got[i]);
	ck_assert_int_eq(netdev_poll(pb, 64), 2);
	ck_assert_uint_eq(netdev_rx_burst(pb, got, 8), 2);
	ck_assert(test_frame_is(got[1], 64, 5));
	skb_free(got[0]);
	skb_free(got[1]);
	pair_close_both();
}
END_TEST

/* A backend delivering to a full RX ring drops and counts; netdev_rx_deliver says -ENOBUFS. */
START_TEST(test_rx_deliver_ring_full)
{
	pair_open(2, 0);
	ck_assert_int_eq(netdev_rx_deliver(pa, test_frame(t_pool, 60, 0)), 0);
	ck_assert_int_eq(netdev_rx_deliver(pa, test_frame(t_pool, 60, 1)), 0);
	ck_assert_int_eq(netdev_rx_deliver(pa, test_frame(t_pool, 60, 2)), -ENOBUFS);
	ck_assert_uint_eq(pa->stats.rx_ring_full, 1);
	ck_assert_uint_eq(pa->stats.rx_packets, 2);
	/* closing a device frees what is still on its rings */
	pair_close_both();
}
END_TEST

/* A full TX ring is flushed to make room; frames are never lost while the backend takes them. */
START_TEST(test_tx_ring_flushes_when_full)
{
	pair_open(4, 0);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(netdev_xmit(pa, test_frame(t_pool, 60, (uint8_t)i)), 0);
	ck_assert_uint_eq(pa->stats.tx_ring_full, 0);
	ck_assert_uint_eq(netdev_flush(pa), 2);
	ck_assert_uint_eq(pa->stats.tx_packets, 10);
	pair_close_both();
}
END_TEST

/* The wire holds at most wire_capacity frames per direction; the excess is dropped and counted. */
START_TEST(test_pair_wire_capacity)
{
	pair_open(0, 3);
	for (int i = 0; i < 5; i++)
		netdev_xmit(pa, test_frame(t_pool, 60, (uint8_t)i));
	netdev_flush(pa);
	ck_assert_uint_eq(pa->stats.tx_packets, 3);
	ck_assert_uint_eq(pa->stats.tx_dropped, 2);
	ck_assert_int_eq(netdev_poll(pb, 64), 3);
	pair_close_both();
}
END_TEST

/* Frames longer than the MTU allows, or shorter than an Ethernet header, are transmit errors. */
START_TEST(test_pair_bad_lengths)
{
	pair_open(0, 0);
	netdev_xmit(pa, test_frame(t_pool, 1500 + ETH_HLEN + ETH_VLAN_HLEN + 1, 0));
	netdev_xmit(pa, test_frame(t_pool, 1500 + ETH_HLEN + ETH_VLAN_HLEN, 0));
	netdev_flush(pa);
	ck_assert_uint_eq(pa->stats.tx_errors, 1);
	ck_assert_uint_eq(pa->stats.tx_packets, 1);
	pair_close_both();
}
END_TEST

/* Each end receives into its own pool, so two stacks keep separate accounts; a receiver whose pool
 * is exhausted loses the frame and counts rx_dropped. */
START_TEST(test_pair_two_pools)
{
	struct skb_pool_config small = { .max_skbs = 1 };
	struct skb_pool *pool_b = skb_pool_create(&small);
	struct netdev_pair_config cfg = { 0 };
	struct sk_buff *got;

	cfg.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock };
	cfg.b = (struct netdev_config){ .pool = pool_b, .clock = &t_clock };
	ck_assert_int_eq(netdev_pair_create(&cfg, &pa, &pb), 0);
	/* random MACs are unicast and locally administered */
	ck_assert_uint_eq(pa->mac[0] & 0x03, 0x02);
	netdev_xmit(pa, test_frame(t_pool, 80, 1));
	netdev_xmit(pa, test_frame(t_pool, 80, 2));
	netdev_flush(pa);
	/* on the wire the frames belong to neither pool; the receiver copies them in when it polls */
	ck_assert_uint_eq(skb_pool_in_use(t_pool), 0);
	ck_assert_uint_eq(skb_pool_in_use(pool_b), 0);
	ck_assert_int_eq(netdev_poll(pb, 8), 1);
	ck_assert_uint_eq(skb_pool_in_use(pool_b), 1);
	ck_assert_uint_eq(pb->stats.rx_dropped, 1);
	ck_assert_uint_eq(netdev_rx_burst(pb, &got, 1), 1);
	ck_assert_ptr_eq(got->pool, pool_b);
	ck_assert(test_frame_is(got, 80, 1));
	skb_free(got);
	pair_close_both();
	ck_assert_uint_eq(skb_pool_destroy(pool_b), 0);
}
END_TEST

/* An end's fd (an eventfd) becomes readable when frames reach it, and is quiet once polled. */
START_TEST(test_pair_fd_wakes)
{
	struct pollfd pfd;
	struct sk_buff *got;

	pair_open(0, 0);
	pfd = (struct pollfd){ .fd = netdev_fd(pb), .events = POLLIN };
	ck_assert_int_ge(pfd.fd, 0);
	ck_assert_int_eq(netdev_fd(pb), pfd.fd); /* one fd per end, made once */
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	netdev_xmit(pa, test_frame(t_pool, 60, 1));
	netdev_flush(pa);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(netdev_poll(pb, 8), 1);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_uint_eq(netdev_rx_burst(pb, &got, 1), 1);
	skb_free(got);
	pair_close_both();
}
END_TEST

/* Two threads, one per end, each with its own pool (as two started stacks): 200,000 frames cross
 * in order on a wire long enough to hold them all, none lost, the receiver sleeping in poll(2) on its fd between bursts. */
#define XTHREAD_FRAMES 200000u

struct xthread {
	struct netdev *dev;
	struct skb_pool *pool;
};

static void *xthread_send(void *arg)
{
	struct xthread *x = arg;

	for (uint32_t i = 0; i < XTHREAD_FRAMES;) {
		struct sk_buff *skb = skb_alloc(x->pool, 128);

		if (!skb) {
			netdev_flush(x->dev);
			continue;
		}
		memset(skb_put(skb, 64), 0, 64);
		memcpy(skb->data, &i, sizeof(i));
		netdev_xmit(x->dev, skb);
		if (++i % 32 == 0)
			netdev_flush(x->dev);
	}
	netdev_flush(x->dev);
	return NULL;
}

START_TEST(test_pair_two_threads)
{
	struct skb_pool *pool_a = skb_pool_create(NULL), *pool_b = skb_pool_create(NULL);
	struct netdev_pair_config cfg = { .wire_capacity = 1u << 20 };
	struct xthread x;
	struct sk_buff *got[64];
	struct pollfd pfd;
	pthread_t th;
	uint32_t next = 0, n;
	int idle = 0;

	cfg.a = (struct netdev_config){ .pool = pool_a, .clock = &t_clock };
	cfg.b = (struct netdev_config){ .pool = pool_b, .clock = &t_clock };
	ck_assert_int_eq(netdev_pair_create(&cfg, &pa, &pb), 0);
	pfd = (struct pollfd){ .fd = netdev_fd(pb), .events = POLLIN };
	x = (struct xthread){ .dev = pa, .pool = pool_a };
	ck_assert_int_eq(pthread_create(&th, NULL, xthread_send, &x), 0);
	while (next < XTHREAD_FRAMES && idle < 50) {
		if (poll(&pfd, 1, 100) == 0) {
			idle++; /* 5 s without a frame ends the test as a failure */
			continue;
		}
		idle = 0;
		netdev_poll(pb, 64);
		while ((n = netdev_rx_burst(pb, got, 64)) > 0) {
			for (uint32_t k = 0; k < n; k++) {
				uint32_t v;
				memcpy(&v, got[k]->data, sizeof(v));
				ck_assert_uint_eq(v, next);
				next++;
				skb_free(got[k]);
			}
			netdev_poll(pb, 64);
		}
	}
	pthread_join(th, NULL);
	ck_assert_uint_eq(next, XTHREAD_FRAMES);
	ck_assert_uint_eq(pa->stats.tx_dropped, 0);
	pair_close_both();
	ck_assert_uint_eq(skb_pool_destroy(pool_a), 0);
	ck_assert_uint_eq(skb_pool_destroy(pool_b), 0);
}
END_TEST

/* Closing one end frees the frames on their way to it; the other end then sends into nothing. */
START_TEST(test_pair_close_one_end)
{
	pair_open(0, 0);
	netdev_xmit(pa, test_frame(t_pool, 60, 1));
	netdev_flush(pa);
	netdev_close(pb);
	pb = NULL;
	netdev_xmit(pa, test_frame(t_pool, 60, 2));
	netdev_flush(pa);
	ck_assert_uint_eq(pa->stats.tx_dropped, 1);
	netdev_close(pa);
	netdev_close(NULL);
	pa = NULL;
}
END_TEST

/* Bad arguments are refused with EINVAL. */
START_TEST(test_pair_bad_args)
{
	struct netdev_pair_config cfg = { 0 };
	struct netdev *a, *b;

	ck_assert_int_eq(netdev_pair_create(NULL, &a, &b), -EINVAL);
	ck_assert_int_eq(netdev_pair_create(&cfg, &a, &b), -EINVAL); /* no pool, no clock */
	cfg.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock, .rx_ring_size = 3 };
	cfg.b = (struct netdev_config){ .pool = t_pool, .clock = &t_clock };
	ck_assert_int_eq(netdev_pair_create(&cfg, &a, &b), -EINVAL); /* ring not a power of two */
	cfg.a.rx_ring_size = 0;
	cfg.b.tx_ring_size = 5;
	ck_assert_int_eq(netdev_pair_create(&cfg, &a, &b), -EINVAL);
}
END_TEST

/* MAC parsing accepts exactly six hex octets. */
START_TEST(test_parse_mac)
{
	uint8_t m[6];
	static const uint8_t want[6] = { 0x02, 0xab, 0, 0x10, 0xff, 0x9 };

	ck_assert_int_eq(netdev_parse_mac("02:ab:00:10:ff:09", m), 0);
	ck_assert_mem_eq(m, want, 6);
	ck_assert_int_eq(netdev_parse_mac("02:ab:00:10:ff", m), -EINVAL);
	ck_assert_int_eq(netdev_parse_mac("02:ab:00:10:ff:09:77", m), -EINVAL);
	ck_assert_int_eq(netdev_parse_mac("zz:ab:00:10:ff:09", m), -EINVAL);
	ck_assert_int_eq(netdev_parse_mac(NULL, m), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pair");
	TCase *tc = test_tcase("pair");

	tcase_add_test(tc, test_pair_delivers);
	tcase_add_test(tc, test_pair_budget_and_order);
	tcase_add_test(tc, test_pair_rx_ring_room);
	tcase_add_test(tc, test_rx_deliver_ring_full);
	tcase_add_test(tc, test_tx_ring_flushes_when_full);
	tcase_add_test(tc, test_pair_wire_capacity);
	tcase_add_test(tc, test_pair_fd_wakes);
	tcase_add_test(tc, test_pair_two_threads);
	tcase_add_test(tc, test_pair_bad_lengths);
	tcase_add_test(tc, test_pair_two_pools);
	tcase_add_test(tc, test_pair_close_one_end);
	tcase_add_test(tc, test_pair_bad_args);
	tcase_add_test(tc, test_parse_mac);
	suite_add_tcase(s, tc);
	return test_run(s);
}
