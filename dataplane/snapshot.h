/*
 * An immutable configuration snapshot: what workers read on the fast path. The control lcore
 * builds a new one for every change and publishes it with one pointer store. A build is
 * incremental: services whose configuration did not change keep their objects (shared between
 * generations), and the per-real table is paged and copied on write. What the new snapshot no
 * longer uses is freed once every worker has passed a quiescent state (rte_rcu_qsbr token,
 * polled by snapshot_reclaim): publishing never waits for the workers.
 */
#ifndef DPDK_LB_SNAPSHOT_H
#define DPDK_LB_SNAPSHOT_H

#include <stdint.h>

#include "config.h"
#include "lb_runtime.h"
#include "lookup_table.h"
#include "scheduler.h"
#include "snapshot_roles.h"

/* Key of the service lookup: 20 bytes, compared with memcmp. */
struct snap_service_key {
	uint8_t family;
	uint8_t proto;
	uint16_t port; /* network order */
	uint8_t addr[16];
};

#define SNAP_NO_NEIGH_SLOT UINT32_MAX

struct xmit_ops;

struct snap_real {
	uint32_t gen;        /* 0 = no real with this id in the snapshot */
	uint16_t service_id;
	uint8_t forward;
	uint8_t flags; /* SNAP_REAL_OUT */
	uint32_t neigh_slot; /* SNAP_NO_NEIGH_SLOT: the appliance itself (local fallback) */
	uint16_t port_id; /* egress DPDK port */
	uint16_t l4_port; /* host order */
	uint32_t u_threshold;
	uint32_t l_threshold;
	uint32_t weight;
	struct lb_addr ip; /* its v6 bytes are nat's rewrite address in either family */
	/* Transmit data resolved at build, not per packet: */
	const struct xmit_ops *ops; /* xmit_ops_get(forward) */
	uint32_t tun_src4;          /* tun: the egress port's IPv4 address, the outer source */
	uint16_t l4_port_be;        /* l4_port in network order (nat's rewrite port; 0: client's) */
	uint8_t xflags;             /* SNAP_REAL_TUN_SRC4 */
};

#define SNAP_REAL_TUN_SRC4 0x1 /* tun_src4 is set: the egress port has an IPv4 address */

_Static_assert(sizeof(struct snap_real) == 64, "a real's entry is one cache line's worth");

/*
 * Taken out of scheduling (health down without quiescent, offline, agent maint): no new
 * connections, its templates are ignored and its flows are treated as those of a removed real
 * (ipvs.expire_nodest_conn), as IPVS treats a real ldirectord removed.
 */
#define SNAP_REAL_OUT 0x1

/* Whether r still serves the flows of generation gen: not removed, not out of scheduling. */
static inline bool snap_real_serves(const struct snap_real *r, uint32_t gen)
{
	return r->gen == gen && !(r->flags & SNAP_REAL_OUT);
}

/* The per-real table is paged so that a change copies only the pages it writes. */
#define SNAP_REAL_PAGE_SHIFT 9
#define SNAP_REAL_PAGE_SIZE (1u << SNAP_REAL_PAGE_SHIFT)

struct snap_real_page {
	struct snap_real reals[SNAP_REAL_PAGE_SIZE];
	uint64_t born_build; /* build that created it: only that build may write it */
};

struct snap_sched;

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
	/* worker w's scheduler state: sched_state + w * sched_state_stride (cache-line aligned) */
	uint8_t *sched_state;
	uint32_t sched_state_stride;
	uint32_t n_dests;
	struct sched_dest *dests;
	uint32_t *dest_real_ids; /* dests[i] is real dest_real_ids[i] */
	struct lb_addr vip;
	uint16_t port;
	bool steer_by_client; /* a nat real: the worker owning a flow follows from the client */
	uint8_t client_addr_mode; /* enum lb_client_addr_mode (fnat) */
	uint8_t n_local_addrs;
	/*
	 * An edit moved or removed a local address of this service: the index an fnat flow made
	 * before may name another address now, so its packets take the local endpoint from the
	 * reply key. Appending addresses keeps every index.
	 */
	bool locals_moved;
	struct lb_addr local_addrs[LB_MAX_LOCAL_ADDRS]; /* fnat */
	/* control lcore only */
	uint64_t born_build;           /* build that made it */
	struct snap_sched *sched_obj;  /* owns dests, dest_real_ids, sched_shared, sched_state */
	bool syn_proxy; /* SYNs answered with cookies (syn_proxy.h); nat/fnat TCP only */
};

struct snap_garbage; /* what a snapshot stopped using: freed after the grace period */

struct lb_snapshot {
	uint64_t generation;
	struct lookup_table service_index; /* snap_service_key -> index into services */
	struct lookup_table vip_index;     /* snap_service_key with proto/port 0 -> 1 */
	struct lookup_table local_index;   /* fnat local addresses (proto/port 0) -> 1 */
	struct lookup_table nat_real_index; /* nat reals: key {ip, proto, port} -> 1 (port 0: any) */
	struct role_table roles; /* address -> VIP (services), local, nat real, port address */
	uint32_t n_services;
	struct snap_service **services; /* shared with other generations when unchanged */
	uint32_t max_reals;
	struct snap_real_page **real_pages; /* by real id: use snap_real_get */
	uint64_t timeout_tsc[LB_CONN_STATE_COUNT];
	bool expire_nodest_conn;
	/* control lcore only */
	uint64_t build;        /* number of the build that made it (unique, failed ones included) */
	uint8_t owned_indexes; /* SNAP_OWNS_* bits: which lookup tables this build made */
	struct snap_garbage *retired; /* what the previous snapshot used and this one does not */
};

/* The port (network order) a connection to r uses: its own, or on port 0 (a group's real) the
 * one the client asked for. */
static inline uint16_t snap_real_port_be(const struct snap_real *r, uint16_t client_dport_be)
{
	return r->l4_port_be ? r->l4_port_be : client_dport_be;
}

/* The entry of real `id` (0..max_reals); gen 0 means no such real in the snapshot. */
static inline const struct snap_real *snap_real_get(const struct lb_snapshot *snap, uint32_t id)
{
	return &snap->real_pages[id >> SNAP_REAL_PAGE_SHIFT]->reals[id & (SNAP_REAL_PAGE_SIZE - 1)];
}

/* Ids the new snapshot dropped: released by the config store once the grace period is over. */
struct snapshot_diff {
	uint32_t n_removed_services;
	uint32_t *removed_services;
	uint32_t n_removed_reals;
	uint32_t *removed_reals;
	uint32_t n_rebuilt_services; /* services given new objects (for logs and benchmarks) */
	uint32_t n_rebuilt_scheds;   /* of which with a new scheduler state (init ran) */
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

/*
 * Builds a snapshot of cfg (validated, ids assigned) from the published one, which was built from
 * prev_cfg (NULL: build everything). Services equal in both keep their objects. Fills diff (free
 * it with snapshot_diff_free); NULL with err set on failure, nothing published changed.
 */
struct lb_snapshot *snapshot_build(const struct lb_config *cfg, const struct lb_config *prev_cfg,
				   struct snapshot_diff *diff, char *err, size_t errlen);

/* Frees the id lists of a diff. */
void snapshot_diff_free(struct snapshot_diff *diff);

/*
 * Publishes snap without waiting. The previous snapshot and what only it used are freed by
 * snapshot_reclaim once every worker has passed a quiescent state; then after_grace(arg) runs
 * (may be NULL).
 */
void snapshot_publish(struct lb_snapshot *snap, void (*after_grace)(void *arg), void *arg);

/* Frees what finished its grace period, without waiting; returns the publications still pending. */
uint32_t snapshot_reclaim(void);

/* Publications whose old objects still wait for their grace period (system.info). */
uint32_t snapshot_pending(void);

/* Objects (snapshots, services, schedulers, pages, index tables) waiting to be freed. */
uint32_t snapshot_pending_objects(void);

/* Discards a built snapshot that was never published (frees only what its build made). */
void snapshot_discard(struct lb_snapshot *snap);

/* The port whose subnet holds ip, or -1 when none does. */
int snapshot_egress_port(const struct lb_addr *ip);

#endif
