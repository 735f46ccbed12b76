/*
 * ports[].vlans: 802.1Q VLANs of a port, each a link of its own (addresses, MTU, kernel
 * interface). Parsed into one flat array in port order; the dataplane gives each VLAN a link
 * index after the physical ports (dataplane/vlan.h).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define PATH_LEN 48

static const char *vlan_path(const struct lb_config *c, uint32_t k, char *buf, size_t len)
{
	uint32_t nth = 0;

	for (uint32_t j = 0; j < k; j++)
		nth += c->vlans[j].port == c->vlans[k].port;
	snprintf(buf, len, "ports[%u].vlans[%u]", c->vlans[k].port, nth);
	return buf;
}

static int vlan_from_json(const json_t *o, struct lb_config *c, uint32_t port, const char *path,
			  struct lb_vlan_cfg *vc, char *err, size_t errlen)
{
	static const char *const keys[] = {"id", "address", "address6", "mtu", "kernel_interface",
					   NULL};
	const struct lb_port_cfg *pc = &c->ports[port];
	char dflt[LB_IFNAME_LEN + 8];
	uint32_t id = 0;

	if (!json_is_object(o))
		return lb_err(err, errlen, "%s: must be an object", path);
	if (lb_json_check_keys(o, path, keys, err, errlen) != 0)
		return -1;
	if (json_object_get(o, "id") == NULL)
		return lb_err(err, errlen, "%s.id: required, the VLAN id 1-4094", path);
	if (lb_json_get_uint(o, "id", path, 1, 4094, &id, err, errlen) != 0)
		return -1;
	memset(vc, 0, sizeof(*vc));
	vc->port = port;
	vc->id = (uint16_t)id;
	if (lb_link_from_json(o, path, pc->mtu, &vc->link, err, errlen) != 0)
		return -1;
	/* Linux's own name for a VLAN of eth0 is eth0.10: the default, when the port has one */
	dflt[0] = '\0';
	if (pc->kernel_interface[0] != '\0')
		snprintf(dflt, sizeof(dflt), "%s.%u", pc->kernel_interface, id);
	const json_t *kif = json_object_get(o, "kernel_interface");
	if (kif == NULL && strlen(dflt) >= LB_IFNAME_LEN)
		return lb_err(err, errlen,
			      "%s.kernel_interface: the default \"%s\" is longer than %d characters: "
			      "name it, or false for none", path, dflt, LB_IFNAME_LEN - 1);
	return lb_ifname_from_json(kif, dflt, path, vc->link.kernel_interface, err, errlen);
}

int lb_config_vlans_from_json(const json_t *v, struct lb_config *c, uint32_t port, char *err,
			      size_t errlen)
{
	char path[PATH_LEN];

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return lb_err(err, errlen, "ports[%u].vlans: must be an array", port);
	size_t n = json_array_size(v);
	if (c->n_vlans + n > LB_MAX_VLANS)
		return lb_err(err, errlen, "ports[%u].vlans: at most %d VLANs over all ports", port,
			      LB_MAX_VLANS);
	if (n == 0)
		return 0;
	struct lb_vlan_cfg *grown = realloc(c->vlans, (c->n_vlans + n) * sizeof(*grown));
	if (grown == NULL)
		return lb_err(err, errlen, "ports[%u].vlans: out of memory", port);
	c->vlans = grown;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "ports[%u].vlans[%zu]", port, i);
		if (vlan_from_json(json_array_get(v, i), c, port, path, &c->vlans[c->n_vlans], err,
				   errlen) != 0)
			return -1;
		c->n_vlans++;
	}
	return 0;
}

static json_t *prefix_json(const struct lb_addr *a, uint8_t len)
{
	char ab[LB_ADDR_STRLEN], buf[LB_ADDR_STRLEN + 8];

	snprintf(buf, sizeof(buf), "%s/%u", lb_addr_format(a, ab, sizeof(ab)), len);
	return json_string(buf);
}

void lb_config_vlans_to_json(const struct lb_config *c, uint32_t port, json_t *po)
{
	json_t *list = NULL;

	for (uint32_t k = 0; k < c->n_vlans; k++) {
		const struct lb_vlan_cfg *vc = &c->vlans[k];
		if (vc->port != port)
			continue;
		json_t *o = json_pack("{s:i, s:o, s:i}", "id", (int)vc->id, "address",
				      prefix_json(&vc->link.address, vc->link.prefix_len), "mtu",
				      (int)vc->link.mtu);
		if (vc->link.has_address6)
			json_object_set_new(o, "address6",
					    prefix_json(&vc->link.address6, vc->link.prefix_len6));
		const char *kif = vc->link.kernel_interface;
		json_object_set_new(o, "kernel_interface", kif[0] ? json_string(kif) : json_false());
		if (list == NULL)
			list = json_array();
		json_array_append_new(list, o);
	}
	if (list != NULL)
		json_object_set_new(po, "vlans", list);
}

/* Whether the subnets a/alen and b/blen share an address (one holds the other). */
static bool subnets_overlap(const struct lb_addr *a, uint8_t alen, const struct lb_addr *b,
			    uint8_t blen)
{
	return lb_addr_same_prefix(a, b, alen < blen ? alen : blen);
}

/* Whether link l's subnets (either family) overlap link m's. */
static bool links_overlap(const struct lb_port_cfg *l, const struct lb_port_cfg *m)
{
	if (subnets_overlap(&l->address, l->prefix_len, &m->address, m->prefix_len))
		return true;
	if (m->has_address6 &&
	    subnets_overlap(&l->address, l->prefix_len, &m->address6, m->prefix_len6))
		return true;
	if (l->has_address6 &&
	    subnets_overlap(&l->address6, l->prefix_len6, &m->address, m->prefix_len))
		return true;
	return l->has_address6 && m->has_address6 &&
	       subnets_overlap(&l->address6, l->prefix_len6, &m->address6, m->prefix_len6);
}

static int validate_one(const struct lb_config *c, uint32_t k, char *err, size_t errlen)
{
	const struct lb_vlan_cfg *vc = &c->vlans[k];
	char path[PATH_LEN], other[PATH_LEN];

	vlan_path(c, k, path, sizeof(path));
	if (vc->port >= c->n_ports)
		return lb_err(err, errlen, "%s: no such port", path);
	const struct lb_port_cfg *pc = &c->ports[vc->port];
	if (vc->id < 1 || vc->id > 4094)
		return lb_err(err, errlen, "%s.id: must be 1-4094", path);
	if (vc->link.mtu < 576 || vc->link.mtu > pc->mtu)
		return lb_err(err, errlen, "%s.mtu: must be 576 to the port's mtu (%u): the VLAN "
			      "travels in the port's frames", path, pc->mtu);
	if ((vc->link.has_address6 || vc->link.address.family == AF_INET6) && vc->link.mtu < 1280)
		return lb_err(err, errlen, "%s.mtu: IPv6 needs an MTU of at least 1280", path);
	for (uint32_t j = 0; j < k; j++) {
		if (c->vlans[j].port == vc->port && c->vlans[j].id == vc->id)
			return lb_err(err, errlen, "%s.id: VLAN %u is %s's already (duplicate id)", path,
				      vc->id, vlan_path(c, j, other, sizeof(other)));
		if (links_overlap(&vc->link, &c->vlans[j].link))
			return lb_err(err, errlen, "%s.address: its subnet overlaps %s's: a real server "
				      "must be on exactly one link", path,
				      vlan_path(c, j, other, sizeof(other)));
		if (vc->link.kernel_interface[0] != '\0' &&
		    strcmp(vc->link.kernel_interface, c->vlans[j].link.kernel_interface) == 0)
			return lb_err(err, errlen, "%s.kernel_interface: \"%s\" is %s's already", path,
				      vc->link.kernel_interface, vlan_path(c, j, other, sizeof(other)));
	}
	for (uint32_t p = 0; p < c->n_ports; p++) {
		if (links_overlap(&vc->link, &c->ports[p]))
			return lb_err(err, errlen, "%s.address: its subnet overlaps ports[%u]'s: a real "
				      "server must be on exactly one link", path, p);
		if (vc->link.kernel_interface[0] != '\0' &&
		    strcmp(vc->link.kernel_interface, c->ports[p].kernel_interface) == 0)
			return lb_err(err, errlen, "%s.kernel_interface: \"%s\" is ports[%u]'s already",
				      path, vc->link.kernel_interface, p);
	}
	return 0;
}

int lb_config_vlans_validate(const struct lb_config *c, char *err, size_t errlen)
{
	if (c->n_vlans > LB_MAX_VLANS)
		return lb_err(err, errlen, "ports[].vlans: at most %d VLANs over all ports",
			      LB_MAX_VLANS);
	if (c->n_vlans > 0 && c->vlans == NULL)
		return lb_err(err, errlen, "ports[].vlans: missing");
	for (uint32_t k = 0; k < c->n_vlans; k++)
		if (validate_one(c, k, err, errlen) != 0)
			return -1;
	return 0;
}

bool lb_config_vlan_holds(const struct lb_config *c, const struct lb_addr *ip)
{
	for (uint32_t k = 0; k < c->n_vlans; k++) {
		const struct lb_port_cfg *l = &c->vlans[k].link;
		if (lb_addr_same_prefix(&l->address, ip, l->prefix_len) ||
		    (l->has_address6 && lb_addr_same_prefix(&l->address6, ip, l->prefix_len6)))
			return true;
	}
	return false;
}
