#include "port_stats.h"

#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "lb_runtime.h"

int port_stats_get(uint16_t index, struct lb_port_stats *out)
{
	struct rte_eth_stats s;
	struct rte_eth_link link;
	uint16_t port_id;

	memset(out, 0, sizeof(*out));
	if (index >= lb_rt.n_ports)
		return -1;
	port_id = lb_rt.ports[index].port_id;
	if (rte_eth_stats_get(port_id, &s) != 0)
		return -1;
	out->rx_packets = s.ipackets;
	out->tx_packets = s.opackets;
	out->rx_bytes = s.ibytes;
	out->tx_bytes = s.obytes;
	out->rx_errors = s.ierrors;
	out->tx_errors = s.oerrors;
	out->rx_missed = s.imissed;
	out->rx_no_mbuf = s.rx_nombuf;
	/* nowait: never block the control loop on a link query */
	if (rte_eth_link_get_nowait(port_id, &link) == 0) {
		out->link_up = link.link_status == RTE_ETH_LINK_UP;
		out->full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
		out->link_speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
	}
	return 0;
}

void port_stats_bytes(uint64_t *rx_bytes, uint64_t *tx_bytes)
{
	struct rte_eth_stats s;

	*rx_bytes = *tx_bytes = 0;
	for (uint16_t i = 0; i < lb_rt.n_ports; i++) {
		if (rte_eth_stats_get(lb_rt.ports[i].port_id, &s) != 0)
			continue;
		*rx_bytes += s.ibytes;
		*tx_bytes += s.obytes;
	}
}

int port_stats_xstats(uint16_t index, void (*fn)(const char *name, uint64_t value, void *arg),
		      void *arg)
{
	uint16_t port_id;
	int n, got;
	struct rte_eth_xstat *xs = NULL;
	struct rte_eth_xstat_name *names = NULL;

	if (index >= lb_rt.n_ports)
		return -1;
	port_id = lb_rt.ports[index].port_id;
	n = rte_eth_xstats_get(port_id, NULL, 0);
	if (n <= 0)
		return n;
	xs = calloc((size_t)n, sizeof(*xs));
	names = calloc((size_t)n, sizeof(*names));
	if (xs == NULL || names == NULL)
		goto fail;
	if (rte_eth_xstats_get_names(port_id, names, (unsigned)n) != n)
		goto fail;
	got = rte_eth_xstats_get(port_id, xs, (unsigned)n);
	if (got < 0 || got > n)
		goto fail;
	for (int i = 0; i < got; i++)
		if (xs[i].id < (uint64_t)n)
			fn(names[xs[i].id].name, xs[i].value, arg);
	free(xs);
	free(names);
	return got;
fail:
	free(xs);
	free(names);
	return -1;
}
