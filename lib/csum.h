/*
 * Incremental Internet checksum updates (RFC 1624, eqn. 3) for header rewrites: a NAT changes a
 * few 16/32-bit words, so the checksum is patched, never recomputed over the payload. Values are
 * raw header words as stored in the packet (any byte order, as long as all are the same).
 */
#ifndef DPDK_LB_CSUM_H
#define DPDK_LB_CSUM_H

#include <stdint.h>

static inline uint16_t csum_fold32(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum after a 16-bit word of the covered data changed from `from` to `to`. */
static inline uint16_t csum_replace16(uint16_t check, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint16_t)~check + (uint32_t)(uint16_t)~from + to;
	return (uint16_t)~csum_fold32(sum);
}

/* The checksum after a 32-bit word (an IPv4 address) changed from `from` to `to`. */
static inline uint16_t csum_replace32(uint16_t check, uint32_t from, uint32_t to)
{
	uint32_t sum = (uint16_t)~check;
	sum += (uint16_t)~(from >> 16);
	sum += (uint16_t)~(from & 0xffff);
	sum += to >> 16;
	sum += to & 0xffff;
	return (uint16_t)~csum_fold32(sum);
}

/* UDP over IPv4: 0 means "no checksum" and stays 0; a computed 0 is sent as 0xffff. */
static inline uint16_t csum_udp_fixup(uint16_t old_check, uint16_t new_check)
{
	if (old_check == 0)
		return 0;
	return new_check == 0 ? 0xffff : new_check;
}

#endif
