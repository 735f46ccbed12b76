/* ha.status: the failover pair as this node sees it (docs/api.md, docs/ha.md). */
#include "ha.h"
#include "rpc_methods.h"

static json_t *ha_status(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	json_t *o = ha_status_json();
	if (o == NULL)
		return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
	return o;
}

const struct rpc_method rpc_ha_methods[] = {
	{"ha.status", ha_status},
	{NULL, NULL},
};
