/*
 * A connection on its worker's flow table: its key from a packet, its TCP state and counts, its
 * events for the control side, its end. Used by the worker loop, ICMP and fnat port allocation;
 * depends only on the flow table, the snapshot and the runtime, never on the worker loop.
 */
#ifndef DPDK_LB_CONN_H
#define DPDK_LB_CONN_H

#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>

#include "conn_events.h"
#include "counters.h"
#include "flow_table.h"
#include "half_open.h"
#include "lb_runtime.h"
#include "pkt_parse.h"
#include "snapshot.h"
#include "tcp_state.h"

/* The flow key of a parsed packet, as the packet carries it. */
static inline void flow_key_make(struct flow_key *k, const struct pkt_info *info)
{
	k->family = info->family;
	k->proto = info->proto;
	k->sport = rte_cpu_to_be_16(info->sport);
	k->dport = rte_cpu_to_be_16(info->dport);
	k->pad = 0;
	if (info->family == AF_INET) {
		memset(k->src, 0, sizeof(k->src));
		memset(k->dst, 0, sizeof(k->dst));
		memcpy(k->src, &info->src_v4, 4);
		memcpy(k->dst, &info->dst_v4, 4);
	} else {
		memcpy(k->src, info->src6, 16);
		memcpy(k->dst, info->dst6, 16);
	}
}

/* Moves a connection between the active and inactive counts of its real. */
static inline void conn_count_adjust(struct lb_worker *w, struct flow_entry *e, uint8_t new_state)
{
	bool was_active = e->flags & FLOW_F_ACTIVE;
	bool is_active = new_state == LB_TCP_ESTABLISHED;
	struct lb_traffic_counters *rc = &w->real_counters[e->real_id];

	if (was_active == is_active)
		return;
	if (is_active) {
		LB_COUNTER_ADD(rc->active, 1);
		LB_COUNTER_ADD(rc->inactive, (uint64_t)-1);
		e->flags |= FLOW_F_ACTIVE;
	} else {
		LB_COUNTER_ADD(rc->active, (uint64_t)-1);
		LB_COUNTER_ADD(rc->inactive, 1);
		e->flags &= (uint8_t)~FLOW_F_ACTIVE;
	}
}

/* Tells the control side about the connection at pos; never waits (a full ring counts a loss). */
void conn_event_emit(struct lb_worker *w, uint8_t type, int32_t pos, uint64_t now);

/* How long a connection in state lives: shorter for half-open ones while the table is under pressure. */
static inline uint64_t conn_timeout(const struct lb_worker *w, const struct lb_snapshot *snap,
				    uint8_t state)
{
	uint64_t t = snap->timeout_tsc[state];

	if (unlikely(w->flow_pressure) && half_open_state(state) && t > w->half_open_pressure_tsc)
		t = w->half_open_pressure_tsc;
	return t;
}

/* A packet of the connection in direction dir: TCP state, active/inactive counts, expiry. */
static inline void conn_touch(struct lb_worker *w, const struct lb_snapshot *snap,
			      struct flow_entry *e, const struct pkt_info *info, enum lb_tcp_dir dir,
			      uint64_t now)
{
	if (info->proto == IPPROTO_TCP) {
		uint8_t next = lb_tcp_state_next(e->state, dir, info->tcp_flags);
		if (next != e->state) {
			conn_count_adjust(w, e, next);
			/* Its half-open record is void now: the table may move it. */
			if (!half_open_state(next))
				e->flags &= (uint8_t)~FLOW_F_PINNED;
			e->state = next;
			e->expires = now + conn_timeout(w, snap, e->state);
			int32_t pos = flow_table_pos_of(w->flows, e);
			/* A shorter timeout than the one the wheel holds the flow for. */
			flow_table_rearm(w->flows, pos);
			conn_event_emit(w, CONN_EV_STATE, pos, now);
			return;
		}
	}
	e->expires = now + conn_timeout(w, snap, e->state);
}

/* Ends a connection: both of its keys leave the table and its real's counts drop. */
void conn_release(struct lb_worker *w, int32_t pos);

#endif
