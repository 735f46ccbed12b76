#include "lookup_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t key_hash(const uint8_t *key, uint32_t len)
{
	/* FNV-1a then a murmur finaliser: keys are short and the table is power-of-two sized. */
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < len; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

int lookup_table_init(struct lookup_table *t, uint32_t expected, uint32_t key_len)
{
	uint32_t size = 16;

	memset(t, 0, sizeof(*t));
	if (key_len == 0 || key_len > LOOKUP_TABLE_KEY_MAX)
		return -EINVAL;
	while (size < 2ull * expected && size < (1u << 30))
		size <<= 1;
	t->slots = calloc(size, sizeof(*t->slots));
	if (t->slots == NULL)
		return -ENOMEM;
	t->mask = size - 1;
	t->key_len = key_len;
	return 0;
}

int lookup_table_insert(struct lookup_table *t, const void *key, uint32_t value)
{
	if (t->slots == NULL || value == UINT32_MAX)
		return -EINVAL;
	if (t->count >= t->mask) /* keep one slot empty so lookups of absent keys stop */
		return -ENOSPC;
	uint32_t i = key_hash(key, t->key_len) & t->mask;
	for (;; i = (i + 1) & t->mask) {
		struct lookup_slot *s = &t->slots[i];
		if (s->value_plus1 == 0) {
			memcpy(s->key, key, t->key_len);
			s->value_plus1 = value + 1;
			t->count++;
			return 0;
		}
		if (memcmp(s->key, key, t->key_len) == 0)
			return -EEXIST;
	}
}

int64_t lookup_table_find(const struct lookup_table *t, const void *key)
{
	if (t->slots == NULL)
		return -1;
	uint32_t i = key_hash(key, t->key_len) & t->mask;
	for (;; i = (i + 1) & t->mask) {
		const struct lookup_slot *s = &t->slots[i];
		if (s->value_plus1 == 0)
			return -1;
		if (memcmp(s->key, key, t->key_len) == 0)
			return (int64_t)s->value_plus1 - 1;
	}
}

void lookup_table_free(struct lookup_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->count = 0;
}
