/* Sums of the per-lcore counters, read by the control lcore without stopping the workers. */
#ifndef DPDK_LB_STATS_H
#define DPDK_LB_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"

struct traffic_sum {
	uint64_t conns, inpkts, outpkts, inbytes, outbytes;
	int64_t active, inactive;
};

/* Allocates the baselines; 0 or -1. */
int stats_init(uint32_t max_services, uint32_t max_reals);

/* Counters of real `id` since it was allocated. */
void stats_real(uint32_t id, struct traffic_sum *out);

/* Counters of service `id` since it was allocated (active/inactive left 0). */
void stats_service(uint32_t id, struct traffic_sum *out);

/* Starts real/service id's counters from zero (call when the id is allocated). */
void stats_reset_real(uint32_t id);
void stats_reset_service(uint32_t id);

/* True when no flow counts against real id on any worker. */
bool stats_real_idle(uint32_t id);

/* Sums of every worker's global counters. */
void stats_workers(struct lb_worker_stats *out);

/* Refreshes the load board the load-based schedulers read (all workers' connection counts). */
void stats_update_load_board(void);

/* The workers' flow tables (system.info "flow_table"): one table's shape, all tables' counts. */
struct flow_table_info {
	uint32_t ipv4_keys, ipv6_keys;       /* per worker */
	uint32_t ipv4_buckets, ipv6_buckets; /* per worker */
	uint32_t slots_per_bucket;
	double wheel_tick_us;
	uint64_t ipv4_held, ipv6_held, bucket_full, moves, wheel_full; /* all workers */
};

/* Fills *out; the counts are read while the workers write them (a glance, not a snapshot). */
void stats_flow_tables(struct flow_table_info *out);

#endif
