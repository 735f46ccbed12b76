/*
 * RPC methods that answer later: a method whose work must not hold the control loop (it waits
 * for workers, or has much to do) starts it, returns, and completes it from the loop's timers
 * and watchers. The connection's next requests wait for the answer, so answers stay in order.
 */
#ifndef DPDK_LB_RPC_ASYNC_H
#define DPDK_LB_RPC_ASYNC_H

#include <jansson.h>

#include "rpc_methods.h"

struct ev_loop;
struct rpc_pending;

/* Called instead of a completion when the client has gone: stop, free ctx, never complete. */
typedef void (*rpc_cancel_fn)(void *ctx);

/*
 * Starts the method: 0 after rpc_pending_set_cancel, with rpc_pending_done to follow later
 * (never from inside this call), or -1 with err filled (answered at once).
 */
typedef int (*rpc_async_handler)(json_t *params, struct rpc_pending *p, struct rpc_error *err);

struct rpc_async_method {
	const char *name;
	rpc_async_handler start;
};

/* The asynchronous method called name, or NULL. */
const struct rpc_async_method *rpc_async_method_find(const char *name);

/* The loop the method runs on. */
struct ev_loop *rpc_pending_loop(const struct rpc_pending *p);

/* What to call, with ctx, if the client goes away before the answer. */
void rpc_pending_set_cancel(struct rpc_pending *p, rpc_cancel_fn cancel, void *ctx);

/* Answers the call with result (stolen), or with err when result is NULL; frees p. */
void rpc_pending_done(struct rpc_pending *p, json_t *result, const struct rpc_error *err);

extern const struct rpc_async_method rpc_conn_async_methods[];

#endif
