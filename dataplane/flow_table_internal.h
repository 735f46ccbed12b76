/* The flow table's bucket arithmetic, shared by its lookups and inserts (flow_table.c only). */
#ifndef DPDK_LB_FLOW_TABLE_INTERNAL_H
#define DPDK_LB_FLOW_TABLE_INTERNAL_H

#include <errno.h>
#include <string.h>

#include <rte_prefetch.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "flow_table.h"

#define FLOW_BULK_MAX 64

static inline void flow_key4_make(struct flow_key4 *k4, const struct flow_key *k)
{
	memcpy(&k4->src, k->src, 4);
	memcpy(&k4->dst, k->dst, 4);
	k4->sport = k->sport;
	k4->dport = k->dport;
	k4->proto = k->proto;
	k4->pad[0] = k4->pad[1] = k4->pad[2] = 0;
}

static inline void flow_key4_expand(struct flow_key *k, const struct flow_key4 *k4)
{
	memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	k->proto = k4->proto;
	k->sport = k4->sport;
	k->dport = k4->dport;
	memcpy(k->src, &k4->src, 4);
	memcpy(k->dst, &k4->dst, 4);
}

/* Never 0, which marks a free slot. */
static inline uint16_t sig_of(uint32_t hash)
{
	return (uint16_t)(hash | 1);
}

/* The primary bucket: the hash's high bits scaled to the bucket count (no power of 2 needed). */
static inline uint32_t bucket_primary(uint32_t hash, uint32_t n_buckets)
{
	return (uint32_t)(((uint64_t)hash * n_buckets) >> 32);
}

/* The alternate bucket: the same scaling of the hash mixed by an odd multiplier, so it depends
 * on the low bits the primary ignores; never the primary itself. */
static inline uint32_t bucket_alternate(uint32_t hash, uint32_t primary, uint32_t n_buckets)
{
	uint32_t b = (uint32_t)(((uint64_t)(hash * 0x9e3779b1u) * n_buckets) >> 32);

	return b != primary ? b : (primary + 1 == n_buckets ? 0 : primary + 1);
}

static inline struct flow_bucket_head *bucket_head(const struct flow_subtable *t, uint32_t b)
{
	return (struct flow_bucket_head *)(t->buckets + (size_t)b * t->bucket_size);
}

static inline uint8_t *bucket_slot(const struct flow_subtable *t, uint32_t b, uint32_t i)
{
	return t->buckets + (size_t)b * t->bucket_size + FLOW_BUCKET_HEAD + i * t->slot_size;
}

/* Bit i set: slot i's signature is sig. */
static inline uint32_t sig_matches(const struct flow_bucket_head *hd, uint16_t sig)
{
#ifdef __SSE2__
	__m128i sigs = _mm_loadu_si128((const __m128i *)hd->sig);
	__m128i eq = _mm_cmpeq_epi16(sigs, _mm_set1_epi16((short)sig));

	return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128()));
#else
	uint32_t m = 0;

	for (uint32_t i = 0; i < FLOW_BUCKET_SLOTS; i++)
		m |= (uint32_t)(hd->sig[i] == sig) << i;
	return m;
#endif
}

static inline uint32_t bucket_used(const struct flow_bucket_head *hd)
{
	return (uint32_t)__builtin_popcount(sig_matches(hd, 0) ^ 0xffu);
}

static inline void slot_prefetch(const struct flow_subtable *t, uint32_t b, uint32_t i)
{
	const uint8_t *slot = bucket_slot(t, b, i);

	rte_prefetch0(slot);
	rte_prefetch0(slot + t->slot_size - 1);
}

static inline bool key_equal(const void *a, const void *b, uint32_t key_size)
{
	uint64_t x[5], y[5];

	if (key_size == 16) {
		memcpy(x, a, 16);
		memcpy(y, b, 16);
		return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
	}
	return memcmp(a, b, key_size) == 0;
}

/* The position of key among the slots of bucket b whose signatures matched (hits). */
static inline int32_t bucket_match(const struct flow_subtable *t, uint32_t b, const void *key,
				   uint32_t hits)
{
	while (hits != 0) {
		uint32_t i = (uint32_t)__builtin_ctz(hits);
		if (key_equal(bucket_slot(t, b, i), key, t->key_size))
			return (int32_t)(t->base + b * FLOW_BUCKET_SLOTS + i);
		hits &= hits - 1;
	}
	return -ENOENT;
}

static inline int32_t bucket_find(const struct flow_subtable *t, uint32_t b, const void *key,
				  uint16_t sig)
{
	return bucket_match(t, b, key, sig_matches(bucket_head(t, b), sig));
}

/* The position of a stored-form key in sub-table t, or -ENOENT. */
static inline int32_t sub_find(const struct flow_subtable *t, const void *key, uint32_t hash)
{
	if (t->n_buckets == 0)
		return -ENOENT;
	uint32_t b = bucket_primary(hash, t->n_buckets);
	int32_t pos = bucket_find(t, b, key, sig_of(hash));

	if (pos >= 0 || bucket_head(t, b)->alt_count == 0)
		return pos;
	return bucket_find(t, bucket_alternate(hash, b, t->n_buckets), key, sig_of(hash));
}

#endif
