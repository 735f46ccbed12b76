/* Want vs got: the weight the dataplane is given (see effective_weight.h). */
#include "effective_weight.h"

#include "health_config.h"

#define MAX_WEIGHT 65535u

const char *lb_health_state_name(uint8_t state)
{
	switch (state) {
	case LB_HEALTH_UP:
		return "up";
	case LB_HEALTH_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

/* A failed real: weight 0 with its connections kept (quiescent), or out of scheduling. */
static struct lb_effective failed(const struct lb_observation *obs, const char *why_q,
				  const char *why_out)
{
	struct lb_effective e = {.weight = 0, .out = !obs->quiescent};

	e.why = obs->quiescent ? why_q : why_out;
	return e;
}

struct lb_effective lb_effective_weight(uint32_t configured, uint8_t admin,
					const struct lb_observation *obs)
{
	struct lb_effective e = {.weight = configured, .out = false, .why = "configured"};
	static const struct lb_observation none;

	if (obs == NULL)
		obs = &none;
	/* The operator's wish first: an offline real stays out whatever its health. */
	if (admin == LB_ADMIN_OFFLINE)
		return (struct lb_effective){.weight = 0, .out = true, .why = "offline"};
	if (obs->health == LB_HEALTH_DOWN)
		return failed(obs, "down (quiescent)", "down");
	if (obs->has_agent && obs->agent.state == AGENT_STATE_DOWN)
		return failed(obs, "agent down (quiescent)", "agent down");
	if (obs->has_agent && obs->agent.admin == AGENT_ADMIN_MAINT)
		return (struct lb_effective){.weight = 0, .out = true, .why = "agent maint"};
	if (admin == LB_ADMIN_DRAIN)
		return (struct lb_effective){.weight = 0, .out = false, .why = "drain"};
	if (obs->has_agent && obs->agent.admin == AGENT_ADMIN_DRAIN)
		return (struct lb_effective){.weight = 0, .out = false, .why = "agent drain"};
	if (obs->has_agent) {
		e.weight = agent_reply_weight(&obs->agent, configured);
		e.why = "agent";
	}
	if (e.weight > MAX_WEIGHT)
		e.weight = MAX_WEIGHT;
	return e;
}
