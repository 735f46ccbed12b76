/*
 * Roles on the management socket, as the LVS appliance's three user groups: which Unix users and
 * groups (from the client's SO_PEERCRED) may call which RPC methods. Pure: the daemon resolves
 * the names, this decides.
 */
#ifndef DPDK_LB_RPC_ROLES_H
#define DPDK_LB_RPC_ROLES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ordered: each role may do everything the ones below it may. */
enum lb_role {
	LB_ROLE_NONE = 0,    /* refused everything */
	LB_ROLE_REPORTS,     /* reads only */
	LB_ROLE_MAINTENANCE, /* reads, and drain / offline / online / weight of existing reals */
	LB_ROLE_CONFIG,      /* everything */
};

#define LB_ROLES_MAX 64
#define LB_ROLE_NAME_LEN 33 /* user and group names: 1-32 bytes */

struct lb_role_entry {
	char name[LB_ROLE_NAME_LEN];
	bool group;
	uint8_t role; /* enum lb_role, never NONE */
};

/* rpc.roles: absent (n == 0) means the default, root is config and everyone else refused. */
struct lb_roles {
	uint32_t n;
	struct lb_role_entry entries[LB_ROLES_MAX];
};

/* Parses rpc.roles ({"users": {NAME: ROLE}, "groups": {NAME: ROLE}}) into r; 0 or -1 with err. */
int lb_roles_from_json(const json_t *v, struct lb_roles *r, char *err, size_t errlen);

/* rpc.roles as the config file writes it (new reference). */
json_t *lb_roles_to_json(const struct lb_roles *r);

/* "config", "maintenance", "reports" or "none". */
const char *lb_role_name(enum lb_role role);

/*
 * The role of a client: uid 0 is always config; else its user's entry; else the highest role
 * among its groups' entries; else none.
 */
enum lb_role lb_roles_resolve(const struct lb_roles *r, uint32_t uid, const char *user,
			      const char *const *groups, size_t n_groups);

/* The least role allowed to call method with params (params may be NULL). */
enum lb_role lb_role_required(const char *method, const json_t *params);

/*
 * Writes the key of the object a change call names into buf ("tcp 10.0.0.1:80", "tcp
 * 10.0.0.1:80 real 10.0.0.2:80", "backup NAME", each edit's for config.apply); "-" when none.
 */
void lb_rpc_object_key(const char *method, const json_t *params, char *buf, size_t len);

#endif
