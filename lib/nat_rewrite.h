/*
 * IPv4 address and port rewrites with incremental checksum updates, shared by the nat and fnat
 * transmit methods and by ICMP error translation. Header-only: it runs per packet.
 */
#ifndef DPDK_LB_NAT_REWRITE_H
#define DPDK_LB_NAT_REWRITE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csum.h"

#define NAT_IP_SRC_OFF 12
#define NAT_IP_DST_OFF 16
#define NAT_IP_CSUM_OFF 10

static inline uint16_t nat_load16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t nat_load32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline void nat_store16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void nat_store32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Offset of the TCP/UDP checksum in its header, or 0 for a protocol without one we patch. */
static inline size_t nat_l4_csum_off(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 0;
}

/*
 * Sets the source (is_src) or destination address of the IPv4 header at ip and, when l4 is not
 * NULL, the matching TCP/UDP port (network order), patching the IP checksum and the L4 one
 * (whose pseudo-header covers the address) when its field lies within l4_avail bytes: an ICMP
 * error quotes only 8 bytes of TCP, which stop short of its checksum.
 */
static inline void nat_rewrite_endpoint(uint8_t *ip, uint8_t *l4, size_t l4_avail, uint8_t proto,
					bool is_src, uint32_t addr, uint16_t port_be)
{
	size_t aoff = is_src ? NAT_IP_SRC_OFF : NAT_IP_DST_OFF;
	uint32_t old_addr = nat_load32(ip + aoff);
	uint16_t ipsum = nat_load16(ip + NAT_IP_CSUM_OFF);

	nat_store16(ip + NAT_IP_CSUM_OFF, csum_replace32(ipsum, old_addr, addr));
	nat_store32(ip + aoff, addr);
	if (l4 == NULL)
		return;
	size_t poff = is_src ? 0 : 2, coff = nat_l4_csum_off(proto);
	uint16_t old_port = nat_load16(l4 + poff);
	if (coff != 0 && l4_avail >= coff + 2) {
		uint16_t old_sum = nat_load16(l4 + coff);
		uint16_t sum = csum_replace16(csum_replace32(old_sum, old_addr, addr), old_port, port_be);
		if (proto == IPPROTO_UDP)
			sum = csum_udp_fixup(old_sum, sum);
		nat_store16(l4 + coff, sum);
	}
	nat_store16(l4 + poff, port_be);
}

#define NAT_IP6_SRC_OFF 8
#define NAT_IP6_DST_OFF 24

/*
 * IPv6 version of nat_rewrite_endpoint: no header checksum, but the TCP/UDP checksum's
 * pseudo-header covers the 16-byte address.
 */
static inline void nat_rewrite_endpoint6(uint8_t *ip6, uint8_t *l4, size_t l4_avail, uint8_t proto,
					 bool is_src, const uint8_t addr[16], uint16_t port_be)
{
	uint8_t *field = ip6 + (is_src ? NAT_IP6_SRC_OFF : NAT_IP6_DST_OFF);
	size_t coff = nat_l4_csum_off(proto);

	if (l4 != NULL && coff != 0 && l4_avail >= coff + 2) {
		uint16_t sum = nat_load16(l4 + coff);
		for (int i = 0; i < 16; i += 4)
			sum = csum_replace32(sum, nat_load32(field + i), nat_load32(addr + i));
		sum = csum_replace16(sum, nat_load16(l4 + (is_src ? 0 : 2)), port_be);
		/* IPv6 has no "no checksum": a computed 0 is sent as 0xffff for UDP */
		if (proto == IPPROTO_UDP && sum == 0)
			sum = 0xffff;
		nat_store16(l4 + coff, sum);
	}
	memmove(field, addr, 16);
	if (l4 != NULL)
		nat_store16(l4 + (is_src ? 0 : 2), port_be);
}

/*
 * Either family: sets the source or destination of the IP header at ip to the address held in
 * a 16-byte flow-key field (IPv4: its first 4 bytes) and, with l4, the port (network order).
 */
static inline void nat_set_endpoint(uint8_t family, uint8_t *ip, uint8_t *l4, size_t l4_avail,
				    uint8_t proto, bool is_src, const uint8_t addr[16],
				    uint16_t port_be)
{
	if (family == AF_INET6)
		nat_rewrite_endpoint6(ip, l4, l4_avail, proto, is_src, addr, port_be);
	else
		nat_rewrite_endpoint(ip, l4, l4_avail, proto, is_src, nat_load32(addr), port_be);
}

/* True when the source (is_src) or destination address of the IP header equals the field. */
static inline bool nat_endpoint_is(uint8_t family, const uint8_t *ip, bool is_src,
				   const uint8_t addr[16])
{
	if (family == AF_INET6)
		return memcmp(ip + (is_src ? NAT_IP6_SRC_OFF : NAT_IP6_DST_OFF), addr, 16) == 0;
	return memcmp(ip + (is_src ? NAT_IP_SRC_OFF : NAT_IP_DST_OFF), addr, 4) == 0;
}

#endif
