/* The keys a port and a VLAN share: addresses, MTU, kernel interface name (config.h). */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

int lb_ifname_from_json(const json_t *v, const char *dflt, const char *path, char *name,
			char *err, size_t errlen)
{
	if (v == NULL) {
		snprintf(name, LB_IFNAME_LEN, "%s", dflt);
	} else if (json_is_false(v)) {
		name[0] = '\0';
	} else {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		size_t len = s ? strlen(s) : 0;
		bool ok = len > 0 && len < LB_IFNAME_LEN && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
		for (size_t k = 0; ok && k < len; k++)
			ok = (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
			     (s[k] >= '0' && s[k] <= '9') || s[k] == '-' || s[k] == '_' || s[k] == '.';
		if (!ok)
			return lb_err(err, errlen, "%s.kernel_interface: an interface name of 1-%d "
				      "letters, digits, '-', '_' or '.', or false for none",
				      path, LB_IFNAME_LEN - 1);
		snprintf(name, LB_IFNAME_LEN, "%s", s);
	}
	return 0;
}

int lb_link_from_json(const json_t *p, const char *path, uint16_t default_mtu,
		      struct lb_port_cfg *pc, char *err, size_t errlen)
{
	const json_t *a = json_object_get(p, "address");

	if (!json_is_string(a) || strchr(json_string_value(a), '/') == NULL ||
	    lb_addr_parse_prefix(json_string_value(a), &pc->address, &pc->prefix_len) != 0)
		return lb_err(err, errlen, "%s.address: required, an address with prefix like \"10.0.0.2/24\"",
			      path);
	a = json_object_get(p, "address6");
	if (a != NULL) {
		if (!json_is_string(a) || strchr(json_string_value(a), '/') == NULL ||
		    lb_addr_parse_prefix(json_string_value(a), &pc->address6, &pc->prefix_len6) != 0 ||
		    pc->address6.family != AF_INET6 || pc->address.family != AF_INET)
			return lb_err(err, errlen, "%s.address6: an IPv6 address with prefix like "
				      "\"2001:db8::2/64\", next to an IPv4 address", path);
		pc->has_address6 = true;
	}
	uint32_t mtu = default_mtu;
	if (lb_json_get_uint(p, "mtu", path, 576, 9216, &mtu, err, errlen) != 0)
		return -1;
	pc->mtu = (uint16_t)mtu;
	return 0;
}
