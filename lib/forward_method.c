/* The one table of forwarding methods (see forward_method.h). Pure data: the CLI links it too. */
#include "forward_method.h"

#include <string.h>

static const struct lb_forward_method methods[LB_FWD_COUNT] = {
	[LB_FWD_DR] = {.name = "dr", .display_name = "Route", .long_name = "direct routing",
		       .steering = LB_STEER_RECEIVER, .keeps_port = true, .ops_allowed = true},
	[LB_FWD_TUN] = {.name = "tun", .display_name = "Tunnel", .long_name = "tunnelling",
			.steering = LB_STEER_RECEIVER, .keeps_port = true, .ops_allowed = true},
	[LB_FWD_NAT] = {.name = "nat", .display_name = "Masq", .long_name = "NAT",
			.reply_key = true, .steering = LB_STEER_CLIENT_HASH},
	[LB_FWD_FNAT] = {.name = "fnat", .display_name = "FullNat", .long_name = "full NAT",
			 .reply_key = true, .rewrites_source = true,
			 .steering = LB_STEER_LOCAL_PORT, .needs_local_addrs = true},
	[LB_FWD_LOCAL] = {.name = "local", .display_name = "Local", .long_name = "local holding page",
			  .steering = LB_STEER_RECEIVER, .keeps_port = true, .appliance = true},
};

const struct lb_forward_method *lb_forward_method_get(uint8_t fwd)
{
	return fwd < LB_FWD_COUNT ? &methods[fwd] : NULL;
}

int lb_forward_method_find(const char *name)
{
	for (int f = 0; f < LB_FWD_COUNT; f++)
		if (!methods[f].appliance && strcmp(methods[f].name, name) == 0)
			return f;
	return -1;
}

const char *lb_forward_method_names(void)
{
	static char names[64];

	if (names[0] == '\0')
		for (int f = 0; f < LB_FWD_COUNT; f++) {
			if (methods[f].appliance)
				continue;
			if (names[0] != '\0')
				strcat(names, ", ");
			strcat(names, methods[f].name);
		}
	return names;
}
