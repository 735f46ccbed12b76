/*
 * Per-worker source sketch for top sources: a direct-mapped table of client addresses, indexed
 * by a hash of the address, each slot held by the address that wins a majority vote among the
 * packets hashed to it (Boyer-Moore: a match adds a vote, another address takes one away and
 * takes the slot when none is left). A flooding address therefore keeps its slot and its
 * counts; sources too light to win a slot are not counted. Memory is fixed (slots per worker),
 * the worker is the only writer, and the control lcore reads the slots under a sequence count.
 */
#ifndef DPDK_LB_SRC_SKETCH_H
#define DPDK_LB_SRC_SKETCH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_hash_crc.h>

#include "counters.h"
#include "lb_runtime.h"
#include "pkt_parse.h"

struct src_slot {
	uint32_t seq;   /* odd while the worker gives the slot to another address */
	uint32_t votes; /* worker only */
	uint8_t family; /* 0 = never used */
	uint8_t addr[16];
	uint64_t pkts;  /* since the address took the slot */
	uint64_t drops;
	uint64_t conns; /* new connections */
};

/* Gives every worker slots (a power of 2; 0 = off); 0 or -1 out of memory. */
int src_sketch_init(uint32_t slots);

/* A consistent copy of slot i of worker w into *out; false while it is being replaced. */
bool src_sketch_read(const struct lb_worker *w, uint32_t i, struct src_slot *out);

/* Slots per worker (0 = off). */
uint32_t src_sketch_slots(void);

/* Whether slot s holds address a of family (4 or 16 bytes): fixed-size loads, no memcmp call. */
static inline bool src_slot_holds(const struct src_slot *s, uint8_t family, const uint8_t *a)
{
	if (s->family != family)
		return false;
	if (family == AF_INET) {
		uint32_t x, y;
		memcpy(&x, s->addr, 4);
		memcpy(&y, a, 4);
		return x == y;
	}
	uint64_t x[2], y[2];
	memcpy(x, s->addr, 16);
	memcpy(y, a, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* Worker side: counts the packet for its source and makes its slot w->src_cur (or NULL). */
static inline void src_sketch_count(struct lb_worker *w, const struct pkt_info *info)
{
	const uint8_t *a = info->family == AF_INET ? (const uint8_t *)&info->src_v4 : info->src6;
	size_t len = info->family == AF_INET ? 4 : 16;
	struct src_slot *s;

	if (w->src_slots == NULL)
		goto uncounted;
	/*
	 * The unspecified address is no client (a host without an address yet: DHCP, IPv6
	 * duplicate address detection): it would only stand in the ranking as a bogus source.
	 */
	uint32_t h;
	if (info->family == AF_INET) {
		if (unlikely(info->src_v4 == 0))
			goto uncounted;
		h = rte_hash_crc_4byte(info->src_v4, 0);
	} else {
		uint64_t q[2]; /* src6 is not 8-byte aligned: copied, not loaded in place */
		memcpy(q, a, sizeof(q));
		if (unlikely((q[0] | q[1]) == 0))
			goto uncounted;
		h = rte_hash_crc_8byte(q[1], rte_hash_crc_8byte(q[0], 0));
	}
	s = &w->src_slots[h & w->src_mask];
	if (src_slot_holds(s, info->family, a)) {
		s->votes += s->votes < UINT32_MAX;
	} else if (s->votes > 1) {
		s->votes--;
		goto uncounted;
	} else {
		__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		s->family = info->family;
		memset(s->addr, 0, sizeof(s->addr));
		memcpy(s->addr, a, len);
		__atomic_store_n(&s->pkts, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->drops, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->conns, 0, __ATOMIC_RELAXED);
		s->votes = 1;
		__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	}
	LB_COUNTER_ADD(s->pkts, 1);
	w->src_cur = s;
	return;
uncounted:
	w->src_cur = NULL;
}

#endif
