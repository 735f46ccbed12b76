/*
 * The roles of addresses, one table per snapshot: which address is a VIP (with its services,
 * inline for the usual few), an fnat local address, a nat real server (with the protocol and
 * port it serves), and which ports own it as their port address. The worker answers "what is
 * this packet's destination" with one probe: a 64-byte slot, found by a multiplicative hash of
 * the address and compared as two 64-bit words. Only a packet whose destination has no role of
 * consequence (a nat reply goes to a client) takes a second probe, by source.
 */
#ifndef DPDK_LB_SNAPSHOT_ROLES_H
#define DPDK_LB_SNAPSHOT_ROLES_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include "config.h"
#include "inet_addr.h"
#include "lookup_table.h"

#define ROLE_VIP 0x01       /* a service's VIP (any protocol and port) */
#define ROLE_LOCAL 0x02     /* an fnat local address */
#define ROLE_NAT_REAL 0x04  /* a nat real server: see nats */
#define ROLE_SVC_INDEX 0x08 /* its services do not fit inline (or are port groups): service_index */
#define ROLE_NAT_INDEX 0x10 /* its nat (proto, port) pairs do not fit inline: nat_real_index */

#define ROLE_INLINE_SVCS 3
#define ROLE_INLINE_NATS 2

/* The key of a probe: family and the address in 16 bytes (IPv4: 4, then zeros). */
struct role_key {
	uint64_t a0, a1;
	uint8_t family;
};

struct role_slot {
	uint8_t family; /* 0: empty slot */
	uint8_t roles;  /* ROLE_* */
	uint8_t n_svcs, n_nats;
	struct {
		uint8_t proto; /* 0 with port 0: any protocol and port (a group's real) */
		uint8_t pad;
		uint16_t port; /* host order */
	} nats[ROLE_INLINE_NATS];
	uint32_t pad;
	uint64_t a0, a1;
	uint64_t port_mask; /* bit p: lb_rt.ports[p]'s own address (ports[].address/address6) */
	struct {
		uint8_t proto;
		uint8_t pad;
		uint16_t port; /* host order */
		uint32_t idx;  /* index into snap->services */
	} svcs[ROLE_INLINE_SVCS];
};

_Static_assert(sizeof(struct role_slot) == 64, "one cache line per slot");

struct role_table {
	uint32_t mask;
	uint32_t count;
	struct role_slot *slots; /* 64-byte aligned; at least one slot stays empty */
};

/* The key of a TCP/UDP/other packet address: family and a 4- or 16-byte address. */
static inline void role_key_make(struct role_key *k, uint8_t family, const void *addr)
{
	k->family = family;
	k->a0 = k->a1 = 0;
	if (family == AF_INET6) {
		memcpy(&k->a0, addr, 8);
		memcpy(&k->a1, (const uint8_t *)addr + 8, 8);
	} else {
		memcpy(&k->a0, addr, 4);
	}
}

static inline bool role_key_equal(const struct role_key *a, const struct role_key *b)
{
	return ((a->a0 ^ b->a0) | (a->a1 ^ b->a1) | (uint64_t)(a->family ^ b->family)) == 0;
}

static inline uint32_t role_hash(const struct role_key *k)
{
	uint64_t x = (k->a0 ^ (k->a1 * 0xc2b2ae3d27d4eb4full) ^ k->family) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(x >> 32);
}

/* The slot of address k, or NULL when the address has no role. */
static inline const struct role_slot *role_find(const struct role_table *t, const struct role_key *k)
{
	if (t->count == 0)
		return NULL;
	for (uint32_t i = role_hash(k) & t->mask;; i = (i + 1) & t->mask) {
		const struct role_slot *s = &t->slots[i];
		if (s->family == 0)
			return NULL;
		if (s->family == k->family && s->a0 == k->a0 && s->a1 == k->a1)
			return s;
	}
}

/* Whether slot s (may be NULL) is the own address of port (a link index). */
static inline bool role_is_port_address(const struct role_slot *s, uint16_t port)
{
	return s != NULL && ((s->port_mask >> port) & 1);
}

/* The service at slot s's address for proto and port (host order): its index, or -1. */
static inline int64_t role_service(const struct role_slot *s, const struct lookup_table *index,
				   uint8_t proto, uint16_t port)
{
	if (s == NULL || !(s->roles & ROLE_VIP))
		return -1;
	if (__builtin_expect(!(s->roles & ROLE_SVC_INDEX), 1)) {
		for (uint8_t i = 0; i < s->n_svcs; i++)
			if (s->svcs[i].port == port && s->svcs[i].proto == proto)
				return s->svcs[i].idx;
		return -1;
	}
	uint8_t key[20] = {s->family, proto, (uint8_t)(port >> 8), (uint8_t)port}; /* snap_service_key */
	memcpy(key + 4, &s->a0, 8);
	memcpy(key + 12, &s->a1, 8);
	return lookup_table_find(index, key);
}

/*
 * Whether slot s's address is a nat real serving proto:port (host order), like is_nat_real:
 * an exact pair, or proto and port 0 (a group's real). index is asked past the inline pairs.
 */
static inline bool role_nat_real(const struct role_slot *s, const struct lookup_table *index,
				 uint8_t proto, uint16_t port)
{
	if (s == NULL || !(s->roles & ROLE_NAT_REAL))
		return false;
	if (__builtin_expect(!(s->roles & ROLE_NAT_INDEX), 1)) {
		for (uint8_t i = 0; i < s->n_nats; i++)
			if ((s->nats[i].proto == proto && s->nats[i].port == port) ||
			    (s->nats[i].proto == 0 && s->nats[i].port == 0))
				return true;
		return false;
	}
	uint8_t key[20] = {s->family, proto, (uint8_t)(port >> 8), (uint8_t)port};
	memcpy(key + 4, &s->a0, 8);
	memcpy(key + 12, &s->a1, 8);
	if (lookup_table_find(index, key) >= 0)
		return true;
	key[1] = key[2] = key[3] = 0;
	return lookup_table_find(index, key) >= 0;
}

struct lb_snapshot;

/*
 * Builds snap->roles from cfg (the services snap was built from, in the same order) and the
 * ports' own addresses (lb_rt.ports); 0, or -1 when out of memory.
 */
int snap_roles_build(struct role_table *t, const struct lb_config *cfg);

/* Frees the slots (the struct is the caller's). */
void snap_roles_free(struct role_table *t);

#endif
