/*
 * Exception path: a kernel interface (net_tap) per DPDK port carrying the port's own
 * addresses. Workers hand it what the appliance neither forwards nor answers itself; the
 * control lcore writes those frames to the interface and sends what the kernel transmits out
 * through the port (via worker 0). Both directions are rate-limited by token buckets.
 */
#ifndef DPDK_LB_EXCEPTION_H
#define DPDK_LB_EXCEPTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "config.h"
#include "counters.h"
#include "inet_addr.h"
#include "lb_runtime.h"

/*
 * Creates the kernel interfaces of the configured ports (ports[].kernel_interface), gives them
 * the port's MAC, addresses and MTU, sets them up, and the workers' rings and buckets. Runs
 * after the ports are started and the workers exist; 0, or -1 with err set.
 */
int exception_init(const struct lb_config *cfg, char *err, size_t errlen);

/* Stops and closes the kernel interfaces (the kernel removes them). */
void exception_close(void);

/* True when a is the receiving port's own address (ports[].address or address6). */
static inline bool exception_is_port_address(uint16_t port, const struct lb_addr *a)
{
	const struct lb_port *p = &lb_rt.ports[port];

	return (p->has_address && lb_addr_equal(&p->address, a)) ||
	       (p->has_address6 && lb_addr_equal(&p->address6, a));
}

/*
 * Worker: hands m (received on m->port) to that port's kernel interface within the worker's
 * share of exception.rx_pps, counting exception_rx or exception_dropped. Without a kernel
 * interface m is dropped as `none`. Consumes m.
 */
void exception_to_kernel(struct lb_worker *w, struct rte_mbuf *m, uint64_t now,
			 enum lb_drop_reason none);

/*
 * Control lcore: a neighbour frame (ARP, neighbour advertisement) the neighbour table has
 * learned from. One addressed to the port's own address also goes to the kernel, which
 * resolves its own peers with it; anything else is freed. Consumes m.
 */
void exception_neighbour_frame(struct rte_mbuf *m, uint64_t now);

/*
 * Control lcore: drains up to 32 neighbour frames per worker from their rings; the neighbour
 * table learns from each, then exception_neighbour_frame() takes it.
 */
void exception_neighbour_poll(uint64_t now);

/*
 * Control lcore, once per loop turn: writes the workers' frames to the kernel interfaces and
 * queues what the kernel sent (within exception.tx_pps) on worker 0 for its port.
 */
void exception_poll(uint64_t now);

#endif
