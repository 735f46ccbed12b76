/*
 * Connection events: what workers tell the control side about their connections, on one
 * single-producer/single-consumer ring per worker. A worker never waits for room: a full ring
 * loses the event and counts it (conn_events_lost). Connection sync, top sources and capture
 * read these records; nothing on the control side reads a worker's flow table.
 *
 * Record format (struct conn_event, 104 bytes, host byte order except where noted):
 *   type        CONN_EV_CREATED, CONN_EV_STATE (the TCP state changed) or CONN_EV_ENDED
 *               (expired, closed by a new SYN on its tuple, or its real removed)
 *   state       enum lb_conn_state after the event (ENDED: the last state)
 *   forward     enum lb_forward the connection was created with
 *   worker      index of the worker that owns the flow
 *   service_id, real_id, real_gen: the dataplane's ids (system ids, as in conn.list)
 *   timeout_s   seconds the connection has left at the event (0 for ENDED)
 *   key         client -> VIP, as the client sent it (ports network order)
 *   reply_key   nat/fnat (flags & CONN_EV_F_REPLY): the direction replies arrive in
 */
#ifndef DPDK_LB_CONN_EVENTS_H
#define DPDK_LB_CONN_EVENTS_H

#include <stdint.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "flow_table.h"
#include "lb_runtime.h"

enum conn_event_type {
	CONN_EV_CREATED = 1,
	CONN_EV_STATE = 2,
	CONN_EV_ENDED = 3,
};

#define CONN_EV_F_REPLY 0x1 /* reply_key is set */

struct conn_event {
	uint8_t type;
	uint8_t state;
	uint8_t forward;
	uint8_t worker;
	uint16_t service_id;
	uint16_t flags;
	uint32_t real_id;
	uint32_t real_gen;
	uint32_t timeout_s;
	uint32_t reserved;
	struct flow_key key;
	struct flow_key reply_key;
};

_Static_assert(sizeof(struct conn_event) % 4 == 0, "rte_ring elements are multiples of 4 bytes");

/* Creates worker `index`'s event ring of `size` records (a power of 2); NULL on failure. */
struct rte_ring *conn_events_ring_create(uint16_t index, uint32_t size, int socket);

/* Control side: moves up to n events of worker w's ring into buf; how many (0 when off). */
uint32_t conn_events_read(const struct lb_worker *w, struct conn_event *buf, uint32_t n);

#endif
