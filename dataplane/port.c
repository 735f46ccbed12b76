#include "port.h"

#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "bond.h"
#include "exception.h"
#include "lb_runtime.h"
#include "vlan.h"

static int port_init_one(uint16_t index, uint16_t port_id, const struct lb_config *cfg,
			 uint16_t n_workers, char *err, size_t errlen)
{
	struct lb_port *p = &lb_rt.ports[index];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t rxd = (uint16_t)cfg->rx_descriptors, txd = (uint16_t)cfg->tx_descriptors;
	int rc;

	memset(&conf, 0, sizeof(conf));
	p->port_id = port_id;
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return lb_err(err, errlen, "port %u: dev_info: %s", index, rte_strerror(-rc));
	rte_eth_dev_get_name_by_port(port_id, p->name);
	/* Every worker transmits on every port, so each needs a TX queue of its own there. */
	if (info.max_tx_queues < n_workers)
		return lb_err(err, errlen,
			      "port %u (%s) has %u TX queues but %u workers need one each; "
			      "use at most %u worker lcores (e.g. af_packet qpairs=N for more)",
			      index, p->name, info.max_tx_queues, n_workers, info.max_tx_queues);
	p->n_queues = n_workers;
	if (info.max_rx_queues < n_workers)
		p->n_queues = info.max_rx_queues; /* the others poll nothing on this port */
	if (p->n_queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
	}
	/* A bond hands this on to its members: without it, they never report a link change. */
	if (index < cfg->n_ports && cfg->ports[index].bond.enabled &&
	    (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) != 0)
		conf.intr_conf.lsc = 1;
	/* A NIC that strips tags saves the worker moving the MAC addresses (vlan_rx) */
	for (uint32_t k = 0; k < cfg->n_vlans; k++)
		p->vlan_strip |= cfg->vlans[k].port == index &&
				 (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP);
	if (p->vlan_strip)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
	rc = rte_eth_dev_configure(port_id, p->n_queues, n_workers, &conf);
	if (rc != 0)
		return lb_err(err, errlen, "port %u (%s): configure: %s", index, p->name,
			      rte_strerror(-rc));
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
	if (rc != 0)
		return lb_err(err, errlen, "port %u: descriptors: %s", index, rte_strerror(-rc));
	int socket = rte_eth_dev_socket_id(port_id);
	for (uint16_t q = 0; q < p->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, rxd, socket, NULL, lb_rt.pool);
		if (rc != 0)
			return lb_err(err, errlen, "port %u: rx queue %u: %s", index, q,
				      rte_strerror(-rc));
	}
	for (uint16_t q = 0; q < n_workers; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, txd, socket, NULL);
		if (rc != 0)
			return lb_err(err, errlen, "port %u: tx queue %u: %s", index, q,
				      rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0)
		return lb_err(err, errlen, "port %u (%s): start: %s", index, p->name,
			      rte_strerror(-rc));
	rte_eth_macaddr_get(port_id, &p->mac);
	/* VIP ARP requests are broadcast, but traffic to the VIP MAC must be ours too. */
	rte_eth_promiscuous_enable(port_id);
	if (index < cfg->n_ports) {
		const struct lb_port_cfg *pc = &cfg->ports[index];
		p->has_address = true;
		p->address = pc->address;
		p->prefix_len = pc->prefix_len;
		p->mtu = pc->mtu;
		p->has_address6 = pc->has_address6;
		p->address6 = pc->address6;
		p->prefix_len6 = pc->prefix_len6;
		p->tx_poll = pc->bond.enabled && pc->bond.mode == LB_BOND_8023AD;
	} else {
		p->mtu = 1500;
	}
	return 0;
}

/*
 * The dataplane's ports in index order: entry i of `ports` is a bond when it has one, else the
 * next DPDK port (in port-id order) that is no bond member; ports without an entry follow.
 */
static int ports_plan(const struct lb_config *cfg, uint16_t *ids, uint16_t *n, char *err,
		      size_t errlen)
{
	bool claimed[RTE_MAX_ETHPORTS] = {false};
	uint16_t plain[RTE_MAX_ETHPORTS], n_plain = 0, next = 0, pid;

	RTE_ETH_FOREACH_DEV(pid)
		plain[n_plain++] = pid; /* before the bond members the daemon probes itself */
	if (bond_claim_members(cfg, claimed, err, errlen) != 0)
		return -1;
	*n = 0;
	for (uint16_t i = 0;; i++) {
		while (next < n_plain && claimed[plain[next]])
			next++;
		if (i >= cfg->n_ports && next == n_plain)
			break;
		if (i == LB_MAX_PORTS)
			return lb_err(err, errlen, "more than %u ports; at most %u are supported",
				      LB_MAX_PORTS, LB_MAX_PORTS);
		if (i < cfg->n_ports && cfg->ports[i].bond.enabled) {
			if (bond_create(cfg, i, &ids[i], err, errlen) != 0)
				return -1;
		} else if (next < n_plain) {
			ids[i] = plain[next++];
		} else {
			return lb_err(err, errlen, "ports[%u]: no DPDK port left for it (the others "
				      "are taken by the entries before it or by bonds)", i);
		}
		*n = (uint16_t)(i + 1);
	}
	if (*n == 0)
		return lb_err(err, errlen, "no DPDK port: add one with --vdev or a PCI device");
	return 0;
}

int ports_init(const struct lb_config *cfg, uint16_t n_workers, char *err, size_t errlen)
{
	uint16_t ids[LB_MAX_PORTS], n;

	if (ports_plan(cfg, ids, &n, err, errlen) != 0)
		return -1;
	lb_rt.n_ports = n;
	lb_rt.n_links = n;
	for (uint16_t p = 0; p < n; p++)
		if (port_init_one(p, ids[p], cfg, n_workers, err, errlen) != 0)
			return -1;
	if (vlan_links_init(cfg, err, errlen) != 0)
		return -1;
	/* after the DPDK ports, so the taps' ethdev ids come after theirs */
	return exception_init(cfg, err, errlen);
}

void ports_close(void)
{
	exception_close();
	for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
		rte_eth_dev_stop(lb_rt.ports[p].port_id);
		rte_eth_dev_close(lb_rt.ports[p].port_id);
	}
	bond_close_members();
}
