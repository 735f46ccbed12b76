#include "vlan.h"

#include <stdio.h>
#include <string.h>

#include "lb_log.h"
#include "worker_tx.h"

const struct lb_port_cfg *vlan_link_cfg(const struct lb_config *cfg, uint16_t link)
{
	if (link >= lb_rt.n_ports)
		return &cfg->vlans[link - lb_rt.n_ports].link;
	return link < cfg->n_ports ? &cfg->ports[link] : NULL;
}

int vlan_links_init(const struct lb_config *cfg, char *err, size_t errlen)
{
	memset(lb_rt.vlan_link, 0, sizeof(lb_rt.vlan_link));
	for (uint16_t p = 0; p < lb_rt.n_ports; p++)
		lb_rt.ports[p].phys = p;
	lb_rt.n_links = lb_rt.n_ports;
	for (uint32_t k = 0; k < cfg->n_vlans; k++) {
		const struct lb_vlan_cfg *vc = &cfg->vlans[k];
		uint16_t link = lb_rt.n_links;
		if (vc->port >= lb_rt.n_ports || link >= LB_MAX_LINKS)
			return lb_err(err, errlen, "ports[%u].vlans: no such DPDK port", vc->port);
		struct lb_port *phys = &lb_rt.ports[vc->port], *l = &lb_rt.ports[link];
		memset(l, 0, sizeof(*l));
		l->port_id = phys->port_id;
		l->n_queues = 0; /* polled through its physical port */
		l->mac = phys->mac;
		l->has_address = true;
		l->address = vc->link.address;
		l->prefix_len = vc->link.prefix_len;
		l->has_address6 = vc->link.has_address6;
		l->address6 = vc->link.address6;
		l->prefix_len6 = vc->link.prefix_len6;
		l->mtu = vc->link.mtu;
		l->phys = vc->port;
		l->vlan_id = vc->id;
		char name[sizeof(l->name)];
		snprintf(name, sizeof(name), "%.48s.%u", phys->name, vc->id);
		memcpy(l->name, name, sizeof(name));
		phys->has_vlans = true;
		lb_rt.vlan_link[vc->port][vc->id] = (uint8_t)link;
		lb_rt.n_links++;
		LB_LOG(NOTICE, "port %u: VLAN %u is link %u", vc->port, vc->id, link);
	}
	return 0;
}

uint16_t vlan_rx(struct lb_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	const uint8_t *map = lb_rt.vlan_link[port];
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) &&
		    (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + 4 || rte_vlan_strip(m) != 0)) {
			pkts[kept++] = m; /* untagged: the port's own link */
			continue;
		}
		uint16_t vid = m->vlan_tci & 0xfff;
		m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
		if (vid != 0) { /* VLAN 0 is a priority tag: the frame is the port's own */
			uint8_t link = map[vid];
			if (link == 0) {
				drop(w, m, LB_DROP_UNKNOWN_VLAN);
				continue;
			}
			m->port = link;
		}
		pkts[kept++] = m;
	}
	return kept;
}
