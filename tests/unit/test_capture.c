/*
 * test_capture.c - the capture wrapper: traffic flows through unchanged in both directions, and the
 * pcap file holds every frame of both, in order, with the clock's times.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

/* Frames sent and received through a capture-wrapped pair end reach their destination and all land in
 * the capture file in the order they crossed the wrapper. */
START_TEST(test_capture_both_directions)
{
	struct netdev_pair_config cfg = { 0 };
	struct netdev *a, *b, *cap;
	struct sk_buff *got;
	char path[] = "/tmp/ustack-capture-XXXXXX";
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *bytes;
	uint64_t t0 = us_clock_now(&t_clock);
	pcap_t *rd;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	cfg.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock, .name = "cap0",
					.mac = { 2, 0, 0, 0, 0, 0xa }, .mtu = 9000 };
	cfg.b = (struct netdev_config){ .pool = t_pool, .clock = &t_clock };
	ck_assert_int_eq(netdev_pair_create(&cfg, &a, &b), 0);
	cap = netdev_capture_wrap(a, path);
	ck_assert_ptr_nonnull(cap);
	/* the wrapper looks like the device it wraps */
	ck_assert_str_eq(cap->name, "cap0");
	ck_assert_mem_eq(cap->mac, a->mac, ETH_ALEN);
	ck_assert_uint_eq(cap->mtu, 9000);
	ck_assert_ptr_eq(cap->lower, a);

	netdev_xmit(cap, test_frame(t_pool, 100, 1)); /* out through the wrapper */
	netdev_flush(cap);
	ck_assert_int_eq(netdev_poll(b, 8), 1);
	ck_assert_uint_eq(netdev_rx_burst(b, &got, 1), 1);
	ck_assert(test_frame_is(got, 100, 1));
	skb_free(got);

	us_clock_advance(&t_clock, 2 * US_NSEC_PER_MSEC);
	netdev_xmit(b, test_frame(t_pool, 200, 2)); /* in through the wrapper */
	netdev_flush(b);
	ck_assert_int_eq(netdev_poll(cap, 8), 1);
	ck_assert_uint_eq(netdev_rx_burst(cap, &got, 1), 1);
	ck_assert(test_frame_is(got, 200, 2));
	ck_assert_ptr_eq(got->dev, cap);
	skb_free(got);
	ck_assert_uint_eq(cap->stats.rx_packets, 1);
	ck_assert_uint_eq(cap->stats.tx_packets, 1);
	netdev_close(cap); /* closes a as well */
	netdev_close(b);

	rd = pcap_open_offline(path, err);
	ck_assert_ptr_nonnull(rd);
	ck_assert_int_eq(pcap_next_ex(rd, &h, &bytes), 1);
	ck_assert_uint_eq(h->len, 100);
	ck_assert_uint_eq(bytes[ETH_HLEN], (uint8_t)(1 + ETH_HLEN));
	ck_assert_uint_eq((uint64_t)h->ts.tv_sec * US_NSEC_PER_SEC + (uint64_t)h->ts.tv_usec * 1000, t0);
	ck_assert_int_eq(pcap_next_ex(rd, &h, &bytes), 1);
	ck_assert_uint_eq(h->len, 200);
	ck_assert_uint_eq(bytes[ETH_HLEN], (uint8_t)(2 + ETH_HLEN));
	ck_assert_uint_eq((uint64_t)h->ts.tv_sec * US_NSEC_PER_SEC + (uint64_t)h->ts.tv_usec * 1000,
			  t0 + 2 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(pcap_next_ex(rd, &h, &bytes), PCAP_ERROR_BREAK);
	pcap_close(rd);
	unlink(path);
}
END_TEST

/* A capture file that cannot be created fails the wrap; the caller still owns the device. */
START_TEST(test_capture_bad_path)
{
	struct netdev_pair_config cfg = { 0 };
	struct netdev *a, *b;

	cfg.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock };
	cfg.b = cfg.a;
	ck_assert_int_eq(netdev_pair_create(&cfg, &a, &b), 0);
	errno = 0;
	ck_assert_ptr_null(netdev_capture_wrap(a, "/nonexistent/dir/x.pcap"));
	ck_assert_int_ne(errno, 0);
	errno = 0;
	ck_assert_ptr_null(netdev_capture_wrap(a, NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(netdev_capture_wrap(NULL, "/tmp/x.pcap"));
	/* a is still usable */
	netdev_xmit(a, test_frame(t_pool, 60, 0));
	netdev_flush(a);
	ck_assert_uint_eq(a->stats.tx_packets, 1);
	netdev_close(a);
	netdev_close(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = test_tcase("capture");

	tcase_add_test(tc, test_capture_both_directions);
	tcase_add_test(tc, test_capture_bad_path);
	suite_add_tcase(s, tc);
	return test_run(s);
}
