/*
 * Process-wide runtime of the daemon: ports, workers and what the control lcore shares with
 * them. Workers write only their own struct lb_worker (and what hangs off it); the control lcore
 * owns everything else and publishes configuration through snapshots (snapshot.h).
 */
#ifndef DPDK_LB_RUNTIME_H
#define DPDK_LB_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "config.h"
#include "counters.h"
#include "token_bucket.h"

#define LB_MAX_WORKERS 16
#define LB_MAX_PORTS 8
#define LB_MAX_LINKS (LB_MAX_PORTS + LB_MAX_VLANS) /* ports, then their VLANs (vlan.h) */
#define LB_BURST 32

struct flow_table;
struct half_open_ring;
struct lb_snapshot;
struct neigh_table;
struct persist_table;
struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

struct lb_port {
	uint16_t port_id;
	uint16_t n_queues;
	struct rte_ether_addr mac;
	bool has_address;
	struct lb_addr address; /* the appliance's own address on this port */
	uint8_t prefix_len;
	bool has_address6;
	struct lb_addr address6; /* its IPv6 address (ports[].address6), for dual-stack ports */
	uint8_t prefix_len6;
	uint16_t mtu; /* IP MTU (ports[].mtu) */
	bool has_kernel_if;     /* an exception-path interface (exception.h) exists */
	uint16_t kernel_port_id; /* its ethdev port (net_tap), touched by the control lcore only */
	char name[64];
	bool tx_poll; /* an 802.3ad bond: worker 0 calls tx_burst when idle too (LACP frames) */
	/* a VLAN link (index >= lb_rt.n_ports): its physical port and 802.1Q id (vlan.h) */
	uint16_t phys;
	uint16_t vlan_id;
	bool has_vlans; /* a physical port with VLAN links: its tagged frames are untagged */
	bool vlan_strip; /* ... and its PMD strips the tags into vlan_tci (RX offload) */
};

struct src_slot;

struct lb_tx_batch {
	uint16_t n;
	struct rte_mbuf *pkts[LB_BURST * 2];
};

struct lb_worker {
	unsigned int lcore_id;
	uint16_t index; /* 0..n_workers-1: RX/TX queue id on every port, RCU thread id */
	struct flow_table *flows;
	struct rte_ring *to_control;   /* ARP frames for neighbour learning (worker -> control) */
	struct rte_ring *from_control; /* frames to transmit (control -> worker) */
	struct rte_ring *requests;     /* connection dumps (control -> worker) */
	struct rte_ring *handoff;      /* packets of flows this worker owns, from other workers */
	struct rte_ring *icmp_walk;    /* ICMP errors looking for their dr/tun flow: {mbuf, hops} */
	struct rte_ring *events;       /* connection events (conn_events.h); NULL = turned off */
	struct rte_ring *to_kernel;    /* frames for the kernel interfaces (worker -> control) */
	struct lb_token_bucket exception_rx; /* this worker's share of exception.rx_pps */
	uint32_t fnat_cursor;          /* next candidate in this worker's slice of local ports */
	uint16_t ip_id;                /* IPv4 id of packets this worker originates */
	uint32_t frag6_id;             /* low 24 bits of IPv6 fragment ids this worker makes */
	struct rte_ip_frag_tbl *frag_tbl; /* datagrams being reassembled (frag.h) */
	struct rte_ip_frag_death_row *frag_death_row;
	struct lb_worker_stats *stats;
	struct lb_traffic_counters *real_counters;    /* [max_reals + 1], by real id */
	struct lb_traffic_counters *service_counters; /* [max_services + 1], by service id */
	struct lb_tx_batch tx[LB_MAX_PORTS];
	uint32_t idle_polls;
	uint64_t *block_hits;          /* [blocklist_capacity + 1]: packets dropped, by entry slot */
	struct src_slot *src_slots;    /* source sketch (src_sketch.h); NULL = off */
	uint32_t src_mask;             /* slots - 1 */
	struct src_slot *src_cur;      /* the slot of the packet being handled, or NULL */
	bool ha_active; /* this loop turn: the node owns the VIPs (ha_role.h), read once per turn */
	bool test_held; /* test hook (worker_hold.h): stop polling while set */
	bool flow_pressure; /* the flow table is over its high-water mark (half_open.h) */
	uint64_t half_open_pressure_tsc; /* the half-open lifetime under pressure */
	struct half_open_ring *half_open; /* TCP flows by age, for eviction and early expiry */
	uint64_t test_clock;       /* test hook (worker_clock.h): the frozen TSC, 0 = the real one */
	uint32_t test_clock_loops; /* loops started on the frozen clock */
} __rte_cache_aligned;

/* Connection counts summed over all workers, refreshed by the control lcore for schedulers. */
struct lb_load_board {
	uint32_t *total_active;   /* [max_reals + 1] */
	uint32_t *total_inactive; /* [max_reals + 1] */
	/* what each worker had contributed to the totals when they were computed */
	uint32_t *worker_active[LB_MAX_WORKERS];
	uint32_t *worker_inactive[LB_MAX_WORKERS];
	/* over its upper threshold and not yet back under the lower one (control writes) */
	uint8_t *overloaded; /* [max_reals + 1] */
};

struct lb_runtime {
	struct lb_config *config; /* running configuration (control lcore only) */
	const char *config_path;
	uint64_t start_tsc;
	uint64_t tsc_hz;

	uint16_t n_ports; /* physical (DPDK) ports: ports[0, n_ports) */
	struct lb_port ports[LB_MAX_LINKS];
	uint16_t n_links; /* n_ports and the VLAN links after them: ports[n_ports, n_links) */
	/* physical port, VLAN id -> its VLAN link; 0 = no such VLAN (link 0 is never a VLAN) */
	uint8_t vlan_link[LB_MAX_PORTS][4096];
	struct rte_mempool *pool;

	uint16_t n_workers;
	struct lb_worker *workers[LB_MAX_WORKERS];
	struct rte_rcu_qsbr *rcu;
	struct lb_snapshot *snapshot; /* published; read with __atomic_load_n ACQUIRE */
	uint64_t snapshot_generation;
	uint64_t last_build_ns;   /* building the last published snapshot */
	uint64_t last_publish_ns; /* pointer swap and queueing the old one for freeing (no wait) */
	uint64_t flow_table_bytes; /* heap bytes taken by all workers' flow tables */
	uint64_t flow_v4_bytes;    /* ... of which the IPv4 flows' share (buckets, wheel, half-open ring) */

	/* counters the control lcore writes (exception path), summed with the workers' */
	struct lb_worker_stats control_stats;

	struct lb_load_board load;
	struct neigh_table *neigh;
	struct persist_table *persist; /* shared by the workers: see persist_table.h */
	uint32_t max_reals;
	uint32_t max_services;
	uint32_t idle_sleep_us;
	uint32_t frag_datagrams;
	uint32_t frag_timeout_ms;
	uint16_t fnat_port_min, fnat_port_max; /* worker w owns ports min + w + k * n_workers */

	/*
	 * The failover pair (control/ha): with ha_enabled, only a MASTER answers ARP/ND for the
	 * VIPs and fnat local addresses and forwards their traffic. ha_state (enum ha_state) is
	 * written by the heartbeat thread, read by workers once per loop turn (ha_role.h);
	 * the rest is set before the workers start.
	 */
	bool ha_enabled;
	uint8_t ha_state;
	uint16_t ha_port;      /* the port whose kernel interface carries the pair's traffic */
	bool ha_has_group;
	struct lb_addr ha_group; /* multicast group of the pair: handed to that kernel interface */

	volatile bool quit;
	volatile bool reload; /* SIGHUP: reload the configuration file (control lcore) */
};

extern struct lb_runtime lb_rt;

#endif
