/*
 * fuzz_rx.c - libFuzzer harness for the receive path: arbitrary frames into a configured stack.
 *
 * The input is a sequence of records [delay: 1 byte][length: 2 bytes, big-endian][frame bytes]; each
 * frame is received after the virtual clock advanced delay milliseconds, so reassembly, ARP and the
 * ICMP rate limit see state build up across frames. The stack has an address, a permanent and an
 * unresolved neighbour, a UDP echo endpoint on port 7, an ICMP echo endpoint, a TCP listener on port
 * 80 whose connections echo, and a TCP connection being opened to the peer. At the end the clock runs
 * 61 s so every timer fires, the stack is destroyed, and any skb left in use aborts the run.
 *
 * A record whose delay byte has its top bit set (the delay is the other seven bits) holds a
 * virtio_net_hdr before its frame, as a TAP device with IFF_VNET_HDR reads them: the header is
 * checked against the frame (netdev_vnet_hdr_apply) and, if taken, the frame with its checksum and
 * GSO metadata goes straight onto the stack device's receive ring.
 *
 * The packet trace is on, into /dev/null, so its decoder reads every frame in and out (with the
 * link header when the input's length is odd); each input frame is also decoded alone into a full
 * and a 48-byte line, which must agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ustack/ustack.h>

#include "pkttrace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t st_mac[6] = { 2, 0, 0, 0, 0, 2 }, peer_mac[6] = { 2, 0, 0, 0, 0, 1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a small established table: the harness makes a stack per input */
	struct us_stack_config sc = { .seed = 1, .tcp_ehash_size = 256 };
	struct netdev_pair_config pc = { 0 };
	struct us_clock clock;
	struct skb_pool *wire_pool = skb_pool_create(NULL);
	struct us_stack *st;
	struct netdev *dev, *wire;
	struct us_udp *u;
	struct us_ping *ping;
	struct us_tcp *listener, *active, *conns[8];
	int nconns = 0;
	struct sk_buff *skb;
	uint8_t buf[2048];
	size_t off = 0;
	int ifindex;
	static FILE *sink;
	unsigned trace_flags = (size & 1) ? US_PKTTRACE_LINK : 0;

	us_clock_init_virtual(&clock, 1000 * US_NSEC_PER_SEC);
	sc.clock = &clock;
	st = us_stack_create(&sc);
	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	us_pkttrace_set(st, sink, trace_flags);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(st), .clock = &clock, .mtu = 1500 };
	memcpy(pc.a.mac, st_mac, 6);
	pc.b = (struct netdev_config){ .pool = wire_pool, .clock = &clock, .mtu = 9000 };
	memcpy(pc.b.mac, peer_mac, 6);
	if (netdev_pair_create(&pc, &dev, &wire) != 0)
		abort();
	ifindex = us_stack_add_netdev(st, dev);
	us_addr_add(st, ifindex, 0xc6120002u, 24);
	us_route_add(st, 0, 0, 0xc61200feu, ifindex);
	us_neigh_add(st, ifindex, 0xc6120001u, peer_mac);
	u = us_udp_open(st);
	us_udp_bind(u, 0, 7);
	ping = us_ping_open(st, 0x1234);
	us_ping_send(ping, 0xc6120001u, 1, "x", 1, 0);
	us_ping_send(ping, 0x08080808u, 2, "y", 1, 0); /* via the unresolved gateway */
	listener = us_tcp_open(st);
	us_tcp_bind(listener, 0, 80);
	us_tcp_listen(listener, 4);
	active = us_tcp_open(st);
	us_tcp_connect(active, 0xc6120001u, 5555);

	while (off + 3 <= size) {
		uint32_t delay = data[off], len = (uint32_t)(data[off + 1] << 8 | data[off + 2]);
		uint32_t from;
		uint16_t port;
		int n;

		off += 3;
		if (len > size - off)
			len = (uint32_t)(size - off);
		{
			char full[PKTTRACE_LINE_MAX], part[48];
			size_t fl = pkttrace_decode(full, sizeof(full), data + off, len, trace_flags);
			size_t pl = pkttrace_decode(part, sizeof(part), data + off, len, trace_flags);

			if (fl != strlen(full) || pl != strlen(part) || pl >= sizeof(part) ||
			    strncmp(full, part, pl) != 0)
				abort();
		}
		us_clock_advance(&clock, (delay & 0x7f) * US_NSEC_PER_MSEC);
		if ((delay & 0x80) && len >= NETDEV_VNET_HDR_LEN) {
			struct netdev_vnet_hdr h;

			netdev_vnet_hdr_parse(data + off, &h);
			skb = skb_alloc(us_stack_pool(st), SKB_MAX_HEADER + len);
			skb_reserve(skb, SKB_MAX_HEADER);
			skb_put_data(skb, data + off + NETDEV_VNET_HDR_LEN, len - NETDEV_VNET_HDR_LEN);
			if (netdev_vnet_hdr_apply(skb, &h) == 0) {
				/* what was taken lies within the frame */
				if (skb->ip_summed == SKB_CSUM_PARTIAL &&
				    skb->csum_start + skb->csum_offset + 2u > (uint32_t)(skb->tail - skb->head))
					abort();
				if (skb_shinfo(skb)->gso_size && !skb_shinfo(skb)->gso_segs &&
				    skb->len > 54u)
					abort();
				netdev_rx_deliver(dev, skb);
			} else {
				skb_free(skb);
			}
		} else {
			skb = skb_alloc(wire_pool, SKB_MAX_HEADER + len);
			skb_reserve(skb, SKB_MAX_HEADER);
			skb_put_data(skb, data + off, len);
			netdev_xmit(wire, skb);
			netdev_flush(wire);
		}
		off += len;
		us_stack_poll(st);
		while ((n = us_udp_recvfrom(u, buf, sizeof(buf), &from, &port)) >= 0)
			us_udp_sendto(u, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf), from, port);
		{
			struct us_ping_reply r;
			struct us_tcp *c;
			int err;
			while (us_ping_recv(ping, &r, buf, sizeof(buf)) == 0)
				;
			while (nconns < 8 && (c = us_tcp_accept(listener, &err)) != NULL)
				conns[nconns++] = c;
			for (int i = 0; i < nconns; i++)
				while ((n = us_tcp_recv(conns[i], buf, sizeof(buf))) > 0)
					us_tcp_send(conns[i], buf, (size_t)n);
			while ((n = us_tcp_recv(active, buf, sizeof(buf))) > 0)
				;
			us_tcp_send(active, "hello", 5);
		}
		/* drain what the stack sent so the wire never fills */
		netdev_poll(wire, 1024);
		while (netdev_rx_burst(wire, &skb, 1) == 1)
			skb_free(skb);
	}
	for (int i = 0; i < 61; i++) {
		us_clock_advance(&clock, US_NSEC_PER_SEC);
		us_stack_poll(st);
		netdev_poll(wire, 1024);
		while (netdev_rx_burst(wire, &skb, 1) == 1)
			skb_free(skb);
	}
	for (int i = 0; i < nconns; i++)
		us_tcp_close(conns[i]);
	us_tcp_close(active);
	us_tcp_close(listener);
	for (int i = 0; i < 121; i++) {
		us_clock_advance(&clock, US_NSEC_PER_SEC);
		us_stack_poll(st);
		netdev_poll(wire, 1024);
		while (netdev_rx_burst(wire, &skb, 1) == 1)
			skb_free(skb);
	}
	us_udp_close(u);
	us_ping_close(ping);
	netdev_close(wire);
	if (us_stack_destroy(st) != 0 || skb_pool_destroy(wire_pool) != 0)
		abort(); /* an skb leaked */
	return 0;
}
