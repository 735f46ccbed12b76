/*
 * The operator's wishes set by real.drain / real.offline / real.online survive a restart: the
 * reals that are not online are written to a small JSON file (health.state_file, by default
 * the config file's path + ".state") after each change, atomically, and applied over the
 * configuration file when the daemon starts.
 */
#ifndef DPDK_LB_ADMIN_STATE_FILE_H
#define DPDK_LB_ADMIN_STATE_FILE_H

#include "config.h"

/* Chooses the file: configured, else config_path + ".state", else none (config_path NULL). */
void admin_state_file_init(const struct lb_config *c, const char *config_path);

/* The file in use ("" = none). */
const char *admin_state_file_path(void);

/*
 * Sets the admin state of the reals of c the file names; the number set, or -1 with err when
 * the file exists but cannot be read or parsed (c unchanged then).
 */
int admin_state_file_apply(struct lb_config *c, char *err, size_t errlen);

/* Writes the reals of c that are not online; logs a failure (the change itself stands). */
void admin_state_file_write(const struct lb_config *c);

#endif
