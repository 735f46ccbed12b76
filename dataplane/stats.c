#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "flow_table.h"
#include "lb_runtime.h"
#include "snapshot.h"

static struct traffic_sum *real_base;
static struct traffic_sum *service_base;

int stats_init(uint32_t max_services, uint32_t max_reals)
{
	real_base = calloc(max_reals + 1, sizeof(*real_base));
	service_base = calloc(max_services + 1, sizeof(*service_base));
	return real_base && service_base ? 0 : -1;
}

static void sum_counters(struct lb_traffic_counters *(*pick)(struct lb_worker *, uint32_t),
			 uint32_t id, struct traffic_sum *out)
{
	memset(out, 0, sizeof(*out));
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		struct lb_traffic_counters *c = pick(lb_rt.workers[w], id);
		out->conns += LB_COUNTER_READ(c->conns);
		out->inpkts += LB_COUNTER_READ(c->inpkts);
		out->outpkts += LB_COUNTER_READ(c->outpkts);
		out->inbytes += LB_COUNTER_READ(c->inbytes);
		out->outbytes += LB_COUNTER_READ(c->outbytes);
		out->active += (int64_t)LB_COUNTER_READ(c->active);
		out->inactive += (int64_t)LB_COUNTER_READ(c->inactive);
	}
}

static struct lb_traffic_counters *pick_real(struct lb_worker *w, uint32_t id)
{
	return &w->real_counters[id];
}

static struct lb_traffic_counters *pick_service(struct lb_worker *w, uint32_t id)
{
	return &w->service_counters[id];
}

static void subtract_base(struct traffic_sum *s, const struct traffic_sum *base)
{
	s->conns -= base->conns;
	s->inpkts -= base->inpkts;
	s->outpkts -= base->outpkts;
	s->inbytes -= base->inbytes;
	s->outbytes -= base->outbytes;
}

void stats_real(uint32_t id, struct traffic_sum *out)
{
	sum_counters(pick_real, id, out);
	subtract_base(out, &real_base[id]);
}

void stats_service(uint32_t id, struct traffic_sum *out)
{
	sum_counters(pick_service, id, out);
	subtract_base(out, &service_base[id]);
	out->active = out->inactive = 0;
}

void stats_reset_real(uint32_t id)
{
	sum_counters(pick_real, id, &real_base[id]);
}

void stats_reset_service(uint32_t id)
{
	sum_counters(pick_service, id, &service_base[id]);
}

bool stats_real_idle(uint32_t id)
{
	struct traffic_sum s;

	sum_counters(pick_real, id, &s);
	return s.active == 0 && s.inactive == 0;
}

void stats_workers(struct lb_worker_stats *out)
{
	/* every field is a uint64_t counter (drops[] included): sum them as one array */
	uint64_t *sum = (uint64_t *)out;

	memset(out, 0, sizeof(*out));
	/* the workers' blocks, then the control lcore's own (exception path) */
	for (uint16_t w = 0; w <= lb_rt.n_workers; w++) {
		const uint64_t *c = (const uint64_t *)(w < lb_rt.n_workers ? lb_rt.workers[w]->stats
									   : &lb_rt.control_stats);
		for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
			sum[i] += __atomic_load_n(&c[i], __ATOMIC_RELAXED);
	}
}

/*
 * IPVS threshold hysteresis: a real at or over its upper threshold takes no new connection
 * until it is under its lower threshold, or under 3/4 of the upper one when no lower is set.
 */
static void update_overload(struct lb_load_board *b, uint32_t id, uint32_t conns)
{
	const struct lb_snapshot *snap = lb_rt.snapshot;
	const struct snap_real *r = snap_real_get(snap, id);
	uint8_t over = b->overloaded[id];

	if (r->gen == 0 || r->u_threshold == 0) {
		over = 0;
	} else if (!over && conns >= r->u_threshold) {
		over = 1;
	} else if (over) {
		uint32_t lower = r->l_threshold ? r->l_threshold : r->u_threshold * 3 / 4;
		if (conns < lower)
			over = 0;
	}
	if (over != b->overloaded[id])
		__atomic_store_n(&b->overloaded[id], over, __ATOMIC_RELAXED);
}

void stats_update_load_board(void)
{
	struct lb_load_board *b = &lb_rt.load;

	for (uint32_t id = 1; id <= lb_rt.max_reals; id++) {
		uint32_t ta = 0, ti = 0;
		for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
			const struct lb_traffic_counters *c = &lb_rt.workers[w]->real_counters[id];
			uint32_t a = (uint32_t)LB_COUNTER_READ(c->active);
			uint32_t i = (uint32_t)LB_COUNTER_READ(c->inactive);
			__atomic_store_n(&b->worker_active[w][id], a, __ATOMIC_RELAXED);
			__atomic_store_n(&b->worker_inactive[w][id], i, __ATOMIC_RELAXED);
			ta += a;
			ti += i;
		}
		__atomic_store_n(&b->total_active[id], ta, __ATOMIC_RELAXED);
		__atomic_store_n(&b->total_inactive[id], ti, __ATOMIC_RELAXED);
		update_overload(b, id, ta + ti);
	}
}

const char *const lb_drop_reason_names[LB_DROP_REASON_COUNT] = {
	[LB_DROP_PARSE] = "parse",
	[LB_DROP_NOT_VIP] = "not_vip",
	[LB_DROP_NO_FLOW] = "no_flow",
	[LB_DROP_NO_REAL] = "no_real",
	[LB_DROP_NO_NEIGHBOUR] = "no_neighbour",
	[LB_DROP_FLOW_TABLE_FULL] = "flow_table_full",
	[LB_DROP_TX_FULL] = "tx_full",
	[LB_DROP_UNSUPPORTED] = "unsupported",
	[LB_DROP_CONTROL_RING_FULL] = "control_ring_full",
	[LB_DROP_NO_REPLY_FLOW] = "no_reply_flow",
	[LB_DROP_REPLY_TUPLE_IN_USE] = "reply_tuple_in_use",
	[LB_DROP_LOCAL_PORTS_EXHAUSTED] = "local_ports_exhausted",
	[LB_DROP_HANDOFF_RING_FULL] = "handoff_ring_full",
	[LB_DROP_TOO_BIG] = "too_big",
	[LB_DROP_ICMP_NO_FLOW] = "icmp_no_flow",
	[LB_DROP_ICMP_OTHER] = "icmp_other",
	[LB_DROP_FRAGMENT] = "fragment",
	[LB_DROP_HA_BACKUP] = "ha_backup",
	[LB_DROP_SYNC_HOP_UNKNOWN] = "sync_hop_unknown",
	[LB_DROP_BLOCKED] = "blocked",
	[LB_DROP_UNKNOWN_VLAN] = "unknown_vlan",
	[LB_DROP_VLAN_TAG] = "vlan_tag",
	[LB_DROP_SYN_PROXY_BAD_COOKIE] = "syn_proxy_bad_cookie",
	[LB_DROP_SYN_PROXY_HANDSHAKE] = "syn_proxy_handshake",
};

void stats_flow_tables(struct flow_table_info *out)
{
	const struct flow_table *ft = lb_rt.workers[0]->flows;

	memset(out, 0, sizeof(*out));
	out->ipv4_keys = ft->v4.limit;
	out->ipv6_keys = ft->v6.limit;
	out->ipv4_buckets = ft->v4.n_buckets;
	out->ipv6_buckets = ft->v6.n_buckets;
	out->slots_per_bucket = FLOW_BUCKET_SLOTS;
	out->wheel_tick_us = (double)flow_wheel_tick_tsc(&ft->wheel) * 1e6 / (double)lb_rt.tsc_hz;
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		const struct flow_table *t = lb_rt.workers[w]->flows;
		out->ipv4_held += __atomic_load_n(&t->v4.count, __ATOMIC_RELAXED);
		out->ipv6_held += __atomic_load_n(&t->v6.count, __ATOMIC_RELAXED);
		out->bucket_full += __atomic_load_n(&t->v4.bucket_full, __ATOMIC_RELAXED) +
				    __atomic_load_n(&t->v6.bucket_full, __ATOMIC_RELAXED);
		out->moves += __atomic_load_n(&t->moves, __ATOMIC_RELAXED);
		out->wheel_full += __atomic_load_n(&t->wheel.full, __ATOMIC_RELAXED);
	}
}
