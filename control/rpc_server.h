/* JSON-RPC 2.0 over a Unix stream socket: one object per line, several clients, capped lines. */
#ifndef DPDK_LB_RPC_SERVER_H
#define DPDK_LB_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct rpc_server;

/*
 * Creates the socket at path (its directory too, mode 0660); NULL with err set. Connections
 * quiet for idle_timeout_s are closed; when max_clients are open, the quietest gives way.
 */
struct rpc_server *rpc_server_open(const char *path, uint32_t max_clients, uint32_t max_request,
				   uint32_t idle_timeout_s, char *err, size_t errlen);

/* Serves whatever is ready, waiting at most timeout_ms. */
void rpc_server_poll(struct rpc_server *s, int timeout_ms);

/* Closes every connection and removes the socket file (NULL-safe). */
void rpc_server_close(struct rpc_server *s);

#endif
