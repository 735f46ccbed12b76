/*
 * What a real server is given, from what the operator wants (configured weight and admin
 * state) and what the appliance observed (health state and the feedback agent's last reply).
 * Pure code: derived each time a service is published, never written back into the wish.
 */
#ifndef DPDK_LB_EFFECTIVE_WEIGHT_H
#define DPDK_LB_EFFECTIVE_WEIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_reply.h"

enum lb_health_state {
	LB_HEALTH_UNKNOWN = 0, /* not checked yet: taken as up */
	LB_HEALTH_UP,
	LB_HEALTH_DOWN,
};

struct lb_observation {
	uint8_t health;          /* enum lb_health_state */
	bool quiescent;          /* the check's quiescent: down means weight 0, not out */
	bool has_agent;          /* agent holds the last valid agent reply */
	struct agent_reply agent;
};

struct lb_effective {
	uint32_t weight;
	bool out;          /* out of scheduling: not a destination, templates ignored */
	const char *why;   /* static words: "down (quiescent)", "offline", "agent drain" ... */
};

/* The effective weight and scheduling of a real (admin: enum lb_admin_state). */
struct lb_effective lb_effective_weight(uint32_t configured, uint8_t admin,
					const struct lb_observation *obs);

/* "up", "down", "unknown". */
const char *lb_health_state_name(uint8_t state);

#endif
