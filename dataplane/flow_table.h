/*
 * Per-worker flow table: 5-tuple -> flow entry (docs/architecture.md, "The flow table"). Only its
 * worker lcore touches it, so it is lockless by construction. Two sub-tables, one per family
 * (IPv4 keys are 16 bytes, IPv6 keys 40), each an array of 8-slot buckets: a header line of
 * 16-bit signatures, then the slots, each a key and its entry side by side, so a lookup reads
 * the header and one slot. A key lives in its primary bucket or, when that is fuller, in its
 * alternate; entries never move, so a position names a flow for its whole life. Expiry is a
 * timer wheel (flow_wheel.h) over the positions of connection entries.
 */
#ifndef DPDK_LB_FLOW_TABLE_H
#define DPDK_LB_FLOW_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <string.h>
#include <sys/socket.h>

#include <rte_common.h>
#include <rte_hash_crc.h>

#include "flow_wheel.h"

/* The key as the rest of the dataplane builds it; the table stores IPv4 ones in 16 bytes. */
struct flow_key {
	uint8_t family;
	uint8_t proto;
	uint16_t sport; /* network order */
	uint16_t dport; /* network order */
	uint16_t pad;
	uint8_t src[16];
	uint8_t dst[16];
};

#define FLOW_F_ACTIVE 0x1 /* counted as active (ESTABLISHED), else inactive */
#define FLOW_F_REPLY 0x2  /* the real -> appliance key of a nat/fnat flow; `peer` is the flow */
#define FLOW_F_PINNED 0x80 /* a half-open flow the half-open ring names by position */

#define FLOW_NO_PEER (-1)

/* local_idx of an fnat flow whose local address only its reply key tells (one installed by sync) */
#define FLOW_LOCAL_UNKNOWN 0xff

/* A reply entry never expires by itself: it goes with its flow. */
#define FLOW_REPLY_EXPIRES UINT64_MAX

/*
 * One slot per key. A dr/tun connection has one key (client -> VIP). A nat/fnat connection has
 * a second key, the direction its replies arrive in (real -> client, or real -> local address),
 * whose entry only points back at the connection's entry and remembers where the client's
 * packets came from, which is where replies go.
 */
struct flow_entry {
	uint64_t expires; /* TSC; 0 = slot unused; FLOW_REPLY_EXPIRES for reply entries */
	union {
		struct { /* the connection (client -> VIP key) */
			uint32_t real_id;
			uint32_t real_gen;
			uint16_t service_id;
			uint16_t born; /* low bits of the birth stamp of a tracked TCP flow (half_open.h) */
		};
		struct { /* FLOW_F_REPLY: the hop the client's packets came from */
			uint8_t hop_mac[6];
			uint16_t hop_port;
		};
	};
	uint8_t state;     /* enum lb_conn_state */
	uint8_t flags;
	uint8_t forward;   /* enum lb_forward the connection was created with */
	/* fnat connection: its local address, an index into its service's; FLOW_LOCAL_UNKNOWN */
	uint8_t local_idx;
	union {
		/* reply entry of a SYN-proxied flow: the real's ISN minus the cookie's */
		uint32_t seq_delta;
		/* fnat connection: its local port (network order), so the client path needs no
		 * reply key */
		uint16_t local_port;
	};
	int32_t peer;       /* the other key's position, FLOW_NO_PEER for dr/tun */
} __rte_aligned(8);

_Static_assert(sizeof(struct flow_entry) == 32, "a flow entry is 32 bytes");

/* The stored IPv4 key: addresses and ports as the packet carries them. */
struct flow_key4 {
	uint32_t src;
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t pad[3];
};

_Static_assert(sizeof(struct flow_key4) == 16, "an IPv4 flow key is 16 bytes");

#define FLOW_BUCKET_SLOTS 8
#define FLOW_BUCKET_HEAD 64 /* the header line */

/* The header line of a bucket. */
struct flow_bucket_head {
	uint16_t sig[FLOW_BUCKET_SLOTS]; /* 0: slot free */
	uint16_t queued[FLOW_BUCKET_SLOTS]; /* low bits of the wheel tick slot i is queued at */
	uint16_t alt_count; /* keys whose primary bucket is this one, held in their alternate */
	uint8_t in_alt;     /* bit i: slot i holds a key whose primary bucket is another */
	uint8_t queued_mask; /* bit i: slot i is on the wheel (queued[i] says where) */
	uint8_t pad[FLOW_BUCKET_HEAD - 4 * FLOW_BUCKET_SLOTS - 4];
};

_Static_assert(sizeof(struct flow_bucket_head) == FLOW_BUCKET_HEAD, "one header line");

/* One family's buckets. Positions base .. base + 8 * n_buckets - 1 are its slots. */
struct flow_subtable {
	uint8_t *buckets;
	uint32_t n_buckets;
	uint32_t bucket_size; /* header + 8 slots */
	uint32_t slot_size;   /* key + entry */
	uint32_t key_size;    /* 16 (IPv4) or 40 (IPv6) */
	uint32_t base;        /* the position of its first slot */
	uint32_t count;       /* keys held */
	uint32_t limit;       /* keys it may hold (the configured capacity) */
	uint32_t bucket_full; /* inserts refused below the limit: both buckets full (ever) */
};

struct flow_table {
	struct flow_subtable v4;
	struct flow_subtable v6;
	struct flow_wheel wheel;
	/* A FLOW_F_PINNED entry moved to pos: whoever named it by position learns where it is. */
	void (*pinned_moved)(void *arg, int32_t pos);
	void *pinned_moved_arg;
	uint32_t capacity; /* positions: v4 slots, then v6 slots */
	uint32_t count;    /* keys held, both families */
	uint32_t removals; /* ever: a change tells a burst its bulk-lookup positions may be stale */
	uint64_t moves;    /* ever: keys moved to their other bucket to make room */
	uint32_t sweep_bucket; /* the safety sweep's place (flow_table_sweep_unqueued) */
};

/*
 * Creates a table for cap4 IPv4 and cap6 IPv6 keys on `socket`, its wheel ticking every
 * tick_tsc cycles; NULL with rte_errno set on failure.
 */
struct flow_table *flow_table_create(const char *name, uint32_t cap4, uint32_t cap6, int socket,
				     uint64_t tick_tsc, uint64_t now);

/* Frees the table. */
void flow_table_free(struct flow_table *ft);

/* Heap bytes of the IPv4 flows: their buckets and their share of the wheel. */
uint64_t flow_table_ipv4_bytes(const struct flow_table *ft);

/*
 * The table's hash of key: computed once per packet, then reused by lookup and insert. CRC32C
 * of the stored form (an IPv4 key's 16 bytes: addresses, ports, protocol; an IPv6 key whole),
 * inline: it runs once per packet. The words are copied out, not loaded through casts.
 */
static inline uint32_t flow_table_hash(const struct flow_table *ft, const struct flow_key *key)
{
	uint64_t w[sizeof(struct flow_key) / 8];
	uint32_t h = 0;

	RTE_SET_USED(ft);
	if (key->family == AF_INET) {
		uint32_t a[4];
		memcpy(&a[0], key->src, 4);
		memcpy(&a[1], key->dst, 4);
		a[2] = (uint32_t)key->sport | (uint32_t)key->dport << 16;
		a[3] = key->proto;
		memcpy(w, a, sizeof(a));
		return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], 0));
	}
	memcpy(w, key, sizeof(*key));
	for (uint32_t i = 0; i < RTE_DIM(w); i++)
		h = rte_hash_crc_8byte(w[i], h);
	return h;
}

/* Looks up n keys with their hashes; positions[i] is the entry index or negative when absent. */
void flow_table_lookup_bulk(struct flow_table *ft, const struct flow_key **keys,
			    const uint32_t *hashes, uint32_t n, int32_t *positions);

/* Looks up one key; its entry index or a negative value when absent. */
int32_t flow_table_lookup(struct flow_table *ft, const struct flow_key *key, uint32_t hash);

/*
 * Inserts key (not present); returns its position, the entry zeroed, peer FLOW_NO_PEER.
 * expires: when the wheel first looks at it (the connection's expiry; 0 for a reply key, which
 * leaves with its connection). -ENOSPC: the family holds its limit; -EBUSY: both of the key's
 * buckets are full (flow_table_bucket_positions says which flows hold them).
 */
int32_t flow_table_insert(struct flow_table *ft, const struct flow_key *key, uint32_t hash,
			  uint64_t expires);

/* Removes the entry at pos now (out of the wheel too); its slot is free at once. */
void flow_table_remove(struct flow_table *ft, int32_t pos);

/* The 16 positions of key's two buckets (free slots included); returns how many are written. */
uint32_t flow_table_bucket_positions(const struct flow_table *ft, const struct flow_key *key,
				     uint32_t hash, int32_t out[2 * FLOW_BUCKET_SLOTS]);

/*
 * The key stored at pos (written into *buf, which must live as long as it is used), or NULL
 * when the slot is free.
 */
const struct flow_key *flow_table_key(const struct flow_table *ft, int32_t pos,
				      struct flow_key *buf);

/* Ends connections whose time is up: the wheel's due lists, at most budget entries visited;
 * calls expire(arg, pos) for each, which must remove it. Returns the entries visited. */
uint32_t flow_table_expire(struct flow_table *ft, uint64_t now, uint32_t budget,
			   void (*expire)(void *arg, int32_t pos), void *arg);

/* Puts the connection at pos on the wheel at its (new, earlier) expiry. */
void flow_table_rearm(struct flow_table *ft, int32_t pos);

/*
 * Only while the wheel has ever run out of chunks (wheel.full): visits `buckets` buckets in
 * turn, ends connections whose time is up that are not on the wheel and puts live ones back on
 * it. Returns the buckets visited.
 */
uint32_t flow_table_sweep_unqueued(struct flow_table *ft, uint64_t now, uint32_t buckets,
				   void (*expire)(void *arg, int32_t pos), void *arg);

static inline const struct flow_subtable *flow_table_sub(const struct flow_table *ft, int32_t pos)
{
	return (uint32_t)pos >= ft->v6.base ? &ft->v6 : &ft->v4;
}

/* The slot (key, then entry) at pos. */
static inline uint8_t *flow_table_slot(const struct flow_table *ft, int32_t pos)
{
	const struct flow_subtable *t = flow_table_sub(ft, pos);
	uint32_t rel = (uint32_t)pos - t->base;

	return t->buckets + (size_t)(rel / FLOW_BUCKET_SLOTS) * t->bucket_size + FLOW_BUCKET_HEAD +
	       (rel % FLOW_BUCKET_SLOTS) * t->slot_size;
}

/* The entry at pos (a position from lookup or insert, or < capacity). */
static inline struct flow_entry *flow_table_entry(const struct flow_table *ft, int32_t pos)
{
	return (struct flow_entry *)(flow_table_slot(ft, pos) + flow_table_sub(ft, pos)->key_size);
}

/* The position of entry e of this table. */
int32_t flow_table_pos_of(const struct flow_table *ft, const struct flow_entry *e);

/* The table's fill in IPv4 keys: the fuller family's share of its limit times the IPv4 limit. */
static inline uint32_t flow_table_fill(const struct flow_table *ft)
{
	uint64_t v6 = ft->v6.limit ? (uint64_t)ft->v6.count * ft->v4.limit / ft->v6.limit : 0;

	return ft->v4.count > v6 ? ft->v4.count : (uint32_t)v6;
}

#endif
