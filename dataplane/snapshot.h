/*
 * An immutable configuration snapshot: what workers read on the fast path. The control lcore
 * builds a new one for every change, publishes it with one pointer store, waits for every worker
 * to pass a quiescent state (rte_rcu_qsbr) and only then frees the old one.
 */
#ifndef DPDK_LB_SNAPSHOT_H
#define DPDK_LB_SNAPSHOT_H

#include <stdint.h>

#include "config.h"
#include "lb_runtime.h"
#include "lookup_table.h"
#include "scheduler.h"

/* Key of the service lookup: 20 bytes, compared with memcmp. */
struct snap_service_key {
	uint8_t family;
	uint8_t proto;
	uint16_t port; /* network order */
	uint8_t addr[16];
};

struct snap_real {
	uint32_t gen;        /* 0 = no real with this id in the snapshot */
	uint16_t service_id;
	uint8_t forward;
	uint8_t reserved;
	uint32_t neigh_slot;
	uint16_t port_id; /* egress DPDK port */
	uint16_t l4_port; /* host order */
	uint32_t u_threshold;
	uint32_t l_threshold;
	uint32_t weight;
	struct lb_addr ip;
};

struct snap_service {
	uint32_t id;
	uint8_t proto;
	uint8_t forward;
	bool ops;            /* one-packet scheduling: no flow entries */
	bool has_thresholds; /* some real has a connection threshold */
	uint32_t fallback_real_id; /* 0 = no fallback server */
	uint32_t persistent_s;     /* 0 = no persistence */
	uint8_t netmask_len;
	bool expire_quiescent_template;
	const struct sched_ops *sched;
	void *sched_shared;
	uint32_t sched_state_offset; /* into each worker's sched_state block */
	uint32_t n_dests;
	struct sched_dest *dests;
	uint32_t *dest_real_ids; /* dests[i] is real dest_real_ids[i] */
	struct lb_addr vip;
	uint16_t port;
	bool steer_by_client; /* a nat real: the worker owning a flow follows from the client */
	uint8_t client_addr_mode; /* enum lb_client_addr_mode (fnat) */
	uint8_t n_local_addrs;
	struct lb_addr local_addrs[LB_MAX_LOCAL_ADDRS]; /* fnat */
};

struct lb_snapshot {
	uint64_t generation;
	struct lookup_table service_index; /* snap_service_key -> index into services */
	struct lookup_table vip_index;     /* snap_service_key with proto/port 0 -> 1 */
	struct lookup_table local_index;   /* fnat local addresses (proto/port 0) -> 1 */
	struct lookup_table nat_real_index; /* nat reals: key {ip, proto, port} -> 1 (port 0: any) */
	uint32_t n_services;
	struct snap_service *services;
	uint32_t max_reals;
	struct snap_real *reals; /* [max_reals + 1], by real id */
	uint8_t *sched_state[LB_MAX_WORKERS];
	uint64_t timeout_tsc[LB_CONN_STATE_COUNT];
	bool expire_nodest_conn;
};

/* Compares two service keys (20 bytes) without a call to memcmp. */
static inline bool snap_service_key_equal(const struct snap_service_key *a,
					  const struct snap_service_key *b)
{
	uint64_t a0, a1, b0, b1;
	uint32_t a2, b2;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&a1, (const uint8_t *)a + 8, 8);
	__builtin_memcpy(&b1, (const uint8_t *)b + 8, 8);
	__builtin_memcpy(&a2, (const uint8_t *)a + 16, 4);
	__builtin_memcpy(&b2, (const uint8_t *)b + 16, 4);
	return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2)) == 0;
}

/* Fills a service lookup key. */
void snap_service_key_make(struct snap_service_key *k, const struct lb_addr *vip, uint8_t proto,
			   uint16_t port_host);

/* Builds a snapshot of cfg (ids must be assigned); NULL with err set on failure. */
struct lb_snapshot *snapshot_build(const struct lb_config *cfg, char *err, size_t errlen);

/* Publishes snap to the workers, waits for the grace period and frees the previous one. */
void snapshot_publish(struct lb_snapshot *snap);

/* Frees a snapshot that is no longer published. */
void snapshot_free(struct lb_snapshot *snap);

/* The port whose subnet holds ip, or -1 when none does. */
int snapshot_egress_port(const struct lb_addr *ip);

#endif
