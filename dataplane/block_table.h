/*
 * The blocklist in the dataplane: one rte_lpm and one rte_lpm6 (each created on its family's
 * first entry) whose next hop is the entry's slot id, edited in place by the control lcore after
 * validation, and per-worker hit counters by slot. Workers look a packet's source up right
 * after parsing, only while the family has entries: an empty list costs a pointer test a packet.
 */
#ifndef DPDK_LB_BLOCK_TABLE_H
#define DPDK_LB_BLOCK_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include "config.h"
#include "counters.h"
#include "lb_runtime.h"
#include "pkt_parse.h"

/* What workers read: NULL while the family has no entry (published with release stores). */
struct block_live {
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
};
extern struct block_live block_live;

/* Control side, at start: slots for capacity entries and every worker's hit counters. */
int block_table_init(uint32_t capacity);

/*
 * Control side, before a candidate is published: gives its new entries slots and adds them to
 * the tables; 0, or a JSON-RPC error code with err set and nothing added.
 */
int block_table_prepare(struct lb_config *cand, char *err, size_t errlen);

/* Undoes block_table_prepare (the candidate was not published). */
void block_table_abort(struct lb_config *cand);

/* After cand replaced old: removes old's entries cand no longer has and frees their slots. */
void block_table_commit(const struct lb_config *old, const struct lb_config *cand);

/* Packets of slot id dropped since that entry took it, over all workers. */
uint64_t block_table_hits(uint32_t id);

/* Worker side: true (counted for the entry) when the packet's source is blocked. */
static inline bool block_table_match(struct lb_worker *w, const struct block_live *bl,
				     const struct pkt_info *info)
{
	uint32_t hop;

	if (info->family == AF_INET) {
		if (bl->lpm4 == NULL ||
		    rte_lpm_lookup(bl->lpm4, rte_be_to_cpu_32(info->src_v4), &hop) != 0)
			return false;
	} else {
		if (bl->lpm6 == NULL || rte_lpm6_lookup(bl->lpm6, info->src6, &hop) != 0)
			return false;
	}
	LB_COUNTER_ADD(w->block_hits[hop], 1);
	return true;
}

#endif
