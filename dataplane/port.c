#include "port.h"

#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "exception.h"
#include "lb_runtime.h"
#include "vlan.h"

static int port_init_one(uint16_t port_id, const struct lb_config *cfg, uint16_t n_workers,
			 char *err, size_t errlen)
{
	struct lb_port *p = &lb_rt.ports[port_id];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t rxd = (uint16_t)cfg->rx_descriptors, txd = (uint16_t)cfg->tx_descriptors;
	int rc;

	memset(&conf, 0, sizeof(conf));
	p->port_id = port_id;
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return lb_err(err, errlen, "port %u: dev_info: %s", port_id, rte_strerror(-rc));
	rte_eth_dev_get_name_by_port(port_id, p->name);
	/* Every worker transmits on every port, so each needs a TX queue of its own there. */
	if (info.max_tx_queues < n_workers)
		return lb_err(err, errlen,
			      "port %u (%s) has %u TX queues but %u workers need one each; "
			      "use at most %u worker lcores (e.g. af_packet qpairs=N for more)",
			      port_id, p->name, info.max_tx_queues, n_workers, info.max_tx_queues);
	p->n_queues = n_workers;
	if (info.max_rx_queues < n_workers)
		p->n_queues = info.max_rx_queues; /* the others poll nothing on this port */
	if (p->n_queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
	}
	/* A NIC that strips tags saves the worker moving the MAC addresses (vlan_rx) */
	for (uint32_t k = 0; k < cfg->n_vlans; k++)
		p->vlan_strip |= cfg->vlans[k].port == port_id &&
				 (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP);
	if (p->vlan_strip)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
	rc = rte_eth_dev_configure(port_id, p->n_queues, n_workers, &conf);
	if (rc != 0)
		return lb_err(err, errlen, "port %u: configure: %s", port_id, rte_strerror(-rc));
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
	if (rc != 0)
		return lb_err(err, errlen, "port %u: descriptors: %s", port_id, rte_strerror(-rc));
	int socket = rte_eth_dev_socket_id(port_id);
	for (uint16_t q = 0; q < p->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, rxd, socket, NULL, lb_rt.pool);
		if (rc != 0)
			return lb_err(err, errlen, "port %u: rx queue %u: %s", port_id, q,
				      rte_strerror(-rc));
	}
	for (uint16_t q = 0; q < n_workers; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, txd, socket, NULL);
		if (rc != 0)
			return lb_err(err, errlen, "port %u: tx queue %u: %s", port_id, q,
				      rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0)
		return lb_err(err, errlen, "port %u: start: %s", port_id, rte_strerror(-rc));
	rte_eth_macaddr_get(port_id, &p->mac);
	/* VIP ARP requests are broadcast, but traffic to the VIP MAC must be ours too. */
	rte_eth_promiscuous_enable(port_id);
	if (port_id < cfg->n_ports) {
		p->has_address = true;
		p->address = cfg->ports[port_id].address;
		p->prefix_len = cfg->ports[port_id].prefix_len;
		p->mtu = cfg->ports[port_id].mtu;
		p->has_address6 = cfg->ports[port_id].has_address6;
		p->address6 = cfg->ports[port_id].address6;
		p->prefix_len6 = cfg->ports[port_id].prefix_len6;
	} else {
		p->mtu = 1500;
	}
	return 0;
}

int ports_init(const struct lb_config *cfg, uint16_t n_workers, char *err, size_t errlen)
{
	uint16_t n = rte_eth_dev_count_avail();

	if (n == 0)
		return lb_err(err, errlen, "no DPDK port: add one with --vdev or a PCI device");
	if (n > LB_MAX_PORTS)
		return lb_err(err, errlen, "%u ports; at most %u are supported", n, LB_MAX_PORTS);
	if (cfg->n_ports > n)
		return lb_err(err, errlen, "ports: %u entries but only %u DPDK ports", cfg->n_ports, n);
	lb_rt.n_ports = n;
	lb_rt.n_links = n;
	for (uint16_t p = 0; p < n; p++)
		if (port_init_one(p, cfg, n_workers, err, errlen) != 0)
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
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
}
