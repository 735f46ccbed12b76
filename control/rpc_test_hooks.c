/*
 * The `test.*` namespace: hooks for tests that must put the daemon in a state the scheduler
 * would only reach by chance (docs/api.md). Answered only with DPDK_LB_TEST_HOOKS=1.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc_methods.h"
#include "worker_hold.h"

bool rpc_test_hooks_on(struct rpc_error *err)
{
	const char *v = getenv("DPDK_LB_TEST_HOOKS");

	if (v != NULL && strcmp(v, "1") == 0)
		return true;
	rpc_fail(err, JSONRPC_METHOD_NOT_FOUND, "test hooks are off (DPDK_LB_TEST_HOOKS=1 turns them on)");
	return false;
}

static json_t *worker_hold(json_t *params, struct rpc_error *err)
{
	static const char *const allowed[] = {"worker", "held", NULL};

	if (!rpc_test_hooks_on(err) || rpc_check_keys(params, allowed, err) != 0)
		return NULL;
	json_t *worker = json_object_get(params, "worker");
	json_t *held = json_object_get(params, "held");
	if (!json_is_integer(worker) || json_integer_value(worker) < 0 ||
	    json_integer_value(worker) >= lb_rt.n_workers)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "worker: must be an integer 0-%u",
				lb_rt.n_workers - 1u);
	uint16_t index = (uint16_t)json_integer_value(worker);
	if (held != NULL) {
		if (!json_is_boolean(held))
			return rpc_fail(err, JSONRPC_INVALID_PARAMS, "held: must be true or false");
		worker_hold_set(index, json_is_true(held));
	}
	return json_pack("{s:i,s:b}", "worker", (int)index, "held", worker_hold_get(index));
}

const struct rpc_method rpc_test_hook_methods[] = {
	{"test.worker_hold", worker_hold},
	{NULL, NULL},
};
