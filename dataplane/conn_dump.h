/*
 * Connection listings without touching a worker's flow table from another lcore: the control
 * lcore posts a request on the worker's ring, the worker fills it in bounded slices from its own
 * loop, then sets `done`.
 */
#ifndef DPDK_LB_CONN_DUMP_H
#define DPDK_LB_CONN_DUMP_H

#include <stdint.h>

#include "flow_table.h"
#include "lb_runtime.h"

struct conn_dump_entry {
	struct flow_key key;
	uint32_t real_id;
	uint32_t real_gen;
	uint8_t state;
	uint8_t forward;   /* enum lb_forward */
	uint8_t has_reply; /* nat/fnat: reply_key is the real -> client / local address key */
	uint64_t expires_tsc;
	struct flow_key reply_key;
};

struct conn_dump_request {
	struct conn_dump_entry *out;
	uint32_t max;
	uint32_t count;
	uint32_t cursor;   /* next flow-table position to visit */
	uint32_t truncated;
	int done;          /* set by the worker (release) when complete */
};

/* Worker side: advances the request at the head of w->requests by a bounded slice. */
void conn_dump_worker_step(struct lb_worker *w);

/* Control side: dumps up to req->max flows of worker w into req->out; 0, or -1 (ring full). */
int conn_dump_collect(struct lb_worker *w, struct conn_dump_request *req);

#endif
