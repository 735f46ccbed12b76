/*
 * The `test.*` namespace: hooks for tests that must put the daemon in a state the scheduler
 * would only reach by chance (docs/api.md). Answered only with DPDK_LB_TEST_HOOKS=1.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flow_table.h"
#include "rpc_methods.h"
#include "worker_clock.h"
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

/* An integer param >= min (min >= 0), or -1 when absent; -2 (err set) when it is not one. */
static int64_t clock_param(json_t *params, const char *name, int64_t min, struct rpc_error *err)
{
	json_t *v = json_object_get(params, name);

	if (v == NULL)
		return -1;
	if (!json_is_integer(v) || json_integer_value(v) < min) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s: must be an integer >= %" PRId64, name, min);
		return -2;
	}
	return (int64_t)json_integer_value(v);
}

static json_t *worker_clock(json_t *params, struct rpc_error *err)
{
	static const char *const allowed[] = {"worker", "frozen", "now", "advance", NULL};

	if (!rpc_test_hooks_on(err) || rpc_check_keys(params, allowed, err) != 0)
		return NULL;
	json_t *worker = json_object_get(params, "worker");
	json_t *frozen = json_object_get(params, "frozen");
	if (!json_is_integer(worker) || json_integer_value(worker) < 0 ||
	    json_integer_value(worker) >= lb_rt.n_workers)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "worker: must be an integer 0-%u",
				lb_rt.n_workers - 1u);
	if (frozen != NULL && !json_is_boolean(frozen))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "frozen: must be true or false");
	int64_t at = clock_param(params, "now", 1, err);
	int64_t advance = clock_param(params, "advance", 0, err);
	if (at == -2 || advance == -2)
		return NULL;
	if (at >= 0 && advance >= 0)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "now, advance: give one of them");
	if (json_is_false(frozen) && (at >= 0 || advance >= 0))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"frozen: false gives the real clock back; now and advance need it frozen");
	uint16_t index = (uint16_t)json_integer_value(worker);
	uint64_t cur = worker_clock_get(index);
	uint64_t next = cur;
	if (json_is_false(frozen))
		next = 0;
	else if (at >= 0)
		next = (uint64_t)at;
	else if (advance >= 0 || json_is_true(frozen))
		next = (cur != 0 ? cur : rte_rdtsc()) + (uint64_t)(advance > 0 ? advance : 0);
	/* Unchanged: a loop ran on it already, unless the worker is held. */
	bool applied = next != cur ? worker_clock_set(index, next)
				   : next == 0 || !worker_hold_get(index);
	uint64_t now = next != 0 ? next : rte_rdtsc();
	return json_pack("{s:i,s:b,s:I,s:I,s:I,s:b}", "worker", (int)index, "frozen", next != 0,
			 "now", (json_int_t)now, "tsc_hz", (json_int_t)lb_rt.tsc_hz, "wheel_tick",
			 (json_int_t)flow_wheel_tick_tsc(&lb_rt.workers[index]->flows->wheel),
			 "applied", applied);
}

const struct rpc_method rpc_test_hook_methods[] = {
	{"test.worker_hold", worker_hold},
	{"test.worker_clock", worker_clock},
	{NULL, NULL},
};
