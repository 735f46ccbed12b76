/*
 * Connection listings without touching a worker's flow table from another lcore: the control
 * lcore posts a request for a range of flow-table positions on the worker's ring, the worker
 * fills it in bounded slices from its own loop, then sets `done`. The control side polls for
 * `done` from its event loop with a deadline; a request it gives up on stays the worker's until
 * the worker has finished it.
 */
#ifndef DPDK_LB_CONN_DUMP_H
#define DPDK_LB_CONN_DUMP_H

#include <stdbool.h>
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
	uint16_t service_id; /* connection sync names the service by it */
};

/* Which connections a dump returns; zero fields match everything. */
struct conn_dump_filter {
	uint8_t proto;    /* IPPROTO_TCP / IPPROTO_UDP */
	uint8_t vip_family, client_family; /* AF_INET / AF_INET6 when that address is set */
	uint16_t vport;   /* network order */
	uint8_t vip[16];
	uint8_t client[16];
};

struct conn_dump_request {
	struct conn_dump_entry *out;
	uint32_t max;
	uint32_t count;
	uint32_t cursor; /* in: the first position to visit; out: where to resume */
	uint32_t end;    /* positions before this one are visited (clamped to the table) */
	struct conn_dump_filter filter;
	int done; /* set by the worker (release) when complete */
	struct conn_dump_request *next_abandoned;
};

/* Worker side: advances the request at the head of w->requests by a bounded slice. */
void conn_dump_worker_step(struct lb_worker *w);

/* A request with room for max entries; NULL out of memory. */
struct conn_dump_request *conn_dump_request_new(uint32_t max);

/* Frees a request no worker holds (NULL-safe). */
void conn_dump_request_free(struct conn_dump_request *req);

/* Flow-table positions of worker w (a dump's cursor runs from 0 to this). */
uint32_t conn_dump_positions(const struct lb_worker *w);

/* Control side: posts req (out, max, cursor, end, filter set) to worker w; 0 or -EBUSY (ring
 * full). The worker owns req until conn_dump_done says it has finished. */
int conn_dump_post(struct lb_worker *w, struct conn_dump_request *req);

/* Whether the worker has finished req (count and cursor are then final). */
bool conn_dump_done(const struct conn_dump_request *req);

/* Gives up on a posted request: it is freed once the worker has finished it (conn_dump_reap). */
void conn_dump_abandon(struct conn_dump_request *req);

/* Frees the timed-out requests the workers have finished; all of them when workers_stopped. */
void conn_dump_reap(bool workers_stopped);

#endif
