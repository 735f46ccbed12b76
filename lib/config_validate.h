/*
 * The one configuration validator. Every candidate configuration passes lb_config_validate()
 * before it is committed, whatever its source (config file at start, RPC edits, batches, a
 * peer's replicated configuration): a rule that keeps the dataplane safe lives here and nowhere
 * else. Parsers only check the form of each value (type, syntax, its own range); every rule that
 * relates values to each other or to the appliance (methods, families, on-link reals,
 * capacities, duplicates, port rules) is here.
 */
#ifndef DPDK_LB_CONFIG_VALIDATE_H
#define DPDK_LB_CONFIG_VALIDATE_H

#include <stddef.h>

#include "config.h"

enum lb_validate_result {
	LB_VALID = 0,
	LB_INVALID = -1,       /* a rule is broken: err names the key path and the rule */
	LB_OVER_CAPACITY = -2, /* more services or reals than the dataplane was sized for */
};

/*
 * Checks configuration c; LB_VALID, or another result with err set. With c->incremental, the
 * services not marked `changed` are taken as valid (they were, in the running configuration)
 * and only the changed ones and the global rules are checked: a one-weight change costs one
 * service, not the configuration.
 */
int lb_config_validate(const struct lb_config *c, char *err, size_t errlen);

#endif
