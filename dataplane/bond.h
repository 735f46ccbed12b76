/*
 * Bonded ports (ports[].bond): DPDK's bonding PMD (net_bonding) over member devices that the
 * rest of the daemon never sees as ports of their own. Control lcore only.
 */
#ifndef DPDK_LB_BOND_H
#define DPDK_LB_BOND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * Finds (by device name) or probes (devargs) every member of every bond in cfg and marks its
 * ethdev id in claimed[RTE_MAX_ETHPORTS]; 0, or -1 with err naming the member.
 */
int bond_claim_members(const struct lb_config *cfg, bool *claimed, char *err, size_t errlen);

/*
 * Creates the bond of cfg->ports[index] over its (claimed) members, with its mode, primary and
 * transmit policy, and gives its ethdev id; 0, or -1 with err. The caller configures and starts
 * it like any port.
 */
int bond_create(const struct lb_config *cfg, uint16_t index, uint16_t *port_id, char *err,
		size_t errlen);

/*
 * Active-backup bonds: makes the primary the sending member when its link is up, else the first
 * member whose link is up (what the PMD does itself for members whose link interrupts work).
 * Called by the control lcore every few milliseconds; logs each change and returns how many.
 */
int bond_watch(void);

/* Closes the members of every bond (after the bonds themselves were closed). */
void bond_close_members(void);

struct lb_bond_member_status {
	char name[64];  /* its ethdev name */
	bool link_up;
	bool active;    /* carries traffic now: active-backup's current member, 802.3ad distributing */
	bool primary;   /* the configured primary (active-backup) */
	bool lacp;      /* 802.3ad: the fields below are set */
	uint8_t lacp_selected; /* enum rte_bond_8023ad_selection: 0 unselected, 1 standby, 2 selected */
	uint8_t actor_state, partner_state; /* LACP state bits (STATE_*) */
	uint8_t partner_system[6];
};

struct lb_bond_status {
	uint8_t mode; /* enum lb_bond_mode */
	uint8_t n_members;
	struct lb_bond_member_status members[LB_BOND_MAX_MEMBERS];
};

/* The bond state of lb_rt.ports[index]; 0, or -1 when that port is no bond. */
int bond_status_get(uint16_t index, struct lb_bond_status *out);

#endif
