/* Helpers shared by the scheduler files; see sched_util.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_util.h"

int sched_pick_wlc(const struct sched_dest *dests, uint32_t n, const struct sched_request *req)
{
	int best = -1;
	uint64_t best_overhead = 0, best_weight = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (!sched_dest_available(&dests[i]))
			continue;
		uint64_t overhead = sched_overhead(req, i);
		uint64_t weight = dests[i].weight;
		/* overhead/weight < best_overhead/best_weight, no division; strict: ties keep the first */
		if (best < 0 || overhead * best_weight < best_overhead * weight) {
			best = (int)i;
			best_overhead = overhead;
			best_weight = weight;
		}
	}
	return best;
}

bool sched_lblc_overloaded(const struct sched_dest *dests, uint32_t n,
			   const struct sched_request *req, uint32_t i)
{
	if (sched_active(req, i) <= dests[i].weight)
		return false;
	for (uint32_t j = 0; j < n; j++)
		if (sched_dest_available(&dests[j]) &&
		    (uint64_t)sched_active(req, j) * 2 < dests[j].weight)
			return true;
	return false;
}

static inline uint64_t rotl64(uint64_t x, unsigned int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Final avalanche so that nearby keys (consecutive addresses) land far apart. */
static inline uint64_t avalanche64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	x ^= x >> 33;
	return x;
}

uint64_t sched_hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	/* The length goes in first: zero-padded tails of different lengths never collide trivially. */
	uint64_t h = seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull);

	while (len > 0) {
		size_t take = len < 8 ? len : 8;
		uint64_t word = 0;

		/* Little-endian assembly by hand: the same bytes give the same hash on every host. */
		for (size_t i = 0; i < take; i++)
			word |= (uint64_t)p[i] << (8 * i);
		h ^= rotl64(word * 0xd6e8feb86659fd93ull, 29) * 0xa0761d6478bd642full;
		h = rotl64(h, 31) * 0x9fb21c651e98df25ull + 0xe7037ed1a0b428dbull;
		p += take;
		len -= take;
	}
	return avalanche64(h);
}

size_t sched_addr_key(uint8_t *key, const struct lb_addr *addr, uint16_t port, bool with_port)
{
	size_t len = 0;

	key[len++] = addr->family;
	if (addr->family == AF_INET6) {
		memcpy(key + len, addr->v6, 16);
		len += 16;
	} else {
		memcpy(key + len, &addr->v4, 4);
		len += 4;
	}
	if (with_port) {
		key[len++] = (uint8_t)(port >> 8);
		key[len++] = (uint8_t)port;
	}
	return len;
}

uint64_t sched_hash_addr(const struct lb_addr *addr, uint16_t port, bool with_port, uint32_t retry,
			 uint64_t seed)
{
	uint8_t key[SCHED_ADDR_KEY_MAX + 4];
	size_t len = sched_addr_key(key, addr, port, with_port);

	if (retry != 0) {
		key[len++] = (uint8_t)(retry >> 24);
		key[len++] = (uint8_t)(retry >> 16);
		key[len++] = (uint8_t)(retry >> 8);
		key[len++] = (uint8_t)retry;
	}
	return sched_hash64(key, len, seed);
}

struct sort_item {
	struct lb_addr addr;
	uint16_t port;
	uint32_t index;
};

static int sort_item_compare(const void *pa, const void *pb)
{
	const struct sort_item *a = pa, *b = pb;
	int c = lb_addr_compare(&a->addr, &b->addr);

	if (c != 0)
		return c;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	/* Only exact duplicates get here; the index keeps qsort deterministic. */
	return a->index < b->index ? -1 : a->index > b->index;
}

int sched_canonical_order(const struct sched_dest *dests, uint32_t n, uint32_t *order)
{
	struct sort_item *items;

	if (n == 0)
		return 0;
	items = malloc((size_t)n * sizeof(*items));
	if (items == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		items[i].addr = dests[i].addr;
		items[i].port = dests[i].port;
		items[i].index = i;
	}
	qsort(items, n, sizeof(*items), sort_item_compare);
	for (uint32_t i = 0; i < n; i++)
		order[i] = items[i].index;
	free(items);
	return 0;
}

bool sched_is_prime(uint32_t v)
{
	if (v < 2)
		return false;
	if (v % 2 == 0)
		return v == 2;
	for (uint32_t d = 3; (uint64_t)d * d <= v; d += 2)
		if (v % d == 0)
			return false;
	return true;
}

int sched_first_available_from(const struct sched_dest *dests, uint32_t n, uint32_t start)
{
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (start + k) % n;
		if (sched_dest_available(&dests[i]))
			return (int)i;
	}
	return -1;
}

#define BUCKETS_MIN 256u      /* IPVS dh/sh table size */
#define BUCKETS_MAX 65536u    /* 256 KiB per service at most */
#define BUCKETS_PER_DEST 64u  /* keeps rounding below 1/64 of a dest's share while under the cap */

struct remainder_item {
	uint64_t remainder;
	uint32_t rank; /* position in canonical order */
};

static int remainder_compare(const void *pa, const void *pb)
{
	const struct remainder_item *a = pa, *b = pb;

	if (a->remainder != b->remainder)
		return a->remainder > b->remainder ? -1 : 1;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

/*
 * Share of a dest in the table. A quiescent (weight 0) dest keeps the buckets of a weight-1 dest,
 * as in IPVS sh where weights 0 and 1 both take one bucket per round: taking a server to weight 0
 * then leaves every other server's buckets, and so its clients, where they were, and only the
 * quiescent server's own clients are refused or, with fallback, rehashed.
 */
static inline uint64_t table_weight(const struct sched_dest *d)
{
	return d->weight > 0 ? d->weight : 1;
}

int sched_bucket_table_build(struct sched_bucket_table **out, const struct sched_dest *dests,
			     uint32_t n)
{
	uint64_t total_weight = 0;
	uint32_t size = BUCKETS_MIN;
	struct sched_bucket_table *t;
	uint32_t *order = NULL, *count = NULL;
	struct remainder_item *rem = NULL;
	int rc = -ENOMEM;

	for (uint32_t i = 0; i < n; i++)
		total_weight += table_weight(&dests[i]);
	/* Sized by the dest count, not the weighted count: a weight change never resizes it. */
	while (size < BUCKETS_MAX && (uint64_t)size < (uint64_t)n * BUCKETS_PER_DEST)
		size <<= 1;
	t = calloc(1, sizeof(*t) + (size_t)size * sizeof(t->dest[0]));
	if (t == NULL)
		return -ENOMEM;
	t->mask = size - 1;
	if (n == 0) {
		*out = t;
		return 0;
	}
	order = malloc((size_t)n * sizeof(*order));
	count = calloc(n, sizeof(*count));
	rem = malloc((size_t)n * sizeof(*rem));
	if (order == NULL || count == NULL || rem == NULL || sched_canonical_order(dests, n, order))
		goto out;

	/* Largest-remainder apportionment: each dest gets floor or ceil of its exact share. */
	uint32_t given = 0;
	for (uint32_t r = 0; r < n; r++) {
		uint64_t exact = (uint64_t)size * table_weight(&dests[order[r]]);
		count[r] = (uint32_t)(exact / total_weight);
		rem[r].remainder = exact % total_weight;
		rem[r].rank = r;
		given += count[r];
	}
	qsort(rem, n, sizeof(*rem), remainder_compare);
	for (uint32_t k = 0; given < size; k++, given++)
		count[rem[k].rank]++;

	uint32_t b = 0;
	for (uint32_t r = 0; r < n; r++)
		for (uint32_t c = 0; c < count[r]; c++)
			t->dest[b++] = order[r];
	t->n_buckets = size;
	*out = t;
	t = NULL;
	rc = 0;
out:
	free(order);
	free(count);
	free(rem);
	free(t);
	return rc;
}

int sched_bucket_table_pick(const struct sched_bucket_table *t, const struct sched_dest *dests,
			    uint32_t n, const struct lb_addr *addr, uint16_t port, bool with_port,
			    bool fallback, uint64_t seed)
{
	if (t == NULL || t->n_buckets == 0 || n == 0)
		return -1;
	uint32_t d = t->dest[sched_hash_addr(addr, port, with_port, 0, seed) & t->mask];
	if (d < n && sched_dest_available(&dests[d]))
		return (int)d;
	if (!fallback)
		return -1;
	/* Rehashing spreads the clients of an unavailable dest over the others by weight. */
	for (uint32_t retry = 1; retry <= SCHED_FALLBACK_PROBES; retry++) {
		uint32_t alt = t->dest[sched_hash_addr(addr, port, with_port, retry, seed) & t->mask];
		if (alt < n && sched_dest_available(&dests[alt]))
			return (int)alt;
	}
	return sched_first_available_from(dests, n, d + 1 < n ? d + 1 : 0);
}
