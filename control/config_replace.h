/*
 * Replacing the running configuration with a whole document: `systemctl reload` (SIGHUP),
 * restoring a backup, the failover pair's configuration replication. What can change at run
 * time (the services and their reals, the blocklist) is taken from the document; those that stay
 * keep their ids, so their connections, templates and counters carry on as after any RPC edit.
 */
#ifndef DPDK_LB_CONFIG_REPLACE_H
#define DPDK_LB_CONFIG_REPLACE_H

#include <stddef.h>

#include "config.h"

/* Sections other than `services` and `blocklist` may differ (a peer's document: its own ports and sizes). */
#define CONFIG_REPLACE_SERVICES_ONLY 0x1
/* Re-apply the operator's drains and offlines (health.state_file) over the document. */
#define CONFIG_REPLACE_ADMIN_STATE 0x2

/*
 * Makes doc's services the running ones through the one validator and publication path. Without
 * CONFIG_REPLACE_SERVICES_ONLY a document whose other sections differ from the running ones is
 * refused, naming them (they take a restart). 0, or a JSON-RPC error code with err set and
 * nothing changed. doc's services are taken over (doc is left without services) on success.
 */
int config_replace(struct lb_config *doc, unsigned int flags, char *err, size_t errlen);

/*
 * The top-level sections, other than those that change at run time (services, blocklist), in
 * which a and b differ: a JSON array of their names (empty when none), or NULL out of memory.
 */
json_t *config_restart_sections(const struct lb_config *a, const struct lb_config *b);

/*
 * Loads the configuration file at path and makes it the running configuration as
 * config_replace() does (the operator's admin states re-applied); 0, or a JSON-RPC error code
 * with err set (a file that does not load or validate changes nothing).
 */
int config_reload_file(const char *path, char *err, size_t errlen);

#endif
