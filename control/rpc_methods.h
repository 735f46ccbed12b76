/*
 * RPC methods: one file per namespace (rpc_service.c, rpc_real.c ...), each exporting a
 * NULL-terminated table that rpc_methods.c lists.
 */
#ifndef DPDK_LB_RPC_METHODS_H
#define DPDK_LB_RPC_METHODS_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "jsonrpc.h"

struct rpc_error {
	int code;
	char message[LB_ERR_LEN];
};

/* Returns the result (new reference), or NULL with err filled. */
typedef json_t *(*rpc_handler)(json_t *params, struct rpc_error *err);

/*
 * An edit applies params to the candidate configuration c (reading c, not the running one, so
 * edits of one batch see each other) and returns its result, or NULL with err set. It never
 * commits: rpc_run_edit() and config.apply do.
 */
typedef json_t *(*rpc_edit)(struct lb_config *c, json_t *params, struct rpc_error *err);

struct rpc_method {
	const char *name;
	rpc_handler handler;
};

/* A method that changes the configuration, by its edit: what config.apply may run. */
struct rpc_edit_method {
	const char *name;
	rpc_edit edit;
};

/* The edit of method name, or NULL when name is no configuration edit. */
rpc_edit rpc_edit_find(const char *name);
/* Runs one edit as a change of its own (clone, edit, validate, commit); a handler's body. */
json_t *rpc_run_edit(rpc_edit edit, json_t *params, struct rpc_error *err);

/* The method called name, or NULL. */
const struct rpc_method *rpc_method_find(const char *name);

/* Fills err and returns NULL, for `return rpc_fail(...)` in handlers. */
json_t *rpc_fail(struct rpc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Rejects keys of params not in the NULL-terminated list; NULL when fine, else rpc_fail'd. */
int rpc_check_keys(json_t *params, const char *const *allowed, struct rpc_error *err);

/*
 * Clones the running configuration into *candidate for a handler to edit; 0 or -1 (err set).
 * rpc_commit validates and publishes the edited candidate and frees it whatever happens; 0 or
 * -1 (err set).
 */
int rpc_begin_change(struct lb_config *candidate, struct rpc_error *err);
int rpc_commit(struct lb_config *candidate, struct rpc_error *err);

/* Finds the service named by a key object; index or -1 with err set (-32602 / -32001). */
int rpc_find_service(const struct lb_config *c, json_t *key, const char *path,
		     struct rpc_error *err);

extern const struct rpc_edit_method rpc_service_edits[];
extern const struct rpc_edit_method rpc_real_edits[];
extern const struct rpc_method rpc_service_methods[];
extern const struct rpc_method rpc_real_methods[];
extern const struct rpc_method rpc_stats_methods[];
extern const struct rpc_method rpc_config_methods[];
extern const struct rpc_method rpc_system_methods[];
extern const struct rpc_method rpc_health_methods[];
extern const struct rpc_method rpc_observe_methods[];
extern const struct rpc_method rpc_capture_methods[];
extern const struct rpc_method rpc_ha_methods[];

/*
 * A configuration change (an edit method, config.apply, reload, restore, factory_reset) takes
 * "force": true/false, removed from params here; on a pair's BACKUP one without force is refused (-32006). true with err
 * filled when the call must not run.
 */
bool rpc_change_refused(const char *method, json_t *params, struct rpc_error *err);
extern const struct rpc_method rpc_ha_sync_test_methods[];
extern const struct rpc_edit_method rpc_block_edits[];
extern const struct rpc_method rpc_block_methods[];
extern const struct rpc_method rpc_test_hook_methods[];

/* Whether DPDK_LB_TEST_HOOKS=1 turned the test hooks on; false with -32601 in err when not. */
bool rpc_test_hooks_on(struct rpc_error *err);
extern const struct rpc_method rpc_backup_methods[];

#endif
