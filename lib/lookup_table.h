/*
 * A build-once, read-many open-addressing map from a fixed-size key (up to 24 bytes) to a
 * 32-bit value. The control lcore builds one per configuration snapshot; workers only read it,
 * so it needs no synchronisation of its own.
 */
#ifndef DPDK_LB_LOOKUP_TABLE_H
#define DPDK_LB_LOOKUP_TABLE_H

#include <stdint.h>

#define LOOKUP_TABLE_KEY_MAX 24

struct lookup_slot {
	uint32_t value_plus1; /* 0 = empty */
	uint8_t key[LOOKUP_TABLE_KEY_MAX];
};

struct lookup_table {
	uint32_t mask;
	uint32_t key_len;
	uint32_t count;
	struct lookup_slot *slots;
};

/* Allocates room for `expected` keys of key_len bytes at load <= 1/2; returns 0 or -errno. */
int lookup_table_init(struct lookup_table *t, uint32_t expected, uint32_t key_len);

/* Inserts key -> value; -EEXIST when the key is there, -ENOSPC when full. */
int lookup_table_insert(struct lookup_table *t, const void *key, uint32_t value);

/* Returns the value stored for key, or -1. */
int64_t lookup_table_find(const struct lookup_table *t, const void *key);

/* Frees the slots (the struct itself is the caller's). */
void lookup_table_free(struct lookup_table *t);

#endif
