/*
 * Connection sync walks: every live connection (each worker's table, through the connection
 * dump requests the workers serve from their own loops, so nothing stops them) and every live
 * persistence template (read lock-free from the shared table), turned into REFRESH records.
 * A refresh walk runs every sync period; a full sync is the same walk flagged FULL_SYNC and
 * closed by FULL_SYNC_END. The pace is bounded per control-loop turn.
 */
#include <string.h>

#include <rte_cycles.h>

#include "ha_conn_sync_internal.h"

#define WALK_PAGE 256            /* connections a worker copies per dump request */
#define TEMPLATE_SLOTS_PER_POLL 4096

enum walk_phase { PH_CONNS, PH_TEMPLATES };

static struct {
	bool running;
	bool full;
	enum walk_phase phase;
	uint16_t w;
	bool posted;
	struct conn_dump_request *req;
	uint32_t next_out; /* the next entry of a finished page to send */
	uint32_t cursor;   /* the next flow-table position of worker w */
	uint32_t tpl_pos;
	uint32_t records;
} k;

void hcs_walk_start(bool full_sync, uint64_t now_ns)
{
	(void)now_ns;
	hcs_walk_stop();
	k.running = true;
	k.full = full_sync;
	k.phase = PH_CONNS;
	k.w = 0;
	k.cursor = 0;
	k.tpl_pos = 0;
	k.records = 0;
}

void hcs_walk_stop(void)
{
	if (k.posted && k.req != NULL && !conn_dump_done(k.req)) {
		conn_dump_abandon(k.req); /* freed once the worker is done with it */
		k.req = NULL;
	}
	k.posted = false;
	k.running = false;
}

bool hcs_walk_running(bool *full_sync)
{
	if (full_sync != NULL)
		*full_sync = k.full;
	return k.running;
}

static void send_entry(const struct lb_snapshot *snap, const struct conn_dump_entry *e,
		       uint64_t now_tsc, uint64_t now_ns)
{
	struct ha_conn_record r;

	if (e->expires_tsc <= now_tsc)
		return;
	struct hcs_conn c = {.event = HA_EV_REFRESH, .state = e->state, .forward = e->forward,
			     .worker = (uint8_t)k.w, .service_id = e->service_id,
			     .has_reply = e->has_reply != 0, .real_id = e->real_id,
			     .real_gen = e->real_gen,
			     .timeout_s = (uint32_t)((e->expires_tsc - now_tsc) / lb_rt.tsc_hz),
			     .key = e->key, .reply_key = e->reply_key};
	if (hcs_record_from_conn(snap, &c, &r)) {
		hcs_queue(&r, k.full, now_ns);
		k.records++;
	}
}

/* One step of the connection phase; false when it must wait for a worker. */
static bool conns_step(const struct lb_snapshot *snap, uint64_t now_ns, uint32_t *budget)
{
	if (k.w >= lb_rt.n_workers) {
		k.phase = PH_TEMPLATES;
		return true;
	}
	struct lb_worker *w = lb_rt.workers[k.w];
	if (!k.posted) {
		uint32_t end = conn_dump_positions(w);
		if (k.cursor >= end) {
			k.w++;
			k.cursor = 0;
			return true;
		}
		if (k.req == NULL && (k.req = conn_dump_request_new(WALK_PAGE)) == NULL)
			return false;
		memset(&k.req->filter, 0, sizeof(k.req->filter));
		k.req->cursor = k.cursor;
		k.req->end = end;
		if (conn_dump_post(w, k.req) != 0)
			return false; /* its request ring is busy: next turn */
		k.posted = true;
		k.next_out = 0;
		return false;
	}
	if (!conn_dump_done(k.req))
		return false;
	uint64_t now_tsc = rte_rdtsc();
	while (k.next_out < k.req->count && *budget > 0) {
		send_entry(snap, &k.req->out[k.next_out++], now_tsc, now_ns);
		(*budget)--;
	}
	if (k.next_out < k.req->count)
		return false;
	k.posted = false;
	k.cursor = k.req->cursor > k.cursor ? k.req->cursor : conn_dump_positions(w);
	return true;
}

/* One step of the template phase; false when the budget is spent. */
static bool templates_step(const struct lb_snapshot *snap, uint64_t now_ns, uint32_t *budget)
{
	uint32_t end = persist_table_positions(lb_rt.persist);
	uint32_t now_s = (uint32_t)(rte_rdtsc() / lb_rt.tsc_hz);
	struct persist_template t;
	struct ha_conn_record r;

	for (uint32_t n = 0; n < TEMPLATE_SLOTS_PER_POLL && k.tpl_pos < end; n++, k.tpl_pos++) {
		if (*budget == 0)
			return false;
		if (!persist_table_read(lb_rt.persist, k.tpl_pos, now_s, &t) ||
		    !hcs_record_from_template(snap, &t, HA_EV_REFRESH, now_s, &r))
			continue;
		hcs_queue(&r, k.full, now_ns);
		k.records++;
		(*budget)--;
	}
	if (k.tpl_pos < end)
		return false;
	if (k.full)
		hcs_full_sync_finish(k.records, now_ns);
	k.running = false;
	return false;
}

void hcs_walk_poll(uint64_t now_ns, uint32_t max_records)
{
	const struct lb_snapshot *snap = lb_rt.snapshot;
	uint32_t budget = max_records;

	if (!k.running || snap == NULL)
		return;
	while (k.running && budget > 0) {
		bool go_on = k.phase == PH_CONNS ? conns_step(snap, now_ns, &budget)
						 : templates_step(snap, now_ns, &budget);
		if (!go_on)
			break;
	}
}
