/*
 * ports[].bond: a port made of several NICs by DPDK's bonding PMD (net_bonding). The parser and
 * the validator's rules live here; dataplane/bond.c builds the bond from them.
 */
#ifndef DPDK_LB_CONFIG_BOND_H
#define DPDK_LB_CONFIG_BOND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_BOND_MAX_MEMBERS 8
#define LB_BOND_MEMBER_LEN 256 /* a device name or devargs and its NUL */

/* The Linux bonding driver's mode names; the values are DPDK's BONDING_MODE_* numbers. */
enum lb_bond_mode {
	LB_BOND_ACTIVE_BACKUP = 1,
	LB_BOND_8023AD = 4,
};

/* Linux's xmit_hash_policy names; the values are DPDK's BALANCING_XMIT_POLICY_* numbers. */
enum lb_bond_xmit_policy {
	LB_BOND_XMIT_LAYER2 = 0,
	LB_BOND_XMIT_LAYER23 = 1,
	LB_BOND_XMIT_LAYER34 = 2,
};

/* Flat (no pointers), so that a config clone copies it with the port. */
struct lb_bond_cfg {
	bool enabled; /* false: the port is one DPDK port, as without `bond` */
	uint8_t mode; /* enum lb_bond_mode */
	uint8_t xmit_policy; /* enum lb_bond_xmit_policy (802.3ad only) */
	uint8_t n_members;
	uint8_t primary; /* index into members (active-backup); 0 when not given */
	char members[LB_BOND_MAX_MEMBERS][LB_BOND_MEMBER_LEN];
};

struct lb_config;

/* Parses ports[i].bond (path "ports[i].bond") into b; 0, or -1 with err naming the key. */
int lb_bond_cfg_parse(const json_t *v, const char *path, struct lb_bond_cfg *b, char *err,
		      size_t errlen);

/* ports[i].bond as the config file writes it (new reference). */
json_t *lb_bond_cfg_to_json(const struct lb_bond_cfg *b);

/* The validator's rules across ports (a member in one bond only); 0, or -1 with err. */
int lb_bond_cfg_validate(const struct lb_config *c, char *err, size_t errlen);

/* The DPDK device name a member string names: its text before the first ',' into out. */
void lb_bond_member_device(const char *member, char *out, size_t size);

/* "active-backup" or "802.3ad". */
const char *lb_bond_mode_name(uint8_t mode);

#endif
