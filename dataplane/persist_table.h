/*
 * Persistence templates: (service, client address under the netmask) -> real server, shared by
 * all workers because a client's connections land on any of them. It is the one structure
 * workers write, and only when a persistent service takes a new connection. Lock-free: readers
 * use plain atomic loads, a writer claims a slot with one 128-bit compare-and-swap and refreshes
 * a template it found with one 64-bit atomic store. Expired slots are reused in place.
 */
#ifndef DPDK_LB_PERSIST_TABLE_H
#define DPDK_LB_PERSIST_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "inet_addr.h"

#define PERSIST_PROBES 8 /* slots tried from the hashed one before the table counts as full */

/* value word: real id (24 bits) | low 8 bits of its generation | expiry in seconds (32 bits) */
struct persist_slot {
	uint64_t key_hash; /* 0 = never used */
	uint64_t value;
	/* for listings only: written after the slot is claimed */
	uint32_t service_id;
	uint8_t family;
	uint8_t reserved[3];
	uint8_t client[16];
	uint64_t reserved2;
} __rte_aligned(16);

struct persist_table {
	uint32_t mask;
	struct persist_slot *slots;
};

struct persist_key {
	uint64_t hash;
	uint32_t service_id;
	struct lb_addr client; /* already masked */
};

/* Allocates a table of at least `capacity` slots (power of two); NULL on failure. */
struct persist_table *persist_table_create(uint32_t capacity);

/* Builds the key of a client of service_id, masking its address to prefix_len bits. */
void persist_key_make(struct persist_key *k, uint32_t service_id, const struct lb_addr *client,
		      uint8_t prefix_len);

/* Finds the live template of key: true with *real_id, *gen8 filled. */
bool persist_table_lookup(const struct persist_table *t, const struct persist_key *k,
			  uint32_t now_s, uint32_t *real_id, uint8_t *gen8);

/* Creates or refreshes the template of key for timeout_s; false when no slot was free. */
bool persist_table_store(struct persist_table *t, const struct persist_key *k, uint32_t real_id,
			 uint32_t gen, uint32_t now_s, uint32_t timeout_s);

/*
 * Expires every template of service_id. Control lcore, only once no published snapshot has the
 * service any more: then no worker writes its templates, and its id may be reused safely.
 */
void persist_table_forget_service(struct persist_table *t, uint32_t service_id);

/* A live template, as listings (conn.list) show it. */
struct persist_template {
	uint32_t service_id;
	uint32_t real_id;
	uint8_t real_gen8; /* low 8 bits of the real's generation */
	uint8_t family;    /* of client */
	uint8_t client[16]; /* masked client address */
	uint32_t expires_s; /* absolute, in seconds of the TSC clock */
};

/* Slot positions of the table: the range persist_table_read() takes. */
uint32_t persist_table_positions(const struct persist_table *t);

/*
 * Reads the template at slot pos into *out; false when the slot is unused or expired at now_s.
 * Workers may write the slot meanwhile: a slot changing under the reader reads as expired or
 * as its new template, never as a mix of key and value.
 */
bool persist_table_read(const struct persist_table *t, uint32_t pos, uint32_t now_s,
			struct persist_template *out);

static inline uint64_t persist_value(uint32_t real_id, uint32_t gen, uint32_t expires_s)
{
	return ((uint64_t)(real_id & 0xffffff) << 40) | ((uint64_t)(gen & 0xff) << 32) | expires_s;
}

static inline uint32_t persist_value_real(uint64_t v)
{
	return (uint32_t)(v >> 40);
}

static inline uint8_t persist_value_gen8(uint64_t v)
{
	return (uint8_t)(v >> 32);
}

static inline uint32_t persist_value_expires(uint64_t v)
{
	return (uint32_t)v;
}

#endif
