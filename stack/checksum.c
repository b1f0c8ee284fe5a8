/*
 * checksum.c - the Internet checksum (RFC 1071).
 */
#include "checksum.h"

#include <string.h>

#include "ustack/skb.h"

/* Sum 16-bit words in the machine's own byte order, eight bytes at a time: the one's complement
 * sum is byte-order independent up to a final swap (RFC 1071 §2(B)), and adding 32-bit halves into a
 * 64-bit accumulator defers every carry to one fold at the end (§2(C)). */
uint64_t csum_partial(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = 0, w;
	uint8_t tail[8] = { 0 };

	while (len >= 32) {
		uint64_t a, b, c, d;
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		acc += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) +
		       (c & 0xffffffffu) + (c >> 32) + (d & 0xffffffffu) + (d >> 32);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		acc += (w & 0xffffffffu) + (w >> 32);
		p += 8;
		len -= 8;
	}
	if (len) {
		/* the last bytes, an odd one padded with zero on the right (RFC 1071 §4.1) */
		memcpy(tail, p, len);
		memcpy(&w, tail, 8);
		acc += (w & 0xffffffffu) + (w >> 32);
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = ((acc & 0xff) << 8) | (acc >> 8); /* back to the sum of big-endian words */
#endif
	return sum + acc;
}

uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_csum(const void *buf, size_t len)
{
	return csum_fold(csum_partial(buf, len, 0));
}

uint64_t csum_pseudo(uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t len)
{
	return (uint64_t)saddr + daddr + proto + len;
}

void csum_skb_finish(struct sk_buff *skb)
{
	uint8_t *start = skb->head + skb->csum_start, *field = start + skb->csum_offset;
	uint16_t c;

	c = csum_fold(csum_partial(start, (size_t)(skb->tail - start), 0));
	field[0] = (uint8_t)(c >> 8);
	field[1] = (uint8_t)c;
	skb->ip_summed = SKB_CSUM_NONE;
}
