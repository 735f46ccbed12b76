#include "persist_table.h"

#include <string.h>

#include <rte_atomic.h>
#include <rte_malloc.h>

#include "sched_util.h"

struct persist_table *persist_table_create(uint32_t capacity)
{
	struct persist_table *t = rte_zmalloc("persist", sizeof(*t), RTE_CACHE_LINE_SIZE);
	uint32_t size = 1024;

	if (t == NULL)
		return NULL;
	while (size < capacity)
		size <<= 1;
	t->slots = rte_zmalloc("persist_slots", (size_t)size * sizeof(struct persist_slot),
			       RTE_CACHE_LINE_SIZE);
	if (t->slots == NULL) {
		rte_free(t);
		return NULL;
	}
	t->mask = size - 1;
	return t;
}

void persist_key_make(struct persist_key *k, uint32_t service_id, const struct lb_addr *client,
		      uint8_t prefix_len)
{
	uint8_t buf[4 + 1 + 16] = {0};
	uint8_t *addr = client->family == AF_INET ? (uint8_t *)&k->client.v4 : k->client.v6;
	unsigned int bytes = client->family == AF_INET ? 4 : 16;

	memset(&k->client, 0, sizeof(k->client));
	k->client = *client;
	k->service_id = service_id;
	for (unsigned int i = 0; i < bytes; i++) {
		unsigned int bit = i * 8;
		if (bit >= prefix_len)
			addr[i] = 0;
		else if (bit + 8 > prefix_len)
			addr[i] &= (uint8_t)(0xff << (8 - (prefix_len - bit)));
	}
	memcpy(buf, &service_id, 4);
	buf[4] = client->family;
	memcpy(buf + 5, addr, bytes);
	k->hash = sched_hash64(buf, sizeof(buf), 0x7065727369737421ull);
	if (k->hash == 0) /* 0 marks an unused slot */
		k->hash = 1;
}

static inline bool slot_read(const struct persist_slot *s, uint64_t hash, uint64_t *value)
{
	if (__atomic_load_n(&s->key_hash, __ATOMIC_ACQUIRE) != hash)
		return false;
	*value = __atomic_load_n(&s->value, __ATOMIC_ACQUIRE);
	/* A writer may have replaced the key between the two loads: check it again. */
	return __atomic_load_n(&s->key_hash, __ATOMIC_ACQUIRE) == hash;
}

bool persist_table_lookup(const struct persist_table *t, const struct persist_key *k,
			  uint32_t now_s, uint32_t *real_id, uint8_t *gen8)
{
	for (uint32_t i = 0; i < PERSIST_PROBES; i++) {
		const struct persist_slot *s = &t->slots[(k->hash + i) & t->mask];
		uint64_t v;
		if (!slot_read(s, k->hash, &v))
			continue;
		if (persist_value_expires(v) < now_s)
			return false;
		*real_id = persist_value_real(v);
		*gen8 = persist_value_gen8(v);
		return true;
	}
	return false;
}

static void slot_describe(struct persist_slot *s, const struct persist_key *k)
{
	s->service_id = k->service_id;
	s->family = k->client.family;
	memcpy(s->client, k->client.family == AF_INET ? (const void *)&k->client.v4 : k->client.v6,
	       k->client.family == AF_INET ? 4 : 16);
}

bool persist_table_store(struct persist_table *t, const struct persist_key *k, uint32_t real_id,
			 uint32_t gen, uint32_t now_s, uint32_t timeout_s)
{
	uint64_t value = persist_value(real_id, gen, now_s + timeout_s);

	for (int attempt = 0; attempt < 4; attempt++) {
		/* Our key already has a slot: refresh it in place. */
		for (uint32_t i = 0; i < PERSIST_PROBES; i++) {
			struct persist_slot *s = &t->slots[(k->hash + i) & t->mask];
			if (__atomic_load_n(&s->key_hash, __ATOMIC_ACQUIRE) == k->hash) {
				__atomic_store_n(&s->value, value, __ATOMIC_RELEASE);
				return true;
			}
		}
		/* Else claim the first unused or expired slot, key and value in one step. */
		bool raced = false;
		for (uint32_t i = 0; i < PERSIST_PROBES && !raced; i++) {
			struct persist_slot *s = &t->slots[(k->hash + i) & t->mask];
			rte_int128_t expected, desired;
			expected.val[0] = __atomic_load_n(&s->key_hash, __ATOMIC_ACQUIRE);
			expected.val[1] = __atomic_load_n(&s->value, __ATOMIC_ACQUIRE);
			/* Another worker stored our key since the first pass: one template, not two. */
			if (expected.val[0] == k->hash) {
				__atomic_store_n(&s->value, value, __ATOMIC_RELEASE);
				return true;
			}
			if (expected.val[0] != 0 && persist_value_expires(expected.val[1]) >= now_s)
				continue;
			desired.val[0] = k->hash;
			desired.val[1] = value;
			if (rte_atomic128_cmp_exchange((rte_int128_t *)s, &expected, &desired, 0,
						       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				slot_describe(s, k);
				return true;
			}
			raced = true; /* another worker changed this slot: look for our key again */
		}
		if (!raced)
			return false; /* every probed slot holds a live template: full here */
	}
	return false;
}

void persist_table_forget_service(struct persist_table *t, uint32_t service_id)
{
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct persist_slot *s = &t->slots[i];
		uint64_t v = __atomic_load_n(&s->value, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->key_hash, __ATOMIC_ACQUIRE) == 0 || s->service_id != service_id ||
		    persist_value_expires(v) == 0)
			continue;
		/* Expired in place, like any old template: the slot is reused by the next claim. */
		(void)__atomic_compare_exchange_n(&s->value, &v, v & ~(uint64_t)UINT32_MAX, false,
						  __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}

uint32_t persist_table_positions(const struct persist_table *t)
{
	return t->mask + 1;
}

bool persist_table_read(const struct persist_table *t, uint32_t pos, uint32_t now_s,
			struct persist_template *out)
{
	const struct persist_slot *s = &t->slots[pos & t->mask];
	uint64_t h = __atomic_load_n(&s->key_hash, __ATOMIC_ACQUIRE);
	uint64_t v = __atomic_load_n(&s->value, __ATOMIC_ACQUIRE);

	if (h == 0 || persist_value_expires(v) < now_s)
		return false;
	out->service_id = s->service_id;
	out->real_id = persist_value_real(v);
	out->real_gen8 = persist_value_gen8(v);
	out->family = s->family;
	memcpy(out->client, s->client, sizeof(out->client));
	out->expires_s = persist_value_expires(v);
	return true;
}
