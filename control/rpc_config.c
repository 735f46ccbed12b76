/* config.get, config.save */
#include "config_store.h"
#include "lb_runtime.h"
#include "rpc_methods.h"

static json_t *config_get(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	return lb_config_to_json(config_store_running());
}

static json_t *config_save(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"path", NULL};
	const char *path = lb_rt.config_path;
	json_t *v;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	v = json_object_get(params, "path");
	if (v != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0)
			return rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.path: must be a file path");
		path = json_string_value(v);
	}
	long n = lb_config_save_file(config_store_running(), path, err->message,
				     sizeof(err->message));
	if (n < 0)
		return rpc_fail(err, LB_RPC_IO_ERROR, "%s", err->message);
	return json_pack("{s:s, s:I}", "path", path, "bytes", (json_int_t)n);
}

const struct rpc_method rpc_config_methods[] = {
	{"config.get", config_get},
	{"config.save", config_save},
	{NULL, NULL},
};
