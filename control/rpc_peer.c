/* Peer credentials of RPC connections, their roles, and the log of who changed what. */
#include "rpc_peer.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "config_store.h"
#include "dataplane.h"

int rpc_peer_identify(int fd, struct rpc_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(p, 0, sizeof(*p));
	p->uid = p->gid = UINT32_MAX;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	p->uid = cred.uid;
	p->gid = cred.gid;
	/* root is config whatever rpc.roles says: no name service lookup for the operator */
	if (p->uid == 0) {
		snprintf(p->user, sizeof(p->user), "root");
		p->names_resolved = true;
	}
	return 0;
}

/* Looks p's user and group names up in the name service (passwd, group). */
static void resolve_names(struct rpc_peer *p)
{
	struct passwd pw, *pwr = NULL;
	char buf[4096];
	gid_t gids[RPC_PEER_MAX_GROUPS];
	int n = RPC_PEER_MAX_GROUPS;

	p->names_resolved = true;
	if (getpwuid_r(p->uid, &pw, buf, sizeof(buf), &pwr) != 0 || pwr == NULL)
		return;
	snprintf(p->user, sizeof(p->user), "%s", pw.pw_name);
	/* getgrouplist fills what fits and returns -1 when there were more: those are left out. */
	if (getgrouplist(pw.pw_name, p->gid, gids, &n) < 0)
		n = RPC_PEER_MAX_GROUPS;
	for (int i = 0; i < n && p->n_groups < RPC_PEER_MAX_GROUPS; i++) {
		struct group gr, *grr = NULL;
		if (getgrgid_r(gids[i], &gr, buf, sizeof(buf), &grr) == 0 && grr != NULL)
			snprintf(p->groups[p->n_groups++], LB_ROLE_NAME_LEN, "%s", gr.gr_name);
	}
}

/*
 * The name service may be remote and slow (LDAP, sssd) and runs on the control loop: names are
 * looked up only when rpc.roles has entries to match them against, and kept per uid and gid
 * for a minute, so that a client reconnecting in a loop costs one lookup a minute.
 */
#define NAME_CACHE_SLOTS 16
#define NAME_CACHE_TTL_MS 60000

static struct {
	struct rpc_peer peer;
	uint64_t expires_ms;
} name_cache[NAME_CACHE_SLOTS];

static void peer_names(struct rpc_peer *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	uint32_t slot = (p->uid * 2654435761u) % NAME_CACHE_SLOTS;

	if (p->names_resolved)
		return;
	if (name_cache[slot].expires_ms > now && name_cache[slot].peer.uid == p->uid &&
	    name_cache[slot].peer.gid == p->gid) {
		*p = name_cache[slot].peer;
		return;
	}
	resolve_names(p);
	name_cache[slot].peer = *p;
	name_cache[slot].expires_ms = now + NAME_CACHE_TTL_MS;
}

static enum lb_role peer_role(struct rpc_peer *p)
{
	const char *groups[RPC_PEER_MAX_GROUPS];

	if (config_store_running()->rpc_roles.n > 0)
		peer_names(p);

	for (uint32_t i = 0; i < p->n_groups; i++)
		groups[i] = p->groups[i];
	return lb_roles_resolve(&config_store_running()->rpc_roles, p->uid,
				p->user[0] ? p->user : NULL, groups, p->n_groups);
}

int rpc_peer_authorize(struct rpc_peer *p, const char *method, const json_t *params,
		       struct rpc_error *err)
{
	enum lb_role need = lb_role_required(method, params), have = peer_role(p);
	const char *user = p->user[0] ? p->user : "?";

	if (have >= need)
		return 0;
	if (have == LB_ROLE_NONE)
		rpc_fail(err, LB_RPC_DENIED,
			 "permission denied: user %s (uid %u) has role none (not in rpc.roles) and "
			 "may not call %s",
			 user, p->uid, method);
	else
		rpc_fail(err, LB_RPC_DENIED,
			 "permission denied: role %s (user %s, uid %u) may not call %s; it needs "
			 "role %s",
			 lb_role_name(have), user, p->uid, method, lb_role_name(need));
	LB_LOG(WARNING, "rpc: %s", err->message);
	return -1;
}

void rpc_peer_log_change(const struct rpc_peer *p, const char *method, const json_t *params)
{
	char key[512];

	if (lb_role_required(method, params) == LB_ROLE_REPORTS)
		return;
	lb_rpc_object_key(method, params, key, sizeof(key));
	LB_LOG(NOTICE, "rpc change: uid %u user %s: %s %s", p->uid, p->user[0] ? p->user : "?",
	       method, key);
}
