/*
 * Per-worker flow table: 5-tuple -> flow entry. Only its worker lcore touches it, so it is
 * lockless by construction (rte_hash without multi-writer support). Entries live in an array
 * indexed by the hash's key position; expiry is an incremental sweep of that array.
 */
#ifndef DPDK_LB_FLOW_TABLE_H
#define DPDK_LB_FLOW_TABLE_H

#include <stdint.h>

#include <rte_common.h>

struct rte_hash;

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

#define FLOW_NO_PEER (-1)

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
	uint8_t pad;
	uint32_t seq_delta; /* SYN proxy: the real's initial sequence number minus the cookie's */
	int32_t peer;       /* the other key's position, FLOW_NO_PEER for dr/tun */
} __rte_aligned(32);

_Static_assert(sizeof(struct flow_entry) == 32, "two flow entries per cache line");

struct flow_table {
	struct rte_hash *hash;
	struct flow_entry *entries;
	uint32_t *key_hashes; /* kept so removal does not hash the key again */
	uint32_t capacity;
	uint32_t sweep_cursor;
	uint32_t count;
	uint32_t removals; /* ever: a change tells a burst its bulk-lookup positions may be stale */
};

/* Creates a table for `capacity` flows on `socket`; NULL with rte_errno set on failure. */
struct flow_table *flow_table_create(const char *name, uint32_t capacity, int socket);

/* Frees the table. */
void flow_table_free(struct flow_table *ft);

/* The table's hash of key: computed once per packet, then reused by lookup, insert, remove. */
uint32_t flow_table_hash(const struct flow_table *ft, const struct flow_key *key);

/* Looks up n keys with their hashes; positions[i] is the entry index or negative when absent. */
void flow_table_lookup_bulk(struct flow_table *ft, const struct flow_key **keys,
			    const uint32_t *hashes, uint32_t n, int32_t *positions);

/* Looks up one key; its entry index or a negative value when absent. */
int32_t flow_table_lookup(struct flow_table *ft, const struct flow_key *key, uint32_t hash);

/* Inserts key; returns its entry index (entry zeroed) or -ENOSPC. */
int32_t flow_table_insert(struct flow_table *ft, const struct flow_key *key, uint32_t hash);

/* Removes the entry at pos. */
void flow_table_remove(struct flow_table *ft, int32_t pos);

/* The key stored at pos, or NULL. */
const struct flow_key *flow_table_key(const struct flow_table *ft, int32_t pos);

#endif
