/* The one table of RPC namespaces, and helpers every namespace uses. */
#include "rpc_methods.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_store.h"
#include "ha.h"

static const struct rpc_method *const namespaces[] = {
	rpc_service_methods, rpc_real_methods,   rpc_stats_methods,
	rpc_config_methods,  rpc_system_methods, rpc_health_methods,
	rpc_observe_methods,
	rpc_capture_methods,
	rpc_ha_methods,
	rpc_ha_sync_test_methods,
	rpc_block_methods,
	rpc_backup_methods,
	rpc_test_hook_methods,
};

const struct rpc_method *rpc_method_find(const char *name)
{
	for (size_t n = 0; n < sizeof(namespaces) / sizeof(namespaces[0]); n++)
		for (const struct rpc_method *m = namespaces[n]; m->name != NULL; m++)
			if (strcmp(m->name, name) == 0)
				return m;
	return NULL;
}

static const struct rpc_edit_method *const edit_namespaces[] = {rpc_service_edits, rpc_real_edits,
								      rpc_block_edits};

rpc_edit rpc_edit_find(const char *name)
{
	for (size_t n = 0; n < sizeof(edit_namespaces) / sizeof(edit_namespaces[0]); n++)
		for (const struct rpc_edit_method *m = edit_namespaces[n]; m->name != NULL; m++)
			if (strcmp(m->name, name) == 0)
				return m->edit;
	return NULL;
}

json_t *rpc_fail(struct rpc_error *err, int code, const char *fmt, ...)
{
	char msg[sizeof(err->message)];
	va_list ap;

	/* Format aside first: callers pass err->message itself as an argument. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err->code = code;
	memcpy(err->message, msg, sizeof(msg));
	return NULL;
}

int rpc_check_keys(json_t *params, const char *const *allowed, struct rpc_error *err)
{
	if (lb_json_check_keys(params, "params", allowed, err->message, sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return -1;
	}
	return 0;
}

int rpc_begin_change(struct lb_config *candidate, struct rpc_error *err)
{
	if (lb_config_clone(config_store_running(), candidate) != 0) {
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	/* Edits mark what they touch (rpc_edit), so validation costs the changed services only. */
	candidate->incremental = true;
	return 0;
}

int rpc_commit(struct lb_config *candidate, struct rpc_error *err)
{
	int code = config_store_commit(candidate, err->message, sizeof(err->message));

	lb_config_free(candidate);
	if (code != 0) {
		err->code = code;
		return -1;
	}
	return 0;
}

int rpc_find_service(const struct lb_config *c, json_t *key, const char *path,
		     struct rpc_error *err)
{
	struct lb_addr vip;
	uint16_t port;
	uint8_t proto;
	char ab[LB_ADDR_STRLEN];

	if (lb_service_key_from_json(key, path, &vip, &port, &proto, err->message,
				     sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return -1;
	}
	int idx = lb_config_find_service(c, &vip, port, proto);
	if (idx < 0)
		rpc_fail(err, LB_RPC_NOT_FOUND, "no service %s %s:%u", lb_proto_name(proto),
			 lb_addr_format(&vip, ab, sizeof(ab)), port);
	return idx;
}

json_t *rpc_run_edit(rpc_edit edit, json_t *params, struct rpc_error *err)
{
	struct lb_config cand;
	json_t *result;

	if (rpc_begin_change(&cand, err) != 0)
		return NULL;
	result = edit(&cand, params, err);
	if (result == NULL) {
		lb_config_free(&cand);
		return NULL;
	}
	if (rpc_commit(&cand, err) != 0) {
		json_decref(result);
		return NULL;
	}
	return result;
}

/* Methods that replace or batch-edit the configuration as a whole (not in the edit table). */
static bool whole_config_change(const char *method)
{
	static const char *const names[] = {"config.apply", "config.reload", "config.restore",
					    "config.factory_reset", NULL};

	for (size_t i = 0; names[i] != NULL; i++)
		if (strcmp(method, names[i]) == 0)
			return true;
	return false;
}

bool rpc_change_refused(const char *method, json_t *params, struct rpc_error *err)
{
	if (rpc_edit_find(method) == NULL && !whole_config_change(method))
		return false;
	json_t *force = json_is_object(params) ? json_object_get(params, "force") : NULL;
	if (force != NULL && !json_is_boolean(force)) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.force: must be true or false");
		return true;
	}
	bool forced = json_is_true(force);
	if (force != NULL)
		json_object_del(params, "force");
	if (forced)
		return false;
	if (ha_refuse_change(err->message, sizeof(err->message))) {
		err->code = LB_RPC_HA_BACKUP;
		return true;
	}
	return false;
}
