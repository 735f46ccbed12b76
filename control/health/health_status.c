/* health.status and the health columns of service.list (see health.h). */
#include <math.h>

#include "health_internal.h"

static json_t *time_or_null(double t)
{
	return t > 0 ? json_real(t) : json_null();
}

static json_t *agent_status(const struct health_target *t)
{
	if (t == NULL || t->agent_json == NULL)
		return json_null();
	json_t *pct = t->agent_valid && t->agent.weight_pct != AGENT_WEIGHT_UNSET
			      ? json_integer(t->agent.weight_pct)
			      : json_null();
	return json_pack("{s:s, s:s, s:o, s:I, s:o}", "reply", t->agent_line, "error",
			 t->agent_error, "weight_pct", pct, "failures", (json_int_t)t->agent_failures,
			 "last_poll", time_or_null(t->agent_last));
}

static json_t *real_status(const struct lb_service_cfg *svc, const struct lb_real_cfg *r)
{
	char ab[LB_ADDR_STRLEN];
	const struct health_target *t = health_target_get(r->id);
	bool checked = t != NULL && t->plan != NULL;
	struct lb_effective e = health_effective(svc, r);
	uint8_t state = checked ? t->state : LB_HEALTH_UP; /* without a check a real is up */

	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:b}", "ip", lb_addr_format(&r->ip, ab, sizeof(ab)),
			      "port", (json_int_t)r->port, "state", lb_health_state_name(state),
			      "admin", lb_admin_state_name(r->admin_state), "checked", checked);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "since", time_or_null(t != NULL ? t->since : 0));
	json_object_set_new(o, "last_check", time_or_null(checked ? t->last_check : 0));
	json_object_set_new(o, "latency_ms", checked && t->checks
						     ? json_real(round(t->latency_ms * 1000) / 1000)
						     : json_null());
	json_object_set_new(o, "last_error", json_string(checked ? t->last_error : ""));
	json_object_set_new(o, "failures", json_integer(checked ? t->failures : 0));
	json_object_set_new(o, "successes", json_integer(checked ? t->successes : 0));
	json_object_set_new(o, "checks", json_integer(checked ? (json_int_t)t->checks : 0));
	json_object_set_new(o, "agent", agent_status(t));
	json_object_set_new(o, "weight", json_integer(r->weight));
	/* What is published (the last commit), and why in words. */
	json_object_set_new(o, "effective_weight", json_integer(r->eff_weight));
	json_object_set_new(o, "in_service", json_boolean(!r->eff_out));
	json_object_set_new(o, "reason", json_string(e.why));
	return o;
}

json_t *health_service_status(const struct lb_service_cfg *svc)
{
	char ab[LB_ADDR_STRLEN];
	json_t *reals = json_array();
	json_t *check = svc->check != NULL ? json_incref(json_object_get(svc->check, "type"))
					   : json_null();
	json_t *agent = svc->agent != NULL ? json_incref(json_object_get(svc->agent, "type"))
					   : json_null();

	for (uint32_t j = 0; j < svc->n_reals; j++)
		json_array_append_new(reals, real_status(svc, &svc->reals[j]));
	bool all_down = health_service_all_down(svc);
	return json_pack("{s:s, s:I, s:s, s:o, s:o, s:b, s:b, s:o}", "vip",
			 lb_addr_format(&svc->vip, ab, sizeof(ab)), "port", (json_int_t)svc->port,
			 "proto", lb_proto_name(svc->proto), "check", check, "agent", agent, "all_down",
			 all_down, "fallback_active", all_down && svc->has_fallback, "reals", reals);
}

void health_real_summary(const struct lb_real_cfg *r, json_t *o)
{
	const struct health_target *t = health_target_get(r->id);
	uint8_t state = t != NULL && t->plan != NULL ? t->state : LB_HEALTH_UP;

	json_object_set_new(o, "health", json_string(lb_health_state_name(state)));
	json_object_set_new(o, "effective_weight", json_integer(r->eff_weight));
	json_object_set_new(o, "in_service", json_boolean(!r->eff_out));
}
