/*
 * checksum.h - the Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement
 * sum of the data taken as big-endian 16-bit words. Partial sums chain: csum_partial() over pieces of
 * even length (an odd length only for the last), then csum_fold().
 */
#ifndef USTACK_CHECKSUM_H
#define USTACK_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes to a running sum (unfolded, host order). */
uint64_t csum_partial(const void *buf, size_t len, uint64_t sum);
/* Fold a running sum to 16 bits and complement it: the value to write in the header (host order). */
uint16_t csum_fold(uint64_t sum);
/* The checksum of one buffer. Over a buffer that holds a correct checksum this is 0. */
uint16_t inet_csum(const void *buf, size_t len);
/* The IPv4 pseudo-header (RFC 768, RFC 9293 §3.1) as a running sum: addresses in host order. */
uint64_t csum_pseudo(uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t len);

struct sk_buff;
/* Complete a partial checksum (SKB_CSUM_PARTIAL) as a NIC does: the sum from csum_start to the end,
 * the pseudo-header sum already in the field included, folded and complemented into the field;
 * ip_summed becomes SKB_CSUM_NONE. For a device that takes no partial checksums. */
void csum_skb_finish(struct sk_buff *skb);

#endif
