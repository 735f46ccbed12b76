#include "conn.h"

void conn_event_emit(struct lb_worker *w, uint8_t type, int32_t pos, uint64_t now)
{
	const struct flow_entry *e = flow_table_entry(w->flows, pos);
	struct conn_event ev;

	if (w->events == NULL)
		return;
	ev = (struct conn_event){.type = type, .state = e->state, .forward = e->forward,
				 .worker = (uint8_t)w->index, .service_id = e->service_id,
				 .real_id = e->real_id, .real_gen = e->real_gen};
	if (type != CONN_EV_ENDED && e->expires > now)
		ev.timeout_s = (uint32_t)((e->expires - now) / lb_rt.tsc_hz);
	struct flow_key kbuf, rbuf;
	const struct flow_key *key = flow_table_key(w->flows, pos, &kbuf);
	const struct flow_key *reply =
		e->peer != FLOW_NO_PEER ? flow_table_key(w->flows, e->peer, &rbuf) : NULL;
	if (unlikely(key == NULL || (e->peer != FLOW_NO_PEER && reply == NULL))) {
		LB_COUNTER_ADD(w->stats->conn_events_lost, 1); /* never for a live flow */
		return;
	}
	ev.key = *key;
	if (reply != NULL) {
		ev.flags = CONN_EV_F_REPLY;
		ev.reply_key = *reply;
	}
	if (unlikely(rte_ring_sp_enqueue_elem(w->events, &ev, sizeof(ev)) != 0))
		LB_COUNTER_ADD(w->stats->conn_events_lost, 1);
}

void conn_release(struct lb_worker *w, int32_t pos)
{
	struct flow_entry *e = flow_table_entry(w->flows, pos);
	struct lb_traffic_counters *rc = &w->real_counters[e->real_id];

	conn_event_emit(w, CONN_EV_ENDED, pos, 0);
	if (e->flags & FLOW_F_ACTIVE)
		LB_COUNTER_ADD(rc->active, (uint64_t)-1);
	else
		LB_COUNTER_ADD(rc->inactive, (uint64_t)-1);
	if (e->peer != FLOW_NO_PEER)
		flow_table_remove(w->flows, e->peer);
	flow_table_remove(w->flows, pos);
	LB_COUNTER_ADD(w->stats->flows_expired, 1);
	LB_COUNTER_ADD(w->stats->flows, (uint64_t)-1);
}
