/*
 * The health keys of services and reals in the configuration model: "check", "agent", a real's
 * "check" override and "state" (the operator's wish). Check and agent objects are kept as
 * normalised JSON, shared by reference between a configuration and its candidates.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "health_config.h"

int lb_service_health_from_json(const json_t *obj, const char *path, struct lb_service_cfg *svc,
				char *err, size_t errlen)
{
	char kpath[160];
	json_t *v = json_object_get(obj, "check");

	if (v != NULL) {
		struct lb_check_cfg chk;
		json_t *norm = NULL;
		snprintf(kpath, sizeof(kpath), "%s.check", path);
		if (!json_is_null(v)) {
			if (lb_check_from_json(v, NULL, kpath, &chk, err, errlen) != 0)
				return -1;
			norm = lb_check_to_json(&chk);
			if (norm == NULL)
				return lb_err(err, errlen, "%s: out of memory", kpath);
		}
		json_decref(svc->check);
		svc->check = norm;
	}
	v = json_object_get(obj, "agent");
	if (v != NULL) {
		struct lb_agent_cfg ag;
		json_t *norm = NULL;
		snprintf(kpath, sizeof(kpath), "%s.agent", path);
		if (!json_is_null(v)) {
			if (lb_agent_from_json(v, kpath, &ag, err, errlen) != 0)
				return -1;
			if (ag.type != LB_AGENT_NONE && (norm = lb_agent_to_json(&ag)) == NULL)
				return lb_err(err, errlen, "%s: out of memory", kpath);
		}
		json_decref(svc->agent);
		svc->agent = norm;
	}
	return 0;
}

int lb_real_health_from_json(const json_t *obj, const char *path, struct lb_real_cfg *real,
			     char *err, size_t errlen)
{
	char kpath[160];
	json_t *v = json_object_get(obj, "state");

	if (v != NULL) {
		int st = json_is_string(v) ? lb_admin_state_find(json_string_value(v)) : -1;
		if (st < 0)
			return lb_err(err, errlen, "%s.state: must be online, drain or offline", path);
		real->admin_state = (uint8_t)st;
	}
	v = json_object_get(obj, "check");
	if (v != NULL) {
		struct lb_check_cfg chk;
		json_t *copy = NULL;
		snprintf(kpath, sizeof(kpath), "%s.check", path);
		if (!json_is_null(v)) {
			/* Form and ranges now; merged with the service's check by the validator. */
			if (lb_check_from_json(NULL, v, kpath, &chk, err, errlen) != 0)
				return -1;
			if ((copy = json_deep_copy(v)) == NULL)
				return lb_err(err, errlen, "%s: out of memory", kpath);
		}
		json_decref(real->check);
		real->check = copy;
	}
	return 0;
}

void lb_service_health_to_json(const struct lb_service_cfg *svc, json_t *o)
{
	json_object_set(o, "check", svc->check != NULL ? svc->check : json_null());
	json_object_set(o, "agent", svc->agent != NULL ? svc->agent : json_null());
}

void lb_real_health_to_json(const struct lb_real_cfg *real, json_t *o)
{
	json_object_set_new(o, "state", json_string(lb_admin_state_name(real->admin_state)));
	if (real->check != NULL)
		json_object_set(o, "check", real->check);
}

void lb_real_release(struct lb_real_cfg *real)
{
	json_decref(real->check);
	real->check = NULL;
}

void lb_service_retain(struct lb_service_cfg *svc)
{
	json_incref(svc->check);
	json_incref(svc->agent);
	json_incref(svc->fallback_page); /* immutable once parsed: shared, not copied */
	for (uint32_t i = 0; i < svc->n_reals; i++)
		json_incref(svc->reals[i].check);
}
