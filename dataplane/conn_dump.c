#include "conn_dump.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ring.h>

#define CONN_DUMP_SLICE 16384 /* flow-table positions visited per worker loop */

static struct conn_dump_request *current_request[LB_MAX_WORKERS];

void conn_dump_worker_step(struct lb_worker *w)
{
	struct conn_dump_request *req = current_request[w->index];
	struct flow_table *ft = w->flows;

	if (req == NULL) {
		void *obj;
		if (rte_ring_dequeue(w->requests, &obj) != 0)
			return;
		req = obj;
		current_request[w->index] = req;
	}
	uint32_t end = req->cursor + CONN_DUMP_SLICE;
	if (end > ft->capacity)
		end = ft->capacity;
	for (uint32_t pos = req->cursor; pos < end; pos++) {
		const struct flow_entry *e = &ft->entries[pos];
		if (e->expires == 0 || (e->flags & FLOW_F_REPLY))
			continue;
		if (req->count == req->max) {
			req->truncated = 1;
			end = ft->capacity;
			break;
		}
		const struct flow_key *k = flow_table_key(ft, (int32_t)pos);
		if (k == NULL)
			continue;
		struct conn_dump_entry *o = &req->out[req->count++];
		o->key = *k;
		o->real_id = e->real_id;
		o->real_gen = e->real_gen;
		o->state = e->state;
		o->expires_tsc = e->expires;
		o->forward = e->forward;
		o->has_reply = 0;
		if (e->peer != FLOW_NO_PEER) {
			const struct flow_key *rk = flow_table_key(ft, e->peer);
			if (rk != NULL) {
				o->reply_key = *rk;
				o->has_reply = 1;
			}
		}
	}
	req->cursor = end;
	if (end >= ft->capacity) {
		current_request[w->index] = NULL;
		__atomic_store_n(&req->done, 1, __ATOMIC_RELEASE);
	}
}

int conn_dump_collect(struct lb_worker *w, struct conn_dump_request *req)
{
	req->count = 0;
	req->cursor = 0;
	req->truncated = 0;
	req->done = 0;
	if (rte_ring_enqueue(w->requests, req) != 0)
		return -1;
	/* Workers loop continuously (idle ones wake every idle_sleep_us), so this ends promptly. */
	while (!__atomic_load_n(&req->done, __ATOMIC_ACQUIRE)) {
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
	return 0;
}
