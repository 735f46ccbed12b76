/* config.get, config.save, config.apply, config.reload */
#include <stdio.h>
#include <string.h>

#include "dataplane.h"
#include "config_replace.h"
#include "config_store.h"
#include "rpc_methods.h"

static json_t *config_get(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	json_t *doc = lb_config_to_json(config_store_running());

	/* Scripts (and config.apply's if_generation) tell whether it changed since they read it. */
	if (doc != NULL)
		json_object_set_new(doc, "generation", json_integer((json_int_t)config_store_generation()));
	return doc;
}

#define CONFIG_APPLY_MAX_EDITS 100000

/* Runs edit i ({"method", "params"}) of config.apply on the candidate c; its result or NULL. */
static json_t *apply_one(struct lb_config *c, json_t *e, size_t i, struct rpc_error *err)
{
	static const char *const keys[] = {"method", "params", NULL};
	char path[48];
	json_t *result;

	snprintf(path, sizeof(path), "params.edits[%zu]", i);
	if (!json_is_object(e))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s: must be {\"method\", \"params\"}", path);
	if (lb_json_check_keys(e, path, keys, err->message, sizeof(err->message)) != 0)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s", err->message);
	json_t *name = json_object_get(e, "method"), *params = json_object_get(e, "params");
	rpc_edit edit = json_is_string(name) ? rpc_edit_find(json_string_value(name)) : NULL;
	if (edit == NULL)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"%s.method: must be one of service.add, service.update, service.del, "
				"real.add, real.update, real.del", path);
	if (!json_is_object(params))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s.params: must be an object", path);
	result = edit(c, params, err);
	if (result == NULL) {
		char inner[sizeof(err->message)];
		memcpy(inner, err->message, sizeof(inner));
		rpc_fail(err, err->code, "%s (%s): %s", path, json_string_value(name), inner);
	}
	return result;
}

/* config.apply: edits in order on one candidate, committed all at once or not at all. */
static json_t *config_apply(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"edits", "if_generation", NULL};
	json_t *edits = json_object_get(params, "edits"), *want = json_object_get(params, "if_generation");
	struct lb_config cand;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	if (!json_is_array(edits) || json_array_size(edits) == 0 ||
	    json_array_size(edits) > CONFIG_APPLY_MAX_EDITS)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"params.edits: must be an array of 1-%d {\"method\", \"params\"} objects",
				CONFIG_APPLY_MAX_EDITS);
	if (want != NULL && (!json_is_integer(want) || json_integer_value(want) < 0))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"params.if_generation: must be a generation number from config.get");
	if (want != NULL && (uint64_t)json_integer_value(want) != config_store_generation())
		return rpc_fail(err, LB_RPC_CONFLICT,
				"configuration changed: generation is %llu, not %lld (read config.get again)",
				(unsigned long long)config_store_generation(),
				(long long)json_integer_value(want));
	if (rpc_begin_change(&cand, err) != 0)
		return NULL;
	json_t *results = json_array(), *e;
	size_t i;
	json_array_foreach(edits, i, e) {
		json_t *r = apply_one(&cand, e, i, err);
		if (r == NULL) {
			json_decref(results);
			lb_config_free(&cand);
			return NULL;
		}
		json_array_append_new(results, r);
	}
	if (rpc_commit(&cand, err) != 0) {
		json_decref(results);
		return NULL;
	}
	return json_pack("{s:I, s:I, s:o}", "generation", (json_int_t)config_store_generation(),
			 "applied", (json_int_t)json_array_size(edits), "results", results);
}

/* {"path"?: FILE} of config.save and config.reload: FILE, or the daemon's own config file;
 * NULL with err set when params are wrong. */
static const char *config_path_param(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"path", NULL};
	json_t *v;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	v = json_object_get(params, "path");
	if (v == NULL)
		return lb_rt.config_path;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.path: must be a file path");
		return NULL;
	}
	return json_string_value(v);
}

static json_t *config_save(json_t *params, struct rpc_error *err)
{
	const char *path = config_path_param(params, err);

	if (path == NULL)
		return NULL;
	long n = lb_config_save_file(config_store_running(), path, err->message,
				     sizeof(err->message));
	if (n < 0)
		return rpc_fail(err, LB_RPC_IO_ERROR, "%s", err->message);
	return json_pack("{s:s, s:I}", "path", path, "bytes", (json_int_t)n);
}

/* config.reload: the file (the daemon's own by default) replaces the services, as SIGHUP does. */
static json_t *config_reload(json_t *params, struct rpc_error *err)
{
	const char *path = config_path_param(params, err);

	if (path == NULL)
		return NULL;
	uint64_t before = config_store_generation();
	int code = config_reload_file(path, err->message, sizeof(err->message));
	if (code != 0) {
		err->code = code;
		return NULL;
	}
	return json_pack("{s:s, s:I, s:b}", "path", path, "generation",
			 (json_int_t)config_store_generation(), "changed",
			 config_store_generation() != before);
}

const struct rpc_method rpc_config_methods[] = {
	{"config.get", config_get},
	{"config.save", config_save},
	{"config.apply", config_apply},
	{"config.reload", config_reload},
	{NULL, NULL},
};
