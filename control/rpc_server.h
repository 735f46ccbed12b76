/* JSON-RPC 2.0 over a Unix stream socket: one request or batch per line, several clients, capped
 * lines, idle timeouts; served from the control event loop. */
#ifndef DPDK_LB_RPC_SERVER_H
#define DPDK_LB_RPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct rpc_server;

/*
 * Creates the socket at path (its directory too, mode 0660) and serves it from loop; NULL with
 * err set. Connections quiet for idle_timeout_s are closed; when max_clients are open, the
 * quietest gives way to a newcomer.
 */
struct rpc_server *rpc_server_open(struct ev_loop *loop, const char *path, uint32_t max_clients,
				   uint32_t max_request, uint32_t idle_timeout_s, char *err,
				   size_t errlen);

/* Closes every connection, leaves the loop and removes the socket file (NULL-safe). */
void rpc_server_close(struct rpc_server *s);

#endif
