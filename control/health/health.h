/*
 * Health checks and feedback agents: the control side's observations of the real servers. One
 * target per real of the running configuration holds its check (timer, run in flight, result
 * history) and its agent; observation changes republish the services they touch, batched per
 * loop turn, through the same validator and incremental publication as any change, without
 * bumping the configuration generation (they are not configuration).
 */
#ifndef DPDK_LB_HEALTH_H
#define DPDK_LB_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "effective_weight.h"
#include "event_loop.h"

/*
 * Prepares the checker for service and real ids up to max_services and max_reals, with at most
 * max_processes external and notify commands at once; 0 or -1 with err.
 */
int health_init(struct ev_loop *loop, uint32_t max_services, uint32_t max_reals,
		uint32_t max_processes, char *err, size_t errlen);

/* Stops every check, agent and process; frees everything. */
void health_shutdown(void);

/*
 * After a commit: brings the targets in line with the running configuration c (every service
 * when all, else the services marked changed), removes those of reals that are gone.
 */
void health_sync(const struct lb_config *c, bool all);

/* The effective weight of real r of svc in a candidate being committed. */
struct lb_effective health_effective(const struct lb_service_cfg *svc, const struct lb_real_cfg *r);

/* health.status's object for service svc of the running configuration; new reference. */
json_t *health_service_status(const struct lb_service_cfg *svc);

/* Whether every real of svc is unable to take new connections (its fallback is in use). */
bool health_service_all_down(const struct lb_service_cfg *svc);

/* Per-real summary for service.list: "health" and "effective_weight" added to o. */
void health_real_summary(const struct lb_real_cfg *r, json_t *o);

struct health_counters {
	uint64_t checks, checks_failed, checks_not_run;
	uint64_t agent_polls, agent_failures;
	uint64_t state_changes, publications;
	uint32_t targets, processes;
};

/* How late the last few thousand check and agent timers ran: p99, max, and how many. */
void health_lateness(uint64_t *p99_ns, uint64_t *max_ns, uint32_t *samples);

/* Totals since start (stats.get). */
void health_counters_get(struct health_counters *c);

#endif
