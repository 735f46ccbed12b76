/* What health.c, health_status.c and admin_state_file.c share: the targets. */
#ifndef DPDK_LB_HEALTH_INTERNAL_H
#define DPDK_LB_HEALTH_INTERNAL_H

#include <regex.h>

#include "agent_poll.h"
#include "check_run.h"
#include "health.h"

/* A parsed check, shared by the reals of a service that do not override it. */
struct health_plan {
	uint32_t refs;
	json_t *base, *over; /* what it was parsed from (references held: identity) */
	struct lb_check_cfg cfg;
	regex_t re;
	bool has_re;
};

/* One real server of one service: its check and agent, and what they observed. */
struct health_target {
	uint32_t real_id, service_id;
	uint32_t seen_epoch;
	uint8_t l4proto;       /* the service's protocol */
	uint8_t admin_state;   /* as last synced (the state file is rewritten when it changes) */
	struct lb_addr vip, rip;
	uint16_t vport, rport;
	char vip_s[48], rip_s[48];

	struct health_plan *plan; /* NULL: not checked */
	struct ev_timer check_timer;
	struct check_run run;
	bool running;
	uint64_t run_started_ns;
	uint32_t cycle; /* type N: connect checks done since the last negotiate */

	uint8_t state; /* enum lb_health_state */
	double since, last_check, latency_ms;
	char last_error[CHECK_RUN_WHY_LEN];
	uint32_t failures, successes;
	uint64_t checks;

	json_t *agent_json; /* the agent object it runs (reference held), or NULL */
	struct lb_agent_cfg agent_cfg;
	struct ev_timer agent_timer;
	struct agent_poll poll;
	bool agent_valid;
	struct agent_reply agent;
	char agent_line[AGENT_WHY_LEN];
	char agent_error[AGENT_WHY_LEN + 64];
	uint32_t agent_failures;
	double agent_last;
};

/* The target of real id (NULL when none). */
struct health_target *health_target_get(uint32_t real_id);

/* Wall-clock time in seconds (health.status's times). */
double health_wall_now(void);

#endif
