/* The DPDK ports' counters and link state (rte_eth_stats, xstats), read by the control lcore. */
#ifndef DPDK_LB_PORT_STATS_H
#define DPDK_LB_PORT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lb_port_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_errors, tx_errors;
	uint64_t rx_missed;  /* dropped by the NIC: no free RX descriptor (imissed) */
	uint64_t rx_no_mbuf; /* RX mbuf allocation failures */
	bool link_up;
	bool full_duplex;
	uint32_t link_speed_mbps; /* 0 when unknown */
};

/* Counters and link of lb_rt.ports[index] (index < lb_rt.n_ports); 0 or -1 (err from DPDK). */
int port_stats_get(uint16_t index, struct lb_port_stats *out);

/* Sums of every port's rx/tx bytes (for the global byte rates). */
void port_stats_bytes(uint64_t *rx_bytes, uint64_t *tx_bytes);

/*
 * Calls fn(name, value, arg) for each extended statistic of lb_rt.ports[index], in the driver's
 * order; returns how many, or -1 (out of memory or error from DPDK).
 */
int port_stats_xstats(uint16_t index, void (*fn)(const char *name, uint64_t value, void *arg),
		      void *arg);

#endif
