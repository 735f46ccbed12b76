#include "flow_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

struct flow_table *flow_table_create(const char *name, uint32_t capacity, int socket)
{
	struct rte_hash_parameters params = {
		.name = name,
		.entries = capacity,
		.key_len = sizeof(struct flow_key),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = socket,
		/* Extendable buckets: the configured capacity is really reachable. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct flow_table *ft = rte_zmalloc_socket(name, sizeof(*ft), RTE_CACHE_LINE_SIZE, socket);

	if (ft == NULL)
		return NULL;
	ft->hash = rte_hash_create(&params);
	if (ft->hash == NULL)
		goto fail;
	/* rte_hash positions range over the slots it may hand out, which exceeds `entries`. */
	ft->capacity = (uint32_t)rte_hash_max_key_id(ft->hash) + 1;
	ft->entries = rte_zmalloc_socket(name, sizeof(struct flow_entry) * ft->capacity,
					 RTE_CACHE_LINE_SIZE, socket);
	ft->key_hashes = rte_zmalloc_socket(name, sizeof(uint32_t) * ft->capacity,
					    RTE_CACHE_LINE_SIZE, socket);
	if (ft->entries == NULL || ft->key_hashes == NULL)
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
	rte_hash_free(ft->hash);
	rte_free(ft->entries);
	rte_free(ft->key_hashes);
	rte_free(ft);
}

uint32_t flow_table_hash(const struct flow_table *ft, const struct flow_key *key)
{
	return rte_hash_hash(ft->hash, key);
}

void flow_table_lookup_bulk(struct flow_table *ft, const struct flow_key **keys,
			    const uint32_t *hashes, uint32_t n, int32_t *positions)
{
	if (n == 0)
		return;
	rte_hash_lookup_with_hash_bulk(ft->hash, (const void **)keys, (hash_sig_t *)hashes, n,
				       positions);
}

int32_t flow_table_lookup(struct flow_table *ft, const struct flow_key *key, uint32_t hash)
{
	return rte_hash_lookup_with_hash(ft->hash, key, hash);
}

int32_t flow_table_insert(struct flow_table *ft, const struct flow_key *key, uint32_t hash)
{
	int32_t pos = rte_hash_add_key_with_hash(ft->hash, key, hash);

	if (pos < 0)
		return -ENOSPC;
	memset(&ft->entries[pos], 0, sizeof(ft->entries[pos]));
	ft->key_hashes[pos] = hash;
	ft->entries[pos].peer = FLOW_NO_PEER;
	ft->count++;
	return pos;
}

void flow_table_remove(struct flow_table *ft, int32_t pos)
{
	const struct flow_key *key = flow_table_key(ft, pos);

	if (key != NULL && rte_hash_del_key_with_hash(ft->hash, key, ft->key_hashes[pos]) >= 0)
		ft->count--;
	ft->removals++;
	ft->entries[pos].expires = 0;
}

const struct flow_key *flow_table_key(const struct flow_table *ft, int32_t pos)
{
	void *key = NULL;

	if (rte_hash_get_key_with_position(ft->hash, pos, &key) != 0)
		return NULL;
	return key;
}
