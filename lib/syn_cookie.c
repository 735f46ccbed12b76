/* SYN cookies (syn_cookie.h): SipHash-2-4 of the tuple and the client's ISN, 29 hash bits and
 * a 3-bit MSS index. */
#include "syn_cookie.h"

#include <string.h>

/* Like Linux's msstab: the values clients commonly send, the IPv6 ones (1220, 1440) included. */
static const uint16_t mss_table[SYN_COOKIE_MSS_COUNT] = {536,  1220, 1300, 1360,
							  1400, 1440, 1460, 8960};

#define MSS_BITS 0x7u

unsigned int syn_cookie_mss_index(uint16_t mss)
{
	unsigned int idx = 0;

	for (unsigned int i = 1; i < SYN_COOKIE_MSS_COUNT; i++)
		if (mss_table[i] <= mss)
			idx = i;
	return idx;
}

uint16_t syn_cookie_mss(unsigned int idx)
{
	return mss_table[idx & MSS_BITS];
}

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

uint64_t syn_cookie_siphash24(const struct syn_cookie_key *key, const uint64_t *m, unsigned int n)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0, v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0, v3 = 0x7465646279746573ULL ^ key->k1;

	for (unsigned int i = 0; i < n; i++) {
		v3 ^= m[i];
		SIPROUND;
		SIPROUND;
		v0 ^= m[i];
	}
	uint64_t last = (uint64_t)(n * 8) << 56;
	v3 ^= last;
	SIPROUND;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t syn_cookie_hash(const struct syn_cookie_key *key, const struct syn_cookie_tuple *t,
			 uint64_t counter, unsigned int mss_idx)
{
	uint64_t m[7];

	memcpy(&m[0], t->src, 16);
	memcpy(&m[2], t->dst, 16);
	m[4] = (uint64_t)t->sport | (uint64_t)t->dport << 16 | (uint64_t)t->family << 32 |
	       (uint64_t)(mss_idx & MSS_BITS) << 40;
	m[5] = counter;
	m[6] = t->client_isn;
	return syn_cookie_siphash24(key, m, 7);
}

uint32_t syn_cookie_make(const struct syn_cookie_key *key, const struct syn_cookie_tuple *t,
			 uint64_t counter, unsigned int mss_idx)
{
	uint32_t h = (uint32_t)syn_cookie_hash(key, t, counter, mss_idx);

	return (h & ~MSS_BITS) | (mss_idx & MSS_BITS);
}

int syn_cookie_check(const struct syn_cookie_key *key, const struct syn_cookie_tuple *t,
		     uint64_t counter, uint32_t cookie)
{
	unsigned int idx = cookie & MSS_BITS;

	if (syn_cookie_make(key, t, counter, idx) == cookie)
		return (int)idx;
	if (counter > 0 && syn_cookie_make(key, t, counter - 1, idx) == cookie)
		return (int)idx;
	return -1;
}
