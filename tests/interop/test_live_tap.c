/*
 * test_live_tap.c - the TAP device against the real Linux kernel.
 *
 * The whole test process moves into a network namespace of its own (unshare(CLONE_NEWNET)) before
 * any test runs, so the TAP devices, the kernel-side address 198.18.0.1/24 (RFC 2544's benchmark
 * range) and every frame stay inside it, and the namespace disappears with the process, also when
 * a test fails or crashes. Without root it is skipped, with the reason printed (exit code 77).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

#define SKIP_CODE 77
static const uint8_t kernel_ip[4] = { 198, 18, 0, 1 };
static const uint8_t stack_ip[4] = { 198, 18, 0, 2 };
static const uint8_t stack_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static int run_cmd(const char *cmd)
{
	int r = system(cmd);

	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static struct netdev *tap_up(const char *name)
{
	struct netdev_config cfg = { .pool = t_pool, .clock = &t_clock, .name = name };
	struct netdev *dev;
	char cmd[160];

	memcpy(cfg.mac, stack_mac, 6);
	dev = netdev_tap_open(&cfg);
	ck_assert_msg(dev != NULL, "netdev_tap_open(%s): %s", name, strerror(errno));
	snprintf(cmd, sizeof(cmd), "ip addr add 198.18.0.1/24 dev %s && ip link set %s up", name, name);
	ck_assert_int_eq(run_cmd(cmd), 0);
	return dev;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Poll the device for up to timeout_ms of real time until match() accepts a frame (which is
 * returned) or time runs out (NULL). Frames that do not match are counted in *other and freed. */
static struct sk_buff *wait_frame(struct netdev *dev, int (*match)(const struct sk_buff *),
				  int timeout_ms, int *other)
{
	uint64_t end = wall_ms() + (uint64_t)timeout_ms;
	struct sk_buff *skb;

	while (wall_ms() < end) {
		struct pollfd pfd = { .fd = netdev_fd(dev), .events = POLLIN };
		poll(&pfd, 1, 50);
		netdev_poll(dev, 32);
		while (netdev_rx_burst(dev, &skb, 1) == 1) {
			if (match(skb))
				return skb;
			(*other)++;
			skb_free(skb);
		}
	}
	return NULL;
}

static int is_arp(const struct sk_buff *skb, uint16_t op)
{
	const uint8_t *p = skb->data;

	return skb->len >= ETH_HLEN + 28 && p[12] == 0x08 && p[13] == 0x06 && p[14 + 6] == 0 &&
	       p[14 + 7] == op;
}

/* RFC 826 reply to our request: from the kernel's address, to ours. */
static int is_arp_reply_to_us(const struct sk_buff *skb)
{
	const uint8_t *a = skb->data + ETH_HLEN;

	return is_arp(skb, 2) && memcmp(a + 14, kernel_ip, 4) == 0 && memcmp(a + 24, stack_ip, 4) == 0;
}

/* RFC 826 request from the kernel asking for our address. */
static int is_arp_request_for_us(const struct sk_buff *skb)
{
	const uint8_t *a = skb->data + ETH_HLEN;

	return is_arp(skb, 1) && memcmp(a + 14, kernel_ip, 4) == 0 && memcmp(a + 24, stack_ip, 4) == 0;
}

/* An ARP request for the kernel side's address, sent through the TAP device, is answered by the
 * kernel as RFC 826 says: opcode reply, sender = the kernel's MAC and address, target = our MAC and
 * address, sent to our MAC. */
START_TEST(test_live_arp_request_answered)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct netdev *dev = tap_up("ustap0");
	uint8_t kmac[6], *p, *a;
	struct sk_buff *req = skb_alloc(t_pool, SKB_MAX_HEADER + 42), *rep;
	int other = 0;

	ck_assert_uint_eq(dev->mtu, 1500);
	ck_assert_int_eq(netdev_tap_kernel_mac(dev, kmac), 0);
	skb_reserve(req, SKB_MAX_HEADER);
	p = skb_put(req, 42);
	memcpy(p, bcast, 6);
	memcpy(p + 6, stack_mac, 6);
	p[12] = 0x08, p[13] = 0x06;		/* ETH_P_ARP */
	a = p + ETH_HLEN;
	a[0] = 0, a[1] = 1;			/* hardware: Ethernet */
	a[2] = 0x08, a[3] = 0x00;		/* protocol: IPv4 */
	a[4] = 6, a[5] = 4;			/* address lengths */
	a[6] = 0, a[7] = 1;			/* opcode: request */
	memcpy(a + 8, stack_mac, 6);
	memcpy(a + 14, stack_ip, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, kernel_ip, 4);
	ck_assert_int_eq(netdev_xmit(dev, req), 0);
	ck_assert_uint_eq(netdev_flush(dev), 1);
	ck_assert_uint_eq(dev->stats.tx_packets, 1);

	rep = wait_frame(dev, is_arp_reply_to_us, 3000, &other);
	ck_assert_msg(rep != NULL, "no ARP reply from the kernel in 3 s (%d other frames)", other);
	p = rep->data;
	a = p + ETH_HLEN;
	ck_assert_mem_eq(p, stack_mac, 6);     /* unicast to us */
	ck_assert_mem_eq(p + 6, kmac, 6);      /* from the kernel side's MAC */
	ck_assert_uint_eq(a[1], 1);	       /* Ethernet */
	ck_assert_uint_eq(a[2], 0x08);	       /* IPv4 */
	ck_assert_uint_eq(a[4], 6);
	ck_assert_uint_eq(a[5], 4);
	ck_assert_mem_eq(a + 8, kmac, 6);      /* sender hardware address */
	ck_assert_mem_eq(a + 14, kernel_ip, 4);
	ck_assert_mem_eq(a + 18, stack_mac, 6); /* target: us */
	ck_assert_mem_eq(a + 24, stack_ip, 4);
	ck_assert_ptr_eq(rep->dev, dev);
	ck_assert_uint_ge(dev->stats.rx_packets, 1);
	skb_free(rep);
	netdev_close(dev);
}
END_TEST

/* Frames the kernel sends arrive: a ping to our address makes the kernel ask for our MAC. */
START_TEST(test_live_kernel_frames_received)
{
	struct netdev *dev = tap_up("ustap1");
	struct sk_buff *req;
	int other = 0, status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execlp("ping", "ping", "-n", "-q", "-c", "2", "-i", "0.5", "-w", "2", "198.18.0.2",
		       (char *)NULL);
		_exit(127);
	}
	req = wait_frame(dev, is_arp_request_for_us, 3000, &other);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	ck_assert_msg(req != NULL, "no ARP request for 198.18.0.2 from the kernel (%d other frames)",
		      other);
	ck_assert_uint_ge(dev->stats.rx_bytes, 42);
	skb_free(req);
	netdev_close(dev);
}
END_TEST

/* Attaching to an existing TAP device takes its MTU from the interface; bad names are refused. */
START_TEST(test_live_attach_existing)
{
	struct netdev_config cfg = { .pool = t_pool, .clock = &t_clock, .name = "ustap2" };
	struct netdev *dev;

	ck_assert_int_eq(run_cmd("ip tuntap add dev ustap2 mode tap && ip link set ustap2 mtu 1400"), 0);
	dev = netdev_tap_open(&cfg);
	ck_assert_ptr_nonnull(dev);
	ck_assert_uint_eq(dev->mtu, 1400);
	ck_assert_str_eq(dev->name, "ustap2");
	ck_assert_int_ge(netdev_fd(dev), 0);
	netdev_close(dev);
	ck_assert_int_eq(run_cmd("ip tuntap del dev ustap2 mode tap"), 0);

	cfg.name = "a-name-much-too-long-for-ifnamsiz";
	errno = 0;
	ck_assert_ptr_null(netdev_tap_open(&cfg));
	ck_assert_int_eq(errno, EINVAL);
	cfg.name = NULL;
	ck_assert_ptr_null(netdev_tap_open(&cfg));
}
END_TEST

/* The kernel's view of one offload of interface `name` (SIOCETHTOOL, as `ethtool -k` reads it):
 * ETHTOOL_GTXCSUM (tx-checksumming) or ETHTOOL_GTSO (tcp-segmentation-offload); 1 on, 0 off. */
static int offload_get(const char *name, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), r;

	ck_assert_int_ge(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (char *)&ev;
	r = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	ck_assert_msg(r == 0, "SIOCETHTOOL on %s: %s", name, strerror(errno));
	return ev.data != 0;
}

/* A TAP device keeps the offloads an earlier user set (issue 2: then the kernel hands over 64 KB
 * frames with partial checksums); the TAP backend's TUNSETOFFLOAD 0 turns them off. An earlier
 * user is played here: a persistent device with checksum and TSO offload on (TUN_F_CSUM |
 * TUN_F_TSO4), seen on by the kernel; after the stack attaches, both are off. */
START_TEST(test_live_offload_cleared)
{
	struct netdev_config cfg = { .pool = t_pool, .clock = &t_clock, .name = "ustoff0" };
	struct ifreq ifr;
	struct netdev *dev;
	int fd = open("/dev/net/tun", O_RDWR);

	ck_assert_int_ge(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "ustoff0");
	ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	ck_assert_int_eq(ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)), 0);
	ck_assert_int_eq(ioctl(fd, TUNSETPERSIST, 1UL), 0);
	close(fd);
	ck_assert_int_eq(offload_get("ustoff0", ETHTOOL_GTXCSUM), 1);
	ck_assert_int_eq(offload_get("ustoff0", ETHTOOL_GTSO), 1);

	dev = netdev_tap_open(&cfg);
	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(offload_get("ustoff0", ETHTOOL_GTXCSUM), 0);
	ck_assert_int_eq(offload_get("ustoff0", ETHTOOL_GTSO), 0);
	netdev_close(dev);
	ck_assert_int_eq(run_cmd("ip tuntap del dev ustoff0 mode tap"), 0);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	if (geteuid() != 0) {
		printf("SKIP: the live TAP tests need root (CAP_NET_ADMIN) for a network namespace\n");
		return SKIP_CODE;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		printf("SKIP: cannot create a network namespace: %s\n", strerror(errno));
		return SKIP_CODE;
	}
	if (run_cmd("command -v ip >/dev/null && command -v ping >/dev/null") != 0) {
		printf("FAIL: the live tests need ip (iproute2) and ping (iputils-ping)\n");
		return 1;
	}
	s = suite_create("live_tap");
	tc = test_tcase("live_tap");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_live_arp_request_answered);
	tcase_add_test(tc, test_live_kernel_frames_received);
	tcase_add_test(tc, test_live_attach_existing);
	tcase_add_test(tc, test_live_offload_cleared);
	suite_add_tcase(s, tc);
	return test_run(s);
}
