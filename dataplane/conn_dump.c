#include "conn_dump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_ring.h>

#define CONN_DUMP_SLICE 16384 /* flow-table positions visited per worker loop */

static struct conn_dump_request *current_request[LB_MAX_WORKERS];
static struct conn_dump_request *abandoned; /* control side: timed out, still the workers' */

/* True when the first len bits of a and b are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, uint8_t len)
{
	uint8_t full = len / 8, rem = len % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	return rem == 0 || ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

static bool filter_match_entry(const struct conn_dump_filter *f, const struct flow_entry *e)
{
	if (f->states != 0 && !(f->states & (1u << e->state)))
		return false;
	if (f->n_reals == 0)
		return true;
	for (uint8_t i = 0; i < f->n_reals; i++)
		if (f->real_ids[i] == e->real_id)
			return true;
	return false;
}

static bool filter_match(const struct conn_dump_filter *f, const struct flow_key *k)
{
	size_t vlen = f->vip_family == AF_INET ? 4 : 16;

	if (f->proto != 0 && k->proto != f->proto)
		return false;
	if (f->vport != 0 && k->dport != f->vport)
		return false;
	if (f->vip_family != 0 && (k->family != f->vip_family || memcmp(k->dst, f->vip, vlen) != 0))
		return false;
	if (f->client_family != 0 &&
	    (k->family != f->client_family || !prefix_equal(k->src, f->client, f->client_len)))
		return false;
	return true;
}

static void copy_entry(const struct flow_table *ft, const struct flow_entry *e,
		       const struct flow_key *k, struct conn_dump_entry *o)
{
	o->key = *k;
	o->real_id = e->real_id;
	o->real_gen = e->real_gen;
	o->state = e->state;
	o->expires_tsc = e->expires;
	o->forward = e->forward;
	o->service_id = e->service_id;
	o->has_reply = 0;
	if (e->peer != FLOW_NO_PEER) {
		struct flow_key buf;
		const struct flow_key *rk = flow_table_key(ft, e->peer, &buf);
		if (rk != NULL) {
			o->reply_key = *rk;
			o->has_reply = 1;
		}
	}
}

static void finish(struct lb_worker *w, struct conn_dump_request *req, uint32_t resume)
{
	req->cursor = resume;
	current_request[w->index] = NULL;
	__atomic_store_n(&req->done, 1, __ATOMIC_RELEASE);
}

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
	uint32_t stop = req->end < ft->capacity ? req->end : ft->capacity;
	if (req->cursor >= stop) {
		finish(w, req, stop);
		return;
	}
	uint32_t end = stop - req->cursor > CONN_DUMP_SLICE ? req->cursor + CONN_DUMP_SLICE : stop;
	for (uint32_t pos = req->cursor; pos < end; pos++) {
		const struct flow_entry *e = flow_table_entry(ft, pos);
		if (e->expires == 0 || (e->flags & FLOW_F_REPLY))
			continue;
		struct flow_key kbuf;
		const struct flow_key *k = flow_table_key(ft, (int32_t)pos, &kbuf);
		if (k == NULL || !filter_match_entry(&req->filter, e) || !filter_match(&req->filter, k))
			continue;
		if (req->count == req->max) {
			finish(w, req, pos); /* full: the next page starts here */
			return;
		}
		copy_entry(ft, e, k, &req->out[req->count++]);
	}
	if (end >= stop)
		finish(w, req, stop);
	else
		req->cursor = end;
}

struct conn_dump_request *conn_dump_request_new(uint32_t max)
{
	struct conn_dump_request *req = calloc(1, sizeof(*req));

	if (req == NULL)
		return NULL;
	req->out = calloc(max ? max : 1, sizeof(*req->out));
	if (req->out == NULL) {
		free(req);
		return NULL;
	}
	req->max = max;
	return req;
}

void conn_dump_request_free(struct conn_dump_request *req)
{
	if (req == NULL)
		return;
	free(req->out);
	free(req);
}

uint32_t conn_dump_positions(const struct lb_worker *w)
{
	return w->flows->capacity;
}

int conn_dump_post(struct lb_worker *w, struct conn_dump_request *req)
{
	req->count = 0;
	req->done = 0;
	req->next_abandoned = NULL;
	return rte_ring_enqueue(w->requests, req) == 0 ? 0 : -EBUSY;
}

bool conn_dump_done(const struct conn_dump_request *req)
{
	return __atomic_load_n(&req->done, __ATOMIC_ACQUIRE) != 0;
}

void conn_dump_abandon(struct conn_dump_request *req)
{
	req->next_abandoned = abandoned;
	abandoned = req;
}

void conn_dump_reap(bool workers_stopped)
{
	struct conn_dump_request **p = &abandoned;

	while (*p != NULL) {
		struct conn_dump_request *req = *p;
		if (workers_stopped || __atomic_load_n(&req->done, __ATOMIC_ACQUIRE)) {
			*p = req->next_abandoned;
			conn_dump_request_free(req);
		} else {
			p = &req->next_abandoned;
		}
	}
}
