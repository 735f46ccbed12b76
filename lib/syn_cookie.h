/*
 * SYN cookies for the SYN proxy: the sequence number the appliance answers a SYN with encodes
 * a keyed hash of the connection's tuple, a minute counter and an MSS index, so the client's
 * ACK proves a completed handshake without any state kept between the two. Pure C, no EAL.
 */
#ifndef DPDK_LB_SYN_COOKIE_H
#define DPDK_LB_SYN_COOKIE_H

#include <stdint.h>

/* The secret the hash is keyed with (SipHash's 128-bit key). */
struct syn_cookie_key {
	uint64_t k0, k1;
};

/* The connection a cookie belongs to, as the client's SYN carries it. */
struct syn_cookie_tuple {
	uint8_t family;  /* AF_INET or AF_INET6 */
	uint8_t src[16]; /* IPv4: first 4 bytes, the rest zero */
	uint8_t dst[16];
	uint16_t sport, dport; /* network order (any order, as long as make and check agree) */
	/*
	 * The client's initial sequence number (its SYN's, its ACK's minus one): hashed too, so a
	 * valid ACK also proves the ISN the proxy recovers from it, as Linux's cookies do.
	 */
	uint32_t client_isn;
};

#define SYN_COOKIE_MSS_COUNT 8

/* The MSS index of a client's MSS: the largest table value not above it (index 0 below all). */
unsigned int syn_cookie_mss_index(uint16_t mss);

/* The MSS value of index idx (idx < SYN_COOKIE_MSS_COUNT). */
uint16_t syn_cookie_mss(unsigned int idx);

/* SipHash-2-4 of n little-endian 64-bit words (an input of n * 8 bytes). */
uint64_t syn_cookie_siphash24(const struct syn_cookie_key *key, const uint64_t *m, unsigned int n);

/* SipHash-2-4 of the tuple, the counter and the MSS index under key. */
uint64_t syn_cookie_hash(const struct syn_cookie_key *key, const struct syn_cookie_tuple *t,
			 uint64_t counter, unsigned int mss_idx);

/* The cookie (initial sequence number) for tuple t at counter with MSS index mss_idx. */
uint32_t syn_cookie_make(const struct syn_cookie_key *key, const struct syn_cookie_tuple *t,
			 uint64_t counter, unsigned int mss_idx);

/*
 * Checks cookie (the client's ACK number minus one) for tuple t at counter: valid when made at
 * counter or counter - 1. Returns its MSS index, or -1 when it is not one of ours.
 */
int syn_cookie_check(const struct syn_cookie_key *key, const struct syn_cookie_tuple *t,
		     uint64_t counter, uint32_t cookie);

#endif
