/* Who is on the other end of an RPC connection (SO_PEERCRED), and the role that gives them. */
#ifndef DPDK_LB_RPC_PEER_H
#define DPDK_LB_RPC_PEER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "rpc_methods.h"
#include "rpc_roles.h"

#define RPC_PEER_MAX_GROUPS 32

struct rpc_peer {
	uint32_t uid, gid;
	char user[LB_ROLE_NAME_LEN];		/* "" when the uid has no passwd entry */
	char groups[RPC_PEER_MAX_GROUPS][LB_ROLE_NAME_LEN];
	uint32_t n_groups;
	bool names_resolved; /* user and groups were looked up (or need none: root) */
};

/* Reads the credentials of the peer of a Unix socket (names are looked up on first need, when
 * rpc.roles has entries); 0, or -1 when the kernel gives none (the peer then has no role). */
int rpc_peer_identify(int fd, struct rpc_peer *p);

/*
 * 0 when p's role (rpc.roles of the running configuration) may call method with params; else
 * -1 with err set to LB_RPC_DENIED and a message naming the role and the method.
 */
int rpc_peer_authorize(struct rpc_peer *p, const char *method, const json_t *params,
		       struct rpc_error *err);

/* Logs a change call that succeeded with who made it: uid, user name, method, object key. */
void rpc_peer_log_change(const struct rpc_peer *p, const char *method, const json_t *params);

#endif
