/* stats.ports' "bond" object (bond_json.h), from dataplane/bond.c's status. */
#include "bond_json.h"

#include <stdio.h>

#include "bond.h"

static const char *const lacp_bits[8] = {"lacp_active", "short_timeout", "aggregation",
					 "synchronization", "collecting", "distributing",
					 "defaulted", "expired"};
static const char *const selections[3] = {"unselected", "standby", "selected"};

static json_t *state_names(uint8_t state)
{
	json_t *a = json_array();

	for (int b = 0; b < 8; b++)
		if (state & (1u << b))
			json_array_append_new(a, json_string(lacp_bits[b]));
	return a;
}

static json_t *lacp_json(const struct lb_bond_member_status *m)
{
	char mac[18];
	const uint8_t *s = m->partner_system;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", s[0], s[1], s[2], s[3], s[4],
		 s[5]);
	return json_pack("{s:s, s:o, s:o, s:s}", "selected",
			 m->lacp_selected < 3 ? selections[m->lacp_selected] : "unknown",
			 "actor_state", state_names(m->actor_state), "partner_state",
			 state_names(m->partner_state), "partner_system", mac);
}

json_t *bond_json(uint16_t index)
{
	struct lb_bond_status st;
	json_t *members, *active;

	if (bond_status_get(index, &st) != 0)
		return NULL;
	members = json_array();
	active = json_array();
	for (uint8_t i = 0; i < st.n_members; i++) {
		const struct lb_bond_member_status *m = &st.members[i];
		json_t *o = json_pack("{s:s, s:b, s:b}", "name", m->name, "link_up", m->link_up,
				      "active", m->active);
		if (st.mode == LB_BOND_ACTIVE_BACKUP)
			json_object_set_new(o, "primary", json_boolean(m->primary));
		if (m->lacp)
			json_object_set_new(o, "lacp", lacp_json(m));
		if (m->active)
			json_array_append_new(active, json_string(m->name));
		json_array_append_new(members, o);
	}
	return json_pack("{s:s, s:o, s:o}", "mode", lb_bond_mode_name(st.mode), "active", active,
			 "members", members);
}
