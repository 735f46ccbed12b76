/* conn.summary and conn.top: asynchronous aggregates over every worker's connections. */
#ifndef DPDK_LB_RPC_CONN_TOP_H
#define DPDK_LB_RPC_CONN_TOP_H

#include "rpc_async.h"

/* conn.summary: connections by state, overall, per service and per real, and templates. */
int conn_summary_start(json_t *params, struct rpc_pending *p, struct rpc_error *err);

/* conn.top: client prefixes ranked by connections, new connections/s, packets/s or drops/s. */
int conn_top_start(json_t *params, struct rpc_pending *p, struct rpc_error *err);

#endif
