/* health.status: what the checks and agents observed, per real (see health.h). */
#include "config_store.h"
#include "health.h"
#include "rpc_methods.h"

static json_t *health_status(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"service", NULL};
	const struct lb_config *c = config_store_running();
	json_t *key = params != NULL ? json_object_get(params, "service") : NULL;
	json_t *list;

	if (params != NULL && rpc_check_keys(params, keys, err) != 0)
		return NULL;
	if (key != NULL) {
		int idx = rpc_find_service(c, key, "params.service", err);
		if (idx < 0)
			return NULL;
		return json_pack("{s:[o]}", "services", health_service_status(&c->services[idx]));
	}
	list = json_array();
	for (uint32_t i = 0; list != NULL && i < c->n_services; i++)
		json_array_append_new(list, health_service_status(&c->services[i]));
	return json_pack("{s:o}", "services", list);
}

const struct rpc_method rpc_health_methods[] = {
	{"health.status", health_status},
	{NULL, NULL},
};
