/* The per-worker flow table (flow_table.h). */
#include "flow_table.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "flow_table_internal.h"

/*
 * Buckets for `keys` keys: one slot in nine stays free at the configured capacity, so that a
 * full table still finds room in one of a key's two buckets for all but a few keys (the rest
 * are refused and counted as bucket_full).
 */
static uint32_t buckets_for(uint32_t keys)
{
	uint64_t slots = (uint64_t)keys + keys / 8;

	return (uint32_t)RTE_MAX((slots + FLOW_BUCKET_SLOTS - 1) / FLOW_BUCKET_SLOTS, (uint64_t)2);
}

static int sub_init(struct flow_subtable *t, const char *name, uint32_t keys, uint32_t key_size,
		    uint32_t base, int socket)
{
	memset(t, 0, sizeof(*t));
	t->key_size = key_size;
	t->slot_size = key_size + (uint32_t)sizeof(struct flow_entry);
	t->bucket_size = FLOW_BUCKET_HEAD + FLOW_BUCKET_SLOTS * t->slot_size;
	t->n_buckets = keys ? buckets_for(keys) : 0;
	t->limit = keys;
	t->base = base;
	if (keys == 0)
		return 0;
	t->buckets = rte_zmalloc_socket(name, (size_t)t->n_buckets * t->bucket_size,
					RTE_CACHE_LINE_SIZE, socket);
	return t->buckets == NULL ? -ENOMEM : 0;
}

struct flow_table *flow_table_create(const char *name, uint32_t cap4, uint32_t cap6, int socket,
				     uint64_t tick_tsc, uint64_t now)
{
	struct flow_table *ft = rte_zmalloc_socket(name, sizeof(*ft), RTE_CACHE_LINE_SIZE, socket);
	uint32_t shift = 0;

	if (ft == NULL)
		goto fail;
	if (sub_init(&ft->v4, name, cap4, sizeof(struct flow_key4), 0, socket) != 0)
		goto fail;
	uint64_t v4_slots = (uint64_t)ft->v4.n_buckets * FLOW_BUCKET_SLOTS;
	if (sub_init(&ft->v6, name, cap6, sizeof(struct flow_key), (uint32_t)v4_slots, socket) != 0)
		goto fail;
	uint64_t positions = v4_slots + (uint64_t)ft->v6.n_buckets * FLOW_BUCKET_SLOTS;
	if (positions > INT32_MAX)
		goto fail;
	ft->capacity = (uint32_t)positions;
	while (shift < 62 && ((uint64_t)2 << shift) <= tick_tsc)
		shift++;
	/* A reference per connection, and as many again for references gone stale (flows that
	 * ended or were queued again before their tick) */
	if (flow_wheel_init(&ft->wheel, ft->capacity + ft->capacity / 2, shift, now, socket) != 0)
		goto fail;
	return ft;
fail:
	flow_table_free(ft);
	rte_errno = ENOMEM;
	return NULL;
}

void flow_table_free(struct flow_table *ft)
{
	if (ft == NULL)
		return;
	rte_free(ft->v4.buckets);
	rte_free(ft->v6.buckets);
	flow_wheel_free(&ft->wheel);
	rte_free(ft);
}

uint64_t flow_table_ipv4_bytes(const struct flow_table *ft)
{
	uint64_t v4_slots = (uint64_t)ft->v4.n_buckets * FLOW_BUCKET_SLOTS;

	return (uint64_t)ft->v4.n_buckets * ft->v4.bucket_size +
	       flow_wheel_bytes(&ft->wheel) * v4_slots / ft->capacity;
}

/*
 * CRC32C of the stored key, 8 bytes at a time. The words are copied out rather than read
 * through a cast (as rte_hash_crc does), which the compiler may reorder before the key is
 * written: measured, two hashes of one key differed.
 */
int32_t flow_table_lookup(struct flow_table *ft, const struct flow_key *key, uint32_t hash)
{
	if (key->family == AF_INET) {
		struct flow_key4 k4;
		flow_key4_make(&k4, key);
		return sub_find(&ft->v4, &k4, hash);
	}
	return sub_find(&ft->v6, key, hash);
}

/* Three passes over the burst so that each one's memory reads overlap the others': the
 * buckets' header lines, then the slots their signatures point at, then the keys. */
void flow_table_lookup_bulk(struct flow_table *ft, const struct flow_key **keys,
			    const uint32_t *hashes, uint32_t n, int32_t *positions)
{
	struct flow_key4 k4[FLOW_BULK_MAX];
	uint32_t bucket[FLOW_BULK_MAX];
	uint32_t hits[FLOW_BULK_MAX];

	for (uint32_t start = 0; start < n; start += FLOW_BULK_MAX) {
		uint32_t m = RTE_MIN(n - start, (uint32_t)FLOW_BULK_MAX);

		for (uint32_t i = 0; i < m; i++) {
			const struct flow_key *k = keys[start + i];
			const struct flow_subtable *t = k->family == AF_INET ? &ft->v4 : &ft->v6;
			if (k->family == AF_INET)
				flow_key4_make(&k4[i], k);
			bucket[i] = bucket_primary(hashes[start + i], t->n_buckets);
			rte_prefetch0(bucket_head(t, bucket[i]));
		}
		for (uint32_t i = 0; i < m; i++) {
			const struct flow_subtable *t =
				keys[start + i]->family == AF_INET ? &ft->v4 : &ft->v6;
			const struct flow_bucket_head *hd = bucket_head(t, bucket[i]);
			hits[i] = sig_matches(hd, sig_of(hashes[start + i]));
			uint32_t free_slots = sig_matches(hd, 0);
			/* a hit's slot to read, or for a miss (a new flow, most likely) the slot an
			 * insert will write */
			if (hits[i] != 0)
				slot_prefetch(t, bucket[i], (uint32_t)__builtin_ctz(hits[i]));
			else if (free_slots != 0)
				slot_prefetch(t, bucket[i], (uint32_t)__builtin_ctz(free_slots));
		}
		for (uint32_t i = 0; i < m; i++) {
			const struct flow_key *k = keys[start + i];
			const struct flow_subtable *t = k->family == AF_INET ? &ft->v4 : &ft->v6;
			const void *stored = k->family == AF_INET ? (const void *)&k4[i] : (const void *)k;
			uint32_t h = hashes[start + i];
			int32_t pos = bucket_match(t, bucket[i], stored, hits[i]);
			if (pos < 0 && bucket_head(t, bucket[i])->alt_count != 0)
				pos = bucket_find(t, bucket_alternate(h, bucket[i], t->n_buckets),
						  stored, sig_of(h));
			positions[start + i] = pos;
		}
	}
}

/* Puts the slot (bucket b, slot i, position pos) on the wheel at expiry `expires`; with no
 * chunk free it stays off (the safety sweep finds it). */
static void slot_queue(struct flow_table *ft, struct flow_bucket_head *hd, uint32_t i,
		       int32_t pos, uint64_t expires)
{
	uint64_t tick = flow_wheel_tick(&ft->wheel, expires);

	if (flow_wheel_append(&ft->wheel, tick, (uint32_t)pos)) {
		hd->queued[i] = (uint16_t)tick;
		hd->queued_mask |= (uint8_t)(1u << i);
	} else {
		hd->queued_mask &= (uint8_t)~(1u << i);
	}
}

/* Moves the key at `from` (bucket fb) to a free slot of bucket `to`: its peer and its place on
 * the wheel follow it. */
static void slot_move(struct flow_table *ft, struct flow_subtable *t, uint32_t fb, uint32_t fi,
		      uint32_t to, uint32_t primary)
{
	struct flow_bucket_head *fh = bucket_head(t, fb), *th = bucket_head(t, to);
	uint32_t ti = (uint32_t)__builtin_ctz(sig_matches(th, 0));
	int32_t from = (int32_t)(t->base + fb * FLOW_BUCKET_SLOTS + fi);
	int32_t dest = (int32_t)(t->base + to * FLOW_BUCKET_SLOTS + ti);

	memcpy(bucket_slot(t, to, ti), bucket_slot(t, fb, fi), t->slot_size);
	th->sig[ti] = fh->sig[fi];
	fh->sig[fi] = 0;
	fh->in_alt &= (uint8_t)~(1u << fi);
	bool queued = fh->queued_mask & (1u << fi);
	fh->queued_mask &= (uint8_t)~(1u << fi);
	if (to != primary) {
		th->in_alt |= (uint8_t)(1u << ti);
		bucket_head(t, primary)->alt_count++; /* it was in its primary: fb == primary */
	} else {
		bucket_head(t, primary)->alt_count--;
	}
	struct flow_entry *e = flow_table_entry(ft, dest);
	if (e->peer != FLOW_NO_PEER)
		flow_table_entry(ft, e->peer)->peer = dest;
	if (queued)
		slot_queue(ft, th, ti, dest, e->expires);
	flow_table_entry(ft, from)->expires = 0;
	ft->removals++; /* positions a burst looked up may have moved */
	ft->moves++;
	if ((e->flags & FLOW_F_PINNED) && ft->pinned_moved != NULL)
		ft->pinned_moved(ft->pinned_moved_arg, dest);
}

/* The bucket the key at pos would live in if not in b (its primary or its alternate). */
static uint32_t other_bucket(const struct flow_table *ft, const struct flow_subtable *t,
			     int32_t pos, uint32_t b, uint32_t *primary)
{
	struct flow_key buf;
	uint32_t h = flow_table_hash(ft, flow_table_key(ft, pos, &buf));

	*primary = bucket_primary(h, t->n_buckets);
	return b == *primary ? bucket_alternate(h, *primary, t->n_buckets) : *primary;
}

/*
 * Frees a slot of full bucket b by moving one of its keys to its other bucket, making room
 * there first (recursively, `depth` more levels) when that one is full too. Keys being made
 * (expires 0: their caller still holds the position) stay. True when b has a free slot now.
 */
static bool bucket_make_room(struct flow_table *ft, struct flow_subtable *t, uint32_t b,
			     uint32_t depth)
{
	for (uint32_t level = 0; level <= depth; level++) {
		for (uint32_t i = 0; i < FLOW_BUCKET_SLOTS; i++) {
			int32_t pos = (int32_t)(t->base + b * FLOW_BUCKET_SLOTS + i);
			if (flow_table_entry(ft, pos)->expires == 0)
				continue;
			uint32_t primary, other = other_bucket(ft, t, pos, b, &primary);
			bool room = bucket_used(bucket_head(t, other)) < FLOW_BUCKET_SLOTS;
			/* First pass: a direct move; then one that makes room further on. */
			if (!room && level > 0)
				room = bucket_make_room(ft, t, other, depth - 1);
			if (room) {
				slot_move(ft, t, b, i, other, primary);
				return true;
			}
		}
	}
	return false;
}

int32_t flow_table_insert(struct flow_table *ft, const struct flow_key *key, uint32_t hash,
			  uint64_t expires)
{
	struct flow_subtable *t = key->family == AF_INET ? &ft->v4 : &ft->v6;
	struct flow_key4 k4;
	const void *stored = key;

	if (t->count >= t->limit)
		return -ENOSPC;
	if (key->family == AF_INET) {
		flow_key4_make(&k4, key);
		stored = &k4;
	}
	uint32_t b1 = bucket_primary(hash, t->n_buckets);
	uint32_t b2 = bucket_alternate(hash, b1, t->n_buckets);
	uint32_t n1 = bucket_used(bucket_head(t, b1));
	/* A primary less than half full takes the key without a look at the alternate (one cache
	 * line less per new flow). */
	uint32_t n2 = n1 < FLOW_BUCKET_SLOTS / 2 ? FLOW_BUCKET_SLOTS : bucket_used(bucket_head(t, b2));
	if (n1 == FLOW_BUCKET_SLOTS && n2 == FLOW_BUCKET_SLOTS) {
		/* One move if one will do, else a chain of two (measured: one level alone still
		 * refused 1 key in 100,000 at 80 % of the slots when every key was half-open). */
		if (!bucket_make_room(ft, t, b1, 0) && !bucket_make_room(ft, t, b2, 0) &&
		    !bucket_make_room(ft, t, b1, 1) && !bucket_make_room(ft, t, b2, 1)) {
			t->bucket_full++;
			return -EBUSY;
		}
		n1 = bucket_used(bucket_head(t, b1));
		n2 = bucket_used(bucket_head(t, b2));
	}
	/* The primary while it is half empty or no fuller, so that most lookups read one bucket. */
	uint32_t b = n1 < FLOW_BUCKET_SLOTS / 2 || n1 <= n2 ? b1 : b2;
	struct flow_bucket_head *hd = bucket_head(t, b);
	uint32_t i = (uint32_t)__builtin_ctz(sig_matches(hd, 0));
	int32_t pos = (int32_t)(t->base + b * FLOW_BUCKET_SLOTS + i);
	uint8_t *slot = bucket_slot(t, b, i);

	hd->sig[i] = sig_of(hash);
	memcpy(slot, stored, t->key_size);
	struct flow_entry *e = (struct flow_entry *)(slot + t->key_size);
	memset(e, 0, sizeof(*e));
	e->peer = FLOW_NO_PEER;
	if (b != b1) {
		hd->in_alt |= (uint8_t)(1u << i);
		bucket_head(t, b1)->alt_count++;
	}
	hd->queued_mask &= (uint8_t)~(1u << i);
	if (expires != 0)
		slot_queue(ft, hd, i, pos, expires);
	t->count++;
	ft->count++;
	return pos;
}

void flow_table_remove(struct flow_table *ft, int32_t pos)
{
	struct flow_subtable *t = (uint32_t)pos >= ft->v6.base ? &ft->v6 : &ft->v4;
	uint32_t rel = (uint32_t)pos - t->base;
	uint32_t b = rel / FLOW_BUCKET_SLOTS, i = rel % FLOW_BUCKET_SLOTS;
	struct flow_bucket_head *hd = bucket_head(t, b);

	ft->removals++;
	if (hd->sig[i] == 0)
		return;
	if (hd->in_alt & (1u << i)) {
		/* Its primary bucket counts it: the key's hash says which bucket that is. */
		struct flow_key buf;
		const struct flow_key *k = flow_table_key(ft, pos, &buf);
		uint32_t h = flow_table_hash(ft, k);
		bucket_head(t, bucket_primary(h, t->n_buckets))->alt_count--;
		hd->in_alt &= (uint8_t)~(1u << i);
	}
	hd->sig[i] = 0;
	hd->queued_mask &= (uint8_t)~(1u << i); /* its reference on the wheel is stale now */
	flow_table_entry(ft, pos)->expires = 0;
	t->count--;
	ft->count--;
}

uint32_t flow_table_bucket_positions(const struct flow_table *ft, const struct flow_key *key,
				     uint32_t hash, int32_t out[2 * FLOW_BUCKET_SLOTS])
{
	const struct flow_subtable *t = key->family == AF_INET ? &ft->v4 : &ft->v6;
	uint32_t b1 = bucket_primary(hash, t->n_buckets);
	uint32_t b2 = bucket_alternate(hash, b1, t->n_buckets);

	for (uint32_t i = 0; i < FLOW_BUCKET_SLOTS; i++) {
		out[i] = (int32_t)(t->base + b1 * FLOW_BUCKET_SLOTS + i);
		out[FLOW_BUCKET_SLOTS + i] = (int32_t)(t->base + b2 * FLOW_BUCKET_SLOTS + i);
	}
	return 2 * FLOW_BUCKET_SLOTS;
}

const struct flow_key *flow_table_key(const struct flow_table *ft, int32_t pos,
				      struct flow_key *buf)
{
	const struct flow_subtable *t = flow_table_sub(ft, pos);
	uint32_t rel = (uint32_t)pos - t->base;

	if (pos < 0 || (uint32_t)pos >= ft->capacity ||
	    bucket_head(t, rel / FLOW_BUCKET_SLOTS)->sig[rel % FLOW_BUCKET_SLOTS] == 0)
		return NULL;
	const uint8_t *slot = flow_table_slot(ft, pos);
	if (t == &ft->v6)
		return (const struct flow_key *)slot;
	flow_key4_expand(buf, (const struct flow_key4 *)slot);
	return buf;
}

int32_t flow_table_pos_of(const struct flow_table *ft, const struct flow_entry *e)
{
	const uint8_t *p = (const uint8_t *)e;
	const struct flow_subtable *t = &ft->v4;

	if (ft->v6.buckets != NULL && p >= ft->v6.buckets &&
	    p < ft->v6.buckets + (size_t)ft->v6.n_buckets * ft->v6.bucket_size)
		t = &ft->v6;
	size_t off = (size_t)(p - t->buckets);
	uint32_t b = (uint32_t)(off / t->bucket_size);
	uint32_t in = (uint32_t)(off % t->bucket_size) - FLOW_BUCKET_HEAD - t->key_size;

	return (int32_t)(t->base + b * FLOW_BUCKET_SLOTS + in / t->slot_size);
}

/* The header and slot index of position pos. */
static struct flow_bucket_head *pos_head(const struct flow_table *ft, int32_t pos, uint32_t *i)
{
	const struct flow_subtable *t = flow_table_sub(ft, pos);
	uint32_t rel = (uint32_t)pos - t->base;

	*i = rel % FLOW_BUCKET_SLOTS;
	return bucket_head(t, rel / FLOW_BUCKET_SLOTS);
}

/* One due reference: a stale one is skipped, a flow past its expiry ends, a live one is queued
 * again at its expiry. */
static void expire_visit(struct flow_table *ft, uint32_t pos, uint64_t tick, uint64_t now,
			 void (*expire)(void *arg, int32_t pos), void *arg)
{
	uint32_t i;
	struct flow_bucket_head *hd = pos_head(ft, (int32_t)pos, &i);

	/* A stale reference: the slot was freed, or queued elsewhere, since. */
	if (!(hd->queued_mask & (1u << i)) || hd->queued[i] != (uint16_t)tick)
		return;
	hd->queued_mask &= (uint8_t)~(1u << i);
	uint64_t exp = flow_table_entry(ft, (int32_t)pos)->expires;
	if (exp <= now)
		expire(arg, (int32_t)pos);
	else
		slot_queue(ft, hd, i, (int32_t)pos, exp);
}

#define EXPIRE_BATCH 16

/* Pops up to n due references and prefetches their header and slot lines: the flows are
 * scattered over the table, so their misses overlap instead of queueing. */
static uint32_t expire_batch(struct flow_table *ft, uint64_t now, uint32_t n, uint32_t *pos,
			     uint64_t *tick)
{
	uint32_t k = 0;

	while (k < n) {
		pos[k] = flow_wheel_pop_due(&ft->wheel, now, &tick[k]);
		if (pos[k] == FLOW_WHEEL_NONE)
			break;
		const struct flow_subtable *t = flow_table_sub(ft, (int32_t)pos[k]);
		uint32_t rel = pos[k] - t->base;
		rte_prefetch0(bucket_head(t, rel / FLOW_BUCKET_SLOTS));
		slot_prefetch(t, rel / FLOW_BUCKET_SLOTS, rel % FLOW_BUCKET_SLOTS);
		k++;
	}
	return k;
}

uint32_t flow_table_expire(struct flow_table *ft, uint64_t now, uint32_t budget,
			   void (*expire)(void *arg, int32_t pos), void *arg)
{
	uint32_t visited = 0, batch[EXPIRE_BATCH];
	uint64_t ticks[EXPIRE_BATCH];

	while (visited < budget) {
		uint32_t n = expire_batch(ft, now, RTE_MIN(budget - visited, (uint32_t)EXPIRE_BATCH),
					  batch, ticks);
		if (n == 0)
			break;
		visited += n;
		for (uint32_t k = 0; k < n; k++)
			expire_visit(ft, batch[k], ticks[k], now, expire, arg);
	}
	return visited;
}

void flow_table_rearm(struct flow_table *ft, int32_t pos)
{
	uint64_t exp = flow_table_entry(ft, pos)->expires;
	uint32_t i;
	struct flow_bucket_head *hd = pos_head(ft, pos, &i);

	/* The reference it had goes stale: queued[i] names the new tick. */
	if (exp != 0 && exp != FLOW_REPLY_EXPIRES && hd->sig[i] != 0)
		slot_queue(ft, hd, i, pos, exp);
}

uint32_t flow_table_sweep_unqueued(struct flow_table *ft, uint64_t now, uint32_t buckets,
				   void (*expire)(void *arg, int32_t pos), void *arg)
{
	uint32_t total = ft->v4.n_buckets + ft->v6.n_buckets;

	if (ft->wheel.full == 0 || total == 0)
		return 0;
	for (uint32_t k = 0; k < buckets; k++) {
		uint32_t b = ft->sweep_bucket++ % total;
		const struct flow_subtable *t = b < ft->v4.n_buckets ? &ft->v4 : &ft->v6;
		uint32_t tb = b < ft->v4.n_buckets ? b : b - ft->v4.n_buckets;
		struct flow_bucket_head *hd = bucket_head(t, tb);
		for (uint32_t i = 0; i < FLOW_BUCKET_SLOTS; i++) {
			int32_t pos = (int32_t)(t->base + tb * FLOW_BUCKET_SLOTS + i);
			uint64_t exp = flow_table_entry(ft, pos)->expires;
			if (hd->sig[i] == 0 || (hd->queued_mask & (1u << i)) || exp == 0 ||
			    exp == FLOW_REPLY_EXPIRES)
				continue;
			if (exp <= now)
				expire(arg, pos);
			else
				slot_queue(ft, hd, i, pos, exp);
		}
	}
	return buckets;
}
