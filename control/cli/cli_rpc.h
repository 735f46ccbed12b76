/* JSON-RPC 2.0 client over the daemon's Unix stream socket, one JSON object per line. */
#ifndef DPDK_LB_CLI_RPC_H
#define DPDK_LB_CLI_RPC_H

#include <jansson.h>

#include "cli.h"

/* A response line longer than this is refused rather than buffered without bound. */
#define CLI_RPC_MAX_RESPONSE (64u * 1024 * 1024)

/*
 * Calls method with params (stolen; NULL sends none) and returns 0 with *result set to a new
 * reference; on any failure prints "dpdk-lb-cli: METHOD: ..." to stderr and returns 1.
 */
int cli_rpc_call(const struct cli_ctx *ctx, const char *method, json_t *params, json_t **result);

/* As cli_rpc_call, but a JSON-RPC error is not printed: it is returned in *error (new
 * reference; the call then returns 1). Connection failures are printed as before. */
int cli_rpc_call_error(const struct cli_ctx *ctx, const char *method, json_t *params,
		       json_t **result, json_t **error);

#endif
