/* The validator's health-check and agent rules (called by lb_config_validate for a service). */
#ifndef DPDK_LB_CONFIG_VALIDATE_HEALTH_H
#define DPDK_LB_CONFIG_VALIDATE_HEALTH_H

#include <stddef.h>

#include "config.h"
#include "config_validate.h"

/* The check of every real of svc (with its override) and the agent; LB_VALID or LB_INVALID. */
int lb_validate_service_health(const struct lb_service_cfg *svc, const char *path, char *err,
			       size_t errlen);

#endif
