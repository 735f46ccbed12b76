/*
 * Bonded ports (bond.h). The bond is an ethdev the bonding PMD creates at run time; the members
 * are configured and started by the PMD when the bond is, never by ports_init. The PMD polls
 * the link of members without link-state interrupts and trusts the others' interrupts; net_tap
 * claims them but never raises one, so bond_watch() also reads every member's link and makes
 * the member that should carry an active-backup bond its current one. The PMD moves the bond's
 * MAC to the member that takes over.
 */
#include "bond.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_eth_bond.h>
#include <rte_eth_bond_8023ad.h>
#include <rte_ethdev.h>

#include "lb_log.h"
#include "lb_runtime.h"

/* Per lb port index: its bond's members, resolved by bond_claim_members. */
static struct {
	bool used;
	uint8_t n_members;
	uint16_t members[LB_BOND_MAX_MEMBERS];
	uint8_t mode;
	uint8_t primary;
} bonds[LB_MAX_PORTS];

static int member_resolve(const char *member, uint16_t index, uint8_t i, uint16_t *id, char *err,
			  size_t errlen)
{
	char dev[LB_BOND_MEMBER_LEN];

	lb_bond_member_device(member, dev, sizeof(dev));
	if (rte_eth_dev_get_port_by_name(dev, id) == 0) {
		if (strchr(member, ',') != NULL)
			return lb_err(err, errlen, "ports[%u].bond.members[%u]: \"%s\" exists already "
				      "(the EAL probed it): name it without arguments, or leave it out of "
				      "the EAL arguments", index, i, dev);
		return 0;
	}
	int rc = rte_dev_probe(member);
	if (rc != 0 || rte_eth_dev_get_port_by_name(dev, id) != 0)
		return lb_err(err, errlen, "ports[%u].bond.members[%u]: no DPDK port \"%s\"%s%s", index,
			      i, dev, strchr(member, ',') ? ", and probing it failed: " : "",
			      strchr(member, ',') ? rte_strerror(rc ? -rc : ENODEV) : "");
	return 0;
}

int bond_claim_members(const struct lb_config *cfg, bool *claimed, char *err, size_t errlen)
{
	for (uint16_t p = 0; p < cfg->n_ports && p < LB_MAX_PORTS; p++) {
		const struct lb_bond_cfg *b = &cfg->ports[p].bond;
		bonds[p].used = false;
		if (!b->enabled)
			continue;
		for (uint8_t i = 0; i < b->n_members; i++) {
			uint16_t id;
			if (member_resolve(b->members[i], p, i, &id, err, errlen) != 0)
				return -1;
			if (claimed[id])
				return lb_err(err, errlen, "ports[%u].bond.members[%u]: port %u is in "
					      "another bond already", p, i, id);
			claimed[id] = true;
			bonds[p].members[i] = id;
		}
		bonds[p].n_members = b->n_members;
		bonds[p].mode = b->mode;
		bonds[p].primary = b->primary;
		bonds[p].used = true;
	}
	return 0;
}

int bond_create(const struct lb_config *cfg, uint16_t index, uint16_t *port_id, char *err,
		size_t errlen)
{
	const struct lb_bond_cfg *b = &cfg->ports[index].bond;
	char name[32];
	int id, rc;

	if (!bonds[index].used)
		return lb_err(err, errlen, "ports[%u].bond: members not resolved", index);
	snprintf(name, sizeof(name), "net_bonding_dlb%u", index);
	id = rte_eth_bond_create(name, b->mode, (uint8_t)rte_socket_id());
	if (id < 0)
		return lb_err(err, errlen, "ports[%u].bond: cannot create %s (%s)", index, name,
			      rte_strerror(-id));
	for (uint8_t i = 0; i < bonds[index].n_members; i++) {
		uint16_t m = bonds[index].members[i];
		struct rte_ether_addr mac;
		/* The PMD moves the bond's MAC onto its members: refuse one that cannot take it
		 * (net_pcap, net_ring) here, not with a bare EPERM when the bond starts. */
		if (rte_eth_macaddr_get(m, &mac) != 0 ||
		    rte_eth_dev_default_mac_addr_set(m, &mac) == -ENOTSUP)
			return lb_err(err, errlen, "ports[%u].bond.members[%u]: \"%s\" cannot change "
				      "its MAC address, which a bond member must", index, i,
				      b->members[i]);
		if (rte_eth_bond_slave_add((uint16_t)id, m) != 0)
			return lb_err(err, errlen, "ports[%u].bond.members[%u]: the bonding PMD "
				      "refused \"%s\" (see its log above)", index, i, b->members[i]);
	}
	if (b->mode == LB_BOND_ACTIVE_BACKUP)
		rc = rte_eth_bond_primary_set((uint16_t)id, bonds[index].members[b->primary]);
	else
		rc = rte_eth_bond_xmit_policy_set((uint16_t)id, b->xmit_policy);
	if (rc != 0)
		return lb_err(err, errlen, "ports[%u].bond: cannot set its %s", index,
			      b->mode == LB_BOND_ACTIVE_BACKUP ? "primary" : "xmit_policy");
	LB_LOG(NOTICE, "port %u: bond %s (%s) of %u members", index, name,
	       lb_bond_mode_name(b->mode), bonds[index].n_members);
	*port_id = (uint16_t)id;
	return 0;
}

void bond_close_members(void)
{
	for (uint16_t p = 0; p < LB_MAX_PORTS; p++) {
		if (!bonds[p].used)
			continue;
		for (uint8_t i = 0; i < bonds[p].n_members; i++) {
			rte_eth_dev_stop(bonds[p].members[i]);
			rte_eth_dev_close(bonds[p].members[i]);
		}
		bonds[p].used = false;
	}
}

/* Active-backup: the member that should send, by index: the primary when its link is up, else
 * the first member whose link is; -1 when none is up. */
static int wanted_member(uint16_t p)
{
	int first_up = -1;

	for (uint8_t i = 0; i < bonds[p].n_members; i++) {
		struct rte_eth_link link;
		if (rte_eth_link_get_nowait(bonds[p].members[i], &link) != 0 ||
		    link.link_status != RTE_ETH_LINK_UP)
			continue;
		if (i == bonds[p].primary)
			return i;
		if (first_up < 0)
			first_up = i;
	}
	return first_up;
}

int bond_watch(void)
{
	int changed = 0;

	for (uint16_t p = 0; p < lb_rt.n_ports && p < LB_MAX_PORTS; p++) {
		if (!bonds[p].used || bonds[p].mode != LB_BOND_ACTIVE_BACKUP)
			continue;
		uint16_t bond = lb_rt.ports[p].port_id;
		int want = wanted_member(p);
		if (want < 0 || rte_eth_bond_primary_get(bond) == bonds[p].members[want])
			continue;
		char name[RTE_ETH_NAME_MAX_LEN];
		rte_eth_dev_get_name_by_port(bonds[p].members[want], name);
		if (rte_eth_bond_primary_set(bond, bonds[p].members[want]) != 0)
			continue;
		LB_LOG(NOTICE, "port %u: bond member %s is the active one now (%s)", p, name,
		       want == bonds[p].primary ? "the primary" : "the primary's link is down");
		changed++;
	}
	return changed;
}

static bool in_list(const uint16_t *ids, int n, uint16_t id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void member_lacp(uint16_t bond, uint16_t id, struct lb_bond_member_status *m)
{
	struct rte_eth_bond_8023ad_slave_info info;

	if (rte_eth_bond_8023ad_slave_info(bond, id, &info) != 0)
		return;
	m->lacp = true;
	m->lacp_selected = (uint8_t)info.selected;
	m->actor_state = info.actor_state;
	m->partner_state = info.partner_state;
	memcpy(m->partner_system, info.partner.system.addr_bytes, 6);
	m->active = m->link_up && (info.actor_state & STATE_DISTRIBUTING) != 0;
}

int bond_status_get(uint16_t index, struct lb_bond_status *out)
{
	uint16_t active[RTE_MAX_ETHPORTS];
	uint16_t bond;
	int n_active, current;

	memset(out, 0, sizeof(*out));
	if (index >= lb_rt.n_ports || index >= LB_MAX_PORTS || !bonds[index].used)
		return -1;
	bond = lb_rt.ports[index].port_id;
	n_active = rte_eth_bond_active_slaves_get(bond, active, RTE_MAX_ETHPORTS);
	current = rte_eth_bond_primary_get(bond); /* active-backup: the member sending now */
	out->mode = bonds[index].mode;
	out->n_members = bonds[index].n_members;
	for (uint8_t i = 0; i < bonds[index].n_members; i++) {
		struct lb_bond_member_status *m = &out->members[i];
		uint16_t id = bonds[index].members[i];
		struct rte_eth_link link;
		rte_eth_dev_get_name_by_port(id, m->name);
		/* nowait: never block the control loop on a link query */
		if (rte_eth_link_get_nowait(id, &link) == 0)
			m->link_up = link.link_status == RTE_ETH_LINK_UP;
		m->primary = out->mode == LB_BOND_ACTIVE_BACKUP && i == bonds[index].primary;
		if (out->mode == LB_BOND_8023AD)
			member_lacp(bond, id, m);
		else
			m->active = m->link_up && in_list(active, n_active, id) && current == id;
	}
	return 0;
}
