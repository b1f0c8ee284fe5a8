/*
 * checksum.c - the Internet checksum (RFC 1071 §4.1), summing 32-bit big-endian words into a 64-bit
 * accumulator so carries are folded once at the end instead of per word (RFC 1071 §2(C): the sum
 * may be computed in larger words and folded).
 */
#include "checksum.h"

#include "wire/bytes.h"

uint64_t csum_partial(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;

	while (len >= 4) {
		sum += get_be32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += get_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8; /* an odd byte is padded with zero on the right */
	return sum;
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
