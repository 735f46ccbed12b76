/* stats.ports' view of a bonded port: its mode and each member's link and role. */
#ifndef DPDK_LB_BOND_JSON_H
#define DPDK_LB_BOND_JSON_H

#include <jansson.h>
#include <stdint.h>

/* {"mode", "active": [names], "members": [...]} of lb_rt.ports[index], or NULL: no bond. */
json_t *bond_json(uint16_t index);

#endif
