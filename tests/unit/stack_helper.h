/*
 * stack_helper.h - a stack under test on one end of a pair device, with the test holding the other
 * end as "the wire": frames the test sends arrive at the stack, frames the stack sends are read back
 * by the test. Virtual clock, fixed seed. Builders for the frames a peer would send, written from
 * the RFCs' header layouts (not from the stack's own code, apart from the shared byte helpers).
 *
 * Addresses: the stack is 198.18.0.2/24 with MAC 02:00:00:00:00:02; the peer is 198.18.0.1 with
 * MAC 02:00:00:00:00:01 (PEER_IP, PEER_MAC).
 */
#ifndef USTACK_STACK_HELPER_H
#define USTACK_STACK_HELPER_H

#include <stdint.h>

#include "test_util.h"

#define ST_IP 0xc6120002u   /* 198.18.0.2 */
#define PEER_IP 0xc6120001u /* 198.18.0.1 */
extern const uint8_t ST_MAC[6], PEER_MAC[6], BCAST_MAC[6];

struct th {
	struct us_clock clock;
	struct us_stack *st;
	struct netdev *wire; /* the test's end */
	int ifindex;
};

/* A stack with the address configured (its gratuitous ARP is read and discarded) and, when
 * peer_known, a permanent neighbour entry for PEER_IP so output needs no resolution. */
void th_setup(struct th *t, bool peer_known);
/* th_setup with the pair's offloads (netdev_config.vnet_hdr) on both ends when vnet_hdr: the stack's
 * device advertises checksum offload and TSO4, and the wire's frames carry their metadata. */
void th_setup_vnet(struct th *t, bool peer_known, bool vnet_hdr);
/* Tear down; fails the test if the stack's pool still has skbs in use. */
void th_teardown(struct th *t);
/* Hand a frame (bytes) to the stack and run one poll round. */
void th_send(struct th *t, const uint8_t *frame, uint32_t len);
/* Advance the virtual clock by ns and poll (timers fire). */
void th_advance(struct th *t, uint64_t ns);
/* The next frame the stack sent, copied into buf (returns its length), or -1 when none. */
int th_recv(struct th *t, uint8_t *buf, uint32_t size);
/* How many frames the stack has sent that were not read yet (reads and discards them). */
int th_drain(struct th *t);
int64_t th_stat(struct th *t, const char *group, const char *name);

/* Frame builders: write into buf, return the frame length. Checksums are computed (RFC 1071). */
uint32_t th_eth(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type);
/* Ethernet + IPv4 header (20 bytes, DF clear) + payload; frag is the flags/offset field. */
uint32_t th_ipv4(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t id,
		 uint16_t frag, uint8_t ttl, const uint8_t *payload, uint32_t plen);
/* Ethernet + IPv4 + ICMP echo request. */
uint32_t th_echo(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint16_t id, uint16_t seq,
		 const uint8_t *data, uint32_t dlen);
/* Ethernet + IPv4 + UDP with a correct checksum. */
uint32_t th_udp(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
		const uint8_t *data, uint32_t dlen);
/* Ethernet + ARP (RFC 826), Ethernet destination dst. */
uint32_t th_arp(uint8_t *buf, const uint8_t *dst, uint16_t op, const uint8_t *sha, uint32_t spa,
		const uint8_t *tha, uint32_t tpa);
/* An ICMP message (RFC 792) into m: type, code, checksum, the 32-bit rest of the header, data.
 * Returns its length. */
uint32_t th_icmp_msg(uint8_t *m, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data,
		     uint32_t dlen);
/* Read the next frame the stack sent and check it is exactly want[0..wlen), apart from the IP ID
 * (the stack's choice), which is copied into want with its header checksum recomputed. */
void th_expect_frame(struct th *t, uint8_t *want, uint32_t wlen);
/* Check the stack has sent nothing more. */
void th_expect_nothing(struct th *t);
/* The RFC 768 checksum of a UDP datagram (u, ulen bytes, checksum field as it is) under the pseudo
 * header of saddr, daddr, protocol 17 and the UDP length: 0 when the field holds a correct sum. */
uint16_t th_udp_sum(uint32_t saddr, uint32_t daddr, const uint8_t *u, uint32_t ulen);
/* The RFC 1071 checksum of len bytes (0 over a buffer holding a correct checksum). */
uint16_t th_csum(const uint8_t *p, uint32_t len);

#endif
