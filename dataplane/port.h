/* DPDK port setup: one RX and one TX queue per worker on every port. */
#ifndef DPDK_LB_PORT_H
#define DPDK_LB_PORT_H

#include <stdint.h>

#include "config.h"

/*
 * Configures and starts every probed port for n_workers queues, then their kernel interfaces
 * (exception.h); 0, or -1 with err set.
 */
int ports_init(const struct lb_config *cfg, uint16_t n_workers, char *err, size_t errlen);

/* Stops and closes every port and kernel interface. */
void ports_close(void);

#endif
