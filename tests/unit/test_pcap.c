/*
 * test_pcap.c - the pcap device: replay as fast as polled and on the clock, bad frames in the file,
 * files it must refuse, and recording what is sent into a file that libpcap and tshark read back.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static char in_path[64], out_path[64];

static void tmp_paths(void)
{
	int fd;

	strcpy(in_path, "/tmp/ustack-pcap-in-XXXXXX");
	fd = mkstemp(in_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	strcpy(out_path, "/tmp/ustack-pcap-out-XXXXXX");
	fd = mkstemp(out_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void rm_paths(void)
{
	unlink(in_path);
	unlink(out_path);
}

struct frame_spec {
	uint64_t ts_us;	 /* capture time, microseconds */
	uint32_t len;	 /* bytes on the wire */
	uint32_t caplen; /* bytes captured; 0: len */
	uint8_t seq;
};

/* Write an input file with libpcap itself, independently of the code under test. */
static void write_pcap(const char *path, int linktype, const struct frame_spec *f, int n)
{
	pcap_t *dead = pcap_open_dead(linktype, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	uint8_t buf[4096];

	ck_assert_ptr_nonnull(d);
	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .caplen = f[i].caplen ? f[i].caplen : f[i].len, .len = f[i].len };
		h.ts.tv_sec = (time_t)(f[i].ts_us / 1000000);
		h.ts.tv_usec = (suseconds_t)(f[i].ts_us % 1000000);
		for (uint32_t k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)(f[i].seq + k);
		pcap_dump((u_char *)d, &h, buf);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

static struct netdev *open_pcap(const char *in, const char *out, enum netdev_pcap_timing timing)
{
	struct netdev_pcap_config cfg = { .in_path = in, .out_path = out, .timing = timing };

	cfg.base = (struct netdev_config){ .pool = t_pool, .clock = &t_clock,
					   .mac = { 2, 0, 0, 0, 0, 1 } };
	return netdev_pcap_open(&cfg);
}

static uint32_t drain(struct netdev *dev, struct sk_buff **got, uint32_t max)
{
	return netdev_rx_burst(dev, got, max);
}

/* ASAP: every frame is received in file order, bytes exact, at most `budget` per poll. */
START_TEST(test_pcap_replay_asap)
{
	const struct frame_spec f[] = { { 1000, 60, 0, 1 }, { 2000, 1514, 0, 2 }, { 1500, 100, 0, 3 },
					{ 9000, 64, 0, 4 }, { 9001, 200, 0, 5 } };
	struct sk_buff *got[8];
	struct netdev *dev;
	uint64_t t;

	tmp_paths();
	write_pcap(in_path, DLT_EN10MB, f, 5);
	dev = open_pcap(in_path, NULL, NETDEV_PCAP_ASAP);
	ck_assert_ptr_nonnull(dev);
	ck_assert(!netdev_pcap_eof(dev));
	ck_assert_uint_eq(netdev_next_deadline(dev), 0);
	ck_assert_int_eq(netdev_poll(dev, 2), 2);
	ck_assert_int_eq(netdev_poll(dev, 10), 3);
	ck_assert(netdev_pcap_eof(dev));
	ck_assert_int_eq(netdev_pcap_next_time(dev, &t), -ENOENT);
	ck_assert_uint_eq(netdev_next_deadline(dev), US_TIME_NEVER);
	ck_assert_int_eq(netdev_poll(dev, 10), 0);
	ck_assert_uint_eq(drain(dev, got, 8), 5);
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(got[i]->len, f[i].len);
		for (uint32_t k = 0; k < f[i].len; k++)
			ck_assert_uint_eq(got[i]->data[k], (uint8_t)(f[i].seq + k));
		ck_assert_uint_eq(got[i]->tstamp_ns, us_clock_now(&t_clock));
		skb_free(got[i]);
	}
	ck_assert_uint_eq(dev->stats.rx_packets, 5);
	ck_assert_uint_eq(dev->stats.rx_bytes, 60 + 1514 + 100 + 64 + 200);
	netdev_close(dev);
	rm_paths();
}
END_TEST

/* TIMED: a frame arrives when the clock reaches open time + its offset from the first frame, and
 * carries that time; a timestamp earlier than the first is due at once. */
START_TEST(test_pcap_replay_timed)
{
	const struct frame_spec f[] = { { 5000000, 60, 0, 1 }, { 5001000, 60, 0, 2 },
					{ 5001000, 60, 0, 3 }, { 4000000, 60, 0, 4 },
					{ 5250000, 60, 0, 5 } };
	uint64_t t0 = us_clock_now(&t_clock), t;
	struct sk_buff *got[8];
	struct netdev *dev;

	tmp_paths();
	write_pcap(in_path, DLT_EN10MB, f, 5);
	dev = open_pcap(in_path, NULL, NETDEV_PCAP_TIMED);
	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(netdev_poll(dev, 10), 1);
	ck_assert_int_eq(netdev_pcap_next_time(dev, &t), 0);
	ck_assert_uint_eq(t, t0 + US_NSEC_PER_MSEC);
	ck_assert_uint_eq(netdev_next_deadline(dev), t0 + US_NSEC_PER_MSEC);
	us_clock_set(&t_clock, t0 + US_NSEC_PER_MSEC - 1);
	ck_assert_int_eq(netdev_poll(dev, 10), 0);
	us_clock_set(&t_clock, t0 + US_NSEC_PER_MSEC);
	/* two frames at 1 ms, then the one stamped before the first */
	ck_assert_int_eq(netdev_poll(dev, 10), 3);
	ck_assert_int_eq(netdev_pcap_next_time(dev, &t), 0);
	ck_assert_uint_eq(t, t0 + 250 * US_NSEC_PER_MSEC);
	us_clock_set(&t_clock, t0 + 300 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(netdev_poll(dev, 10), 1);
	ck_assert(netdev_pcap_eof(dev));
	ck_assert_uint_eq(drain(dev, got, 8), 5);
	ck_assert_uint_eq(got[0]->tstamp_ns, t0);
	ck_assert_uint_eq(got[1]->tstamp_ns, t0 + US_NSEC_PER_MSEC);
	ck_assert_uint_eq(got[2]->tstamp_ns, t0 + US_NSEC_PER_MSEC);
	ck_assert_uint_eq(got[3]->tstamp_ns, t0);
	ck_assert_uint_eq(got[4]->tstamp_ns, t0 + 250 * US_NSEC_PER_MSEC);
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(got[i]->data[ETH_HLEN], (uint8_t)(f[i].seq + ETH_HLEN));
		skb_free(got[i]);
	}
	netdev_close(dev);
	rm_paths();
}
END_TEST

/* Runts, frames longer than the MTU allows and frames cut short by the snap length are counted as
 * receive errors and skipped; the good frames around them still arrive. */
START_TEST(test_pcap_bad_frames)
{
	const struct frame_spec f[] = { { 1, 13, 0, 1 },  { 2, 60, 0, 2 },   { 3, 1519, 0, 3 },
					{ 4, 1518, 0, 4 }, { 5, 300, 100, 5 }, { 6, 0, 0, 6 } };
	struct sk_buff *got[8];
	struct netdev *dev;

	tmp_paths();
	write_pcap(in_path, DLT_EN10MB, f, 6);
	dev = open_pcap(in_path, NULL, NETDEV_PCAP_ASAP);
	ck_assert_int_eq(netdev_poll(dev, 10), 2);
	ck_assert_uint_eq(dev->stats.rx_errors, 4);
	ck_assert_uint_eq(drain(dev, got, 8), 2);
	ck_assert_uint_eq(got[0]->len, 60);
	ck_assert_uint_eq(got[1]->len, 1518); /* MTU 1500 + Ethernet header + one VLAN tag */
	skb_free(got[0]);
	skb_free(got[1]);
	netdev_close(dev);
	rm_paths();
}
END_TEST

/* A pool with no buffers left drops frames and counts rx_dropped, without leaking. */
START_TEST(test_pcap_pool_exhausted)
{
	const struct frame_spec f[] = { { 1, 60, 0, 1 }, { 2, 60, 0, 2 }, { 3, 60, 0, 3 } };
	struct skb_pool_config pc = { .max_skbs = 1 };
	struct skb_pool *small = skb_pool_create(&pc);
	struct netdev_pcap_config cfg = { .in_path = in_path };
	struct netdev *dev;

	tmp_paths();
	write_pcap(in_path, DLT_EN10MB, f, 3);
	cfg.base = (struct netdev_config){ .pool = small, .clock = &t_clock };
	dev = netdev_pcap_open(&cfg);
	ck_assert_int_eq(netdev_poll(dev, 10), 1);
	ck_assert_uint_eq(dev->stats.rx_dropped, 2);
	netdev_close(dev);
	ck_assert_uint_eq(skb_pool_destroy(small), 0);
	rm_paths();
}
END_TEST

/* Files that cannot be replayed are refused at open with a telling errno. */
START_TEST(test_pcap_refused)
{
	const struct frame_spec f[] = { { 1, 60, 0, 1 } };
	FILE *fp;

	tmp_paths();
	errno = 0;
	ck_assert_ptr_null(open_pcap("/nonexistent/ustack.pcap", NULL, NETDEV_PCAP_ASAP));
	ck_assert_int_eq(errno, ENOENT);
	write_pcap(in_path, DLT_RAW, f, 1);
	errno = 0;
	ck_assert_ptr_null(open_pcap(in_path, NULL, NETDEV_PCAP_ASAP));
	ck_assert_int_eq(errno, EPROTONOSUPPORT);
	fp = fopen(in_path, "w");
	fputs("this is not a capture file\n", fp);
	fclose(fp);
	errno = 0;
	ck_assert_ptr_null(open_pcap(in_path, NULL, NETDEV_PCAP_ASAP));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(open_pcap(NULL, "/nonexistent/dir/out.pcap", NETDEV_PCAP_ASAP));
	ck_assert_int_ne(errno, 0);
	errno = 0;
	ck_assert_ptr_null(netdev_pcap_open(NULL));
	ck_assert_int_eq(errno, EINVAL);
	rm_paths();
}
END_TEST

/* Sent frames are written with the clock's time; libpcap reads back the same bytes and times, and
 * tshark opens the file and finds every frame, none malformed. Without an output file they are
 * counted as dropped. */
START_TEST(test_pcap_record)
{
	struct netdev *dev, *sink;
	pcap_t *rd;
	char err[PCAP_ERRBUF_SIZE], cmd[256];
	struct pcap_pkthdr *h;
	const u_char *bytes;
	uint64_t t0 = us_clock_now(&t_clock);
	FILE *p;
	int frames = 0, malformed = 0;
	char line[512];

	tmp_paths();
	dev = open_pcap(NULL, out_path, NETDEV_PCAP_ASAP);
	ck_assert_ptr_nonnull(dev);
	ck_assert(netdev_pcap_eof(dev));
	ck_assert_int_eq(netdev_poll(dev, 10), 0);
	for (int i = 0; i < 3; i++) {
		netdev_xmit(dev, test_frame(t_pool, 60 + 100 * (uint32_t)i, (uint8_t)i));
		netdev_flush(dev);
		us_clock_advance(&t_clock, 1500 * US_NSEC_PER_USEC);
	}
	ck_assert_uint_eq(dev->stats.tx_packets, 3);
	netdev_close(dev);

	rd = pcap_open_offline(out_path, err);
	ck_assert_ptr_nonnull(rd);
	ck_assert_int_eq(pcap_datalink(rd), DLT_EN10MB);
	for (int i = 0; i < 3; i++) {
		uint64_t want = t0 + (uint64_t)i * 1500 * US_NSEC_PER_USEC;
		ck_assert_int_eq(pcap_next_ex(rd, &h, &bytes), 1);
		ck_assert_uint_eq(h->len, 60 + 100 * (uint32_t)i);
		ck_assert_uint_eq(h->caplen, h->len);
		ck_assert_uint_eq((uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec,
				  want / 1000);
		for (uint32_t k = ETH_HLEN; k < h->len; k++)
			ck_assert_uint_eq(bytes[k], (uint8_t)(i + (int)k));
	}
	ck_assert_int_eq(pcap_next_ex(rd, &h, &bytes), PCAP_ERROR_BREAK);
	pcap_close(rd);

	snprintf(cmd, sizeof(cmd), "tshark -n -r %s -T fields -e frame.number -e _ws.expert 2>/dev/null",
		 out_path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		/* one line per frame: its number, then any expert info (malformed, checksum errors) */
		if (strstr(line, "alformed") || strstr(line, "rror"))
			malformed++;
		if (line[0] >= '1' && line[0] <= '9')
			frames++;
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_int_eq(frames, 3);
	ck_assert_int_eq(malformed, 0);

	sink = open_pcap(NULL, NULL, NETDEV_PCAP_ASAP);
	netdev_xmit(sink, test_frame(t_pool, 60, 0));
	netdev_flush(sink);
	ck_assert_uint_eq(sink->stats.tx_dropped, 1);
	netdev_close(sink);
	rm_paths();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pcap");
	TCase *tc = test_tcase("pcap");

	tcase_add_test(tc, test_pcap_replay_asap);
	tcase_add_test(tc, test_pcap_replay_timed);
	tcase_add_test(tc, test_pcap_bad_frames);
	tcase_add_test(tc, test_pcap_pool_exhausted);
	tcase_add_test(tc, test_pcap_refused);
	tcase_add_test(tc, test_pcap_record);
	suite_add_tcase(s, tc);
	return test_run(s);
}
