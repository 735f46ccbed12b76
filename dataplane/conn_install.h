/*
 * Connections installed from outside the worker: the failover pair's backup puts the master's
 * connections (control/ha/ha_conn_sync.c) into the table of the worker that will see their
 * packets. The control lcore posts requests by value on one single-producer/single-consumer ring
 * per worker; the worker applies them from its own loop, so its flow table stays its alone.
 *
 * A nat/fnat connection installed this way does not know the hop its client's packets come
 * through (the MAC the master had learned from them): its reply entry is marked
 * FLOW_F_HOP_UNKNOWN and its connection entry FLOW_F_LEARN_HOP, and the first client packet
 * teaches both. Until then replies go to the hop this worker last learned that way (clients
 * behind one router share it), or are dropped and counted (sync_hop_unknown).
 */
#ifndef DPDK_LB_CONN_INSTALL_H
#define DPDK_LB_CONN_INSTALL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "flow_table.h"
#include "lb_runtime.h"
#include "snapshot.h"

#define FLOW_F_LEARN_HOP 0x4  /* connection entry: the next client packet sets the reply's hop */
#define FLOW_F_HOP_UNKNOWN 0x8 /* reply entry: hop_mac / hop_port not known yet */

enum conn_install_op {
	CONN_INSTALL_ADD = 1,    /* create, or update a connection with the same real */
	CONN_INSTALL_REMOVE = 2, /* end the connection of `key` */
};

struct conn_install_req {
	uint8_t op;        /* enum conn_install_op */
	uint8_t state;     /* enum lb_conn_state */
	uint8_t forward;   /* enum lb_forward */
	uint8_t has_reply; /* nat/fnat: reply_key is set */
	uint16_t service_id;
	uint16_t reserved;
	uint32_t real_id;
	uint32_t real_gen;
	uint32_t timeout_s; /* what the master had left; at least the state's timeout here is kept */
	uint32_t reserved2;
	struct flow_key key;       /* client -> VIP */
	struct flow_key reply_key; /* real -> client (nat) or real -> local address (fnat) */
};

_Static_assert(sizeof(struct conn_install_req) % 4 == 0, "rte_ring elements are 4-byte multiples");

/* What the workers did with the requests (summed over workers by conn_install_counts). */
struct conn_install_counts {
	uint64_t installed;     /* new connections */
	uint64_t updated;       /* existing ones refreshed (state, timeout) */
	uint64_t replaced;      /* existing ones of another real, ended for the master's */
	uint64_t removed;       /* REMOVE that ended a connection */
	uint64_t absent;        /* REMOVE of a key not in the table */
	uint64_t table_full;    /* no room for a key */
	uint64_t reply_in_use;  /* the reply key belongs to another live connection */
	uint64_t hops_learned;  /* installed connections whose hop a client packet taught */
};

/* Creates one ring of `size` requests (a power of 2) per worker; 0 or -1. Control lcore, once. */
int conn_install_init(uint32_t size);

/* Control side: queues r for worker w; false when its ring is full (or not created). */
bool conn_install_post(uint16_t w, const struct conn_install_req *r);

/* Worker side: applies up to a bounded number of queued requests (nothing when no ring). */
void conn_install_worker_step(struct lb_worker *w, const struct lb_snapshot *snap, uint64_t now);

/* Worker side, client packet m of connection e marked FLOW_F_LEARN_HOP: sets its reply's hop. */
void conn_install_learn_hop(struct lb_worker *w, struct flow_entry *e, const struct rte_mbuf *m);

/* Worker side, reply entry re marked FLOW_F_HOP_UNKNOWN: fills its hop from the worker's last
 * learned one; false when there is none (the reply is to be dropped). */
bool conn_install_reply_hop(struct lb_worker *w, struct flow_entry *re);

/* Sums the workers' counts (control lcore). */
void conn_install_counts(struct conn_install_counts *out);

#endif
