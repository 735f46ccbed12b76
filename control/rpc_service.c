/* service.add, service.update, service.del, service.list */
#include <string.h>

#include "config_store.h"
#include "rpc_methods.h"
#include "scheduler.h"
#include "stats.h"

static json_t *service_add(json_t *params, struct rpc_error *err)
{
	struct lb_service_cfg svc;
	struct lb_config cand;

	if (lb_service_from_json(params, "params", true, &svc, err->message, sizeof(err->message)))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s", err->message);
	if (lb_config_find_service(config_store_running(), &svc.vip, svc.port, svc.proto) >= 0) {
		lb_service_free(&svc);
		return rpc_fail(err, LB_RPC_EXISTS, "service exists already");
	}
	if (rpc_begin_change(&cand, err) != 0) {
		lb_service_free(&svc);
		return NULL;
	}
	if (lb_config_append_service(&cand, &svc) != 0) {
		lb_service_free(&svc);
		lb_config_free(&cand);
		return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
	}
	if (rpc_commit(&cand, err) != 0)
		return NULL;
	const struct lb_config *run = config_store_running();
	return lb_service_to_json(&run->services[run->n_services - 1], true);
}

static json_t *service_update(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"vip",	  "port",	   "proto", "scheduler",
					   "sched_flags", "mh_table_size", "ops",     "forward",
					   "fallback",	  "persistent",	   "netmask", "expire_quiescent_template",
					   "ports",	  "protos",	   "local_addresses", "client_address",
					   NULL};
	struct lb_config cand;
	json_t *v;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	int idx = rpc_find_service(config_store_running(), params, "params", err);
	if (idx < 0)
		return NULL;
	if (rpc_begin_change(&cand, err) != 0)
		return NULL;
	struct lb_service_cfg *s = &cand.services[idx];
	v = json_object_get(params, "scheduler");
	if (v != NULL) {
		if (!json_is_string(v) || sched_find(json_string_value(v)) == NULL) {
			lb_config_free(&cand);
			return rpc_fail(err, JSONRPC_INVALID_PARAMS,
					"params.scheduler: unknown scheduler (known: %s)", sched_names());
		}
		snprintf(s->scheduler, sizeof(s->scheduler), "%s", json_string_value(v));
	}
	if (lb_service_forward_options_from_json(params, "params", s, err->message,
						 sizeof(err->message)) != 0 ||
	    lb_service_sched_options_from_json(params, "params", s, err->message,
					       sizeof(err->message)) != 0 ||
	    lb_service_fallback_from_json(params, "params", s, err->message, sizeof(err->message)) ||
	    lb_service_persistence_from_json(params, "params", s, err->message,
					     sizeof(err->message)) != 0 ||
	    lb_service_validate(s, "params", err->message, sizeof(err->message)) != 0) {
		lb_config_free(&cand);
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s", err->message);
	}
	if (rpc_commit(&cand, err) != 0)
		return NULL;
	return lb_service_to_json(&config_store_running()->services[idx], true);
}

static json_t *service_del(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"vip", "port", "proto", NULL};
	struct lb_config cand;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	int idx = rpc_find_service(config_store_running(), params, "params", err);
	if (idx < 0)
		return NULL;
	if (rpc_begin_change(&cand, err) != 0)
		return NULL;
	lb_config_remove_service(&cand, (uint32_t)idx);
	if (rpc_commit(&cand, err) != 0)
		return NULL;
	return json_pack("{s:b}", "deleted", 1);
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
		}
		json_array_append_new(list, o);
	}
	return json_pack("{s:o}", "services", list);
}

const struct rpc_method rpc_service_methods[] = {
	{"service.add", service_add},
	{"service.update", service_update},
	{"service.del", service_del},
	{"service.list", service_list},
	{NULL, NULL},
};
