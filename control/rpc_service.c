/* service.add, service.update, service.del, service.list */
#include <string.h>

#include "dataplane.h"
#include "config_store.h"
#include "health.h"
#include "rpc_methods.h"
#include "scheduler.h"

static json_t *service_add_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	struct lb_service_cfg svc;

	if (lb_service_from_json(params, "params", true, &svc, err->message, sizeof(err->message)))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s", err->message);
	if (lb_config_find_service(c, &svc.vip, svc.port, svc.proto) >= 0) {
		lb_service_free(&svc);
		return rpc_fail(err, LB_RPC_EXISTS, "service exists already");
	}
	if (lb_config_append_service(c, &svc) != 0) {
		lb_service_free(&svc);
		return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
	}
	c->services[c->n_services - 1].changed = true;
	return lb_service_to_json(&c->services[c->n_services - 1], true);
}

static json_t *service_update_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"vip",	  "port",	   "proto", "scheduler",
					   "sched_flags", "mh_table_size", "ops",     "forward",
					   "fallback",	  "persistent",	   "netmask", "expire_quiescent_template",
					   "ports",	  "protos",	   "local_addresses", "client_address",
					   "check",	  "agent",	   "syn_proxy",	   NULL};
	json_t *v;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	int idx = rpc_find_service(c, params, "params", err);
	if (idx < 0)
		return NULL;
	struct lb_service_cfg *s = &c->services[idx];
	s->changed = true;
	v = json_object_get(params, "scheduler");
	if (v != NULL) {
		if (!json_is_string(v) || json_string_length(v) >= sizeof(s->scheduler))
			return rpc_fail(err, JSONRPC_INVALID_PARAMS,
					"params.scheduler: must be a scheduler name (known: %s)", sched_names());
		snprintf(s->scheduler, sizeof(s->scheduler), "%s", json_string_value(v));
	}
	if (lb_service_forward_options_from_json(params, "params", s, err->message,
						 sizeof(err->message)) != 0 ||
	    lb_service_sched_options_from_json(params, "params", s, err->message,
					       sizeof(err->message)) != 0 ||
	    lb_service_fallback_from_json(params, "params", s, err->message, sizeof(err->message)) ||
	    lb_service_health_from_json(params, "params", s, err->message, sizeof(err->message)) ||
	    lb_service_persistence_from_json(params, "params", s, err->message,
					     sizeof(err->message)) != 0)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s", err->message);
	return lb_service_to_json(s, true);
}

static json_t *service_del_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"vip", "port", "proto", NULL};

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	int idx = rpc_find_service(c, params, "params", err);
	if (idx < 0)
		return NULL;
	lb_config_remove_service(c, (uint32_t)idx);
	return json_pack("{s:b}", "deleted", 1);
}

static json_t *service_add(json_t *params, struct rpc_error *err)
{
	return rpc_run_edit(service_add_edit, params, err);
}

static json_t *service_update(json_t *params, struct rpc_error *err)
{
	return rpc_run_edit(service_update_edit, params, err);
}

static json_t *service_del(json_t *params, struct rpc_error *err)
{
	return rpc_run_edit(service_del_edit, params, err);
}

static json_t *service_list(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};
	const struct lb_config *c = config_store_running();
	json_t *list = json_array();

	if (rpc_check_keys(params, keys, err) != 0) {
		json_decref(list);
		return NULL;
	}
	for (uint32_t i = 0; i < c->n_services; i++) {
		const struct lb_service_cfg *s = &c->services[i];
		json_t *o = lb_service_to_json(s, true);
		json_t *reals = json_object_get(o, "reals");
		for (uint32_t j = 0; j <= s->n_reals; j++) {
			struct traffic_sum t;
			json_t *r = j < s->n_reals ? json_array_get(reals, j) : json_object_get(o, "fallback");
			if (!json_is_object(r))
				continue;
			stats_real(j < s->n_reals ? s->reals[j].id : s->fallback.id, &t);
			json_object_set_new(r, "active", json_integer(t.active));
			json_object_set_new(r, "inactive", json_integer(t.inactive));
			if (j < s->n_reals)
				health_real_summary(&s->reals[j], r);
		}
		json_array_append_new(list, o);
	}
	return json_pack("{s:o}", "services", list);
}

const struct rpc_edit_method rpc_service_edits[] = {
	{"service.add", service_add_edit},
	{"service.update", service_update_edit},
	{"service.del", service_del_edit},
	{NULL, NULL},
};

const struct rpc_method rpc_service_methods[] = {
	{"service.add", service_add},
	{"service.update", service_update},
	{"service.del", service_del},
	{"service.list", service_list},
	{NULL, NULL},
};
