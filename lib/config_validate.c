/* Every rule that keeps the dataplane safe (see config_validate.h). */
#include "config_validate.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_validate_health.h"
#include "lookup_table.h"
#include "sched_util.h"
#include "scheduler.h"

#define LB_MAX_WEIGHT 65535
#define PATH_LEN 160
/* changed services checked for duplicates one scan each; more take the hashed check */
#define INCREMENTAL_DUPLICATE_SCANS 8

/* Whether the dataplane can reach ip: a port's subnet holds it, or a static neighbour names it. */
static bool real_is_on_link(const struct lb_config *c, const struct lb_addr *ip)
{
	for (uint32_t p = 0; p < c->n_ports; p++) {
		const struct lb_port_cfg *port = &c->ports[p];
		if (lb_addr_same_prefix(&port->address, ip, port->prefix_len))
			return true;
		if (port->has_address6 && lb_addr_same_prefix(&port->address6, ip, port->prefix_len6))
			return true;
	}
	for (uint32_t i = 0; i < c->n_static_neigh; i++)
		if (lb_addr_equal(&c->static_neigh[i].ip, ip))
			return true;
	return lb_config_vlan_holds(c, ip);
}

/* Rules of one real (or fallback) server r of svc; path names it ("services[2].reals[0]"). */
static int validate_dest(const struct lb_config *c, const struct lb_service_cfg *svc,
			 const struct lb_real_cfg *r, const char *path, char *err, size_t errlen)
{
	const struct lb_forward_method *m = lb_forward_method_get(r->forward);
	char ab[LB_ADDR_STRLEN];

	if (m == NULL || m->appliance)
		return lb_err(err, errlen, "%s.forward: must be one of: %s", path,
			      lb_forward_method_names());
	if (r->ip.family != svc->vip.family)
		return lb_err(err, errlen, "%s.ip: must be the same address family as the VIP", path);
	if (r->weight > LB_MAX_WEIGHT)
		return lb_err(err, errlen, "%s.weight: must be 0-%u", path, LB_MAX_WEIGHT);
	if (m->keeps_port && r->port != svc->port)
		return lb_err(err, errlen,
			      "%s.port: %s cannot change the port (%u != service port %u): it hands the "
			      "packet over unchanged; use nat or fnat", path, m->long_name, r->port,
			      svc->port);
	if (r->u_threshold == 0 && r->l_threshold != 0)
		return lb_err(err, errlen, "%s.l_threshold: needs an upper threshold (u_threshold)", path);
	if (r->l_threshold != 0 && r->l_threshold >= r->u_threshold)
		return lb_err(err, errlen, "%s.l_threshold: must be below u_threshold (%u)", path,
			      r->u_threshold);
	if (svc->ops && !m->ops_allowed)
		return lb_err(err, errlen,
			      "%s.forward: %s is not allowed with one-packet scheduling (ops): its replies "
			      "need a flow entry", path, m->name);
	if (svc->syn_proxy && !m->reply_key)
		return lb_err(err, errlen,
			      "%s.forward: %s is not allowed with syn_proxy: the SYN proxy needs the "
			      "replies to pass the appliance (nat or fnat)", path, m->name);
	if (m->needs_local_addrs && svc->n_local_addrs == 0)
		return lb_err(err, errlen,
			      "%s.forward: %s needs the service's local_addresses (none configured)", path,
			      m->name);
	if (!real_is_on_link(c, &r->ip))
		return lb_err(err, errlen,
			      "%s.ip: %s is on none of the appliance's subnets (ports[].address, ports[].vlans[].address) and has "
			      "no static neighbour: real servers must be on-link",
			      path, lb_addr_format(&r->ip, ab, sizeof(ab)));
	return LB_VALID;
}

static bool sched_takes_flags(const char *name)
{
	return strcmp(name, "sh") == 0 || strcmp(name, "dh") == 0 || strcmp(name, "mh") == 0;
}

/* Rules of the service's own settings (scheduler, group, ops, fnat, persistence). */
static int validate_service_options(const struct lb_service_cfg *svc, const char *path, char *err,
				    size_t errlen)
{
	const struct lb_forward_method *m = lb_forward_method_get(svc->forward);

	if (sched_find(svc->scheduler) == NULL)
		return lb_err(err, errlen, "%s.scheduler: unknown scheduler \"%s\" (known: %s)", path,
			      svc->scheduler, sched_names());
	if (svc->sched_flags && !sched_takes_flags(svc->scheduler))
		return lb_err(err, errlen, "%s.sched_flags: only the sh, dh and mh schedulers take flags",
			      path);
	if (svc->proto != IPPROTO_TCP && svc->proto != IPPROTO_UDP)
		return lb_err(err, errlen, "%s.proto: must be tcp or udp", path);
	if (svc->vip.family != AF_INET && svc->vip.family != AF_INET6)
		return lb_err(err, errlen, "%s.vip: must be an IPv4 or IPv6 address", path);
	if (m == NULL || m->appliance)
		return lb_err(err, errlen, "%s.forward: must be one of: %s", path,
			      lb_forward_method_names());
	if (svc->port == 0 && svc->n_port_ranges == 0)
		return lb_err(err, errlen, "%s.ports: a service group (port 0) needs its ports", path);
	if (svc->port != 0 && (svc->n_port_ranges != 0 || svc->protos != 0))
		return lb_err(err, errlen, "%s.ports: only a service group (port 0) takes ports/protos",
			      path);
	if (svc->n_port_ranges > LB_MAX_PORT_RANGES)
		return lb_err(err, errlen, "%s.ports: at most %d ranges", path, LB_MAX_PORT_RANGES);
	for (uint8_t i = 0; i < svc->n_port_ranges; i++)
		if (svc->port_ranges[i].lo == 0 || svc->port_ranges[i].lo > svc->port_ranges[i].hi)
			return lb_err(err, errlen, "%s.ports[%u]: must be a port 1-65535 or \"lo-hi\"",
				      path, i);
	if (svc->ops && (svc->proto != IPPROTO_UDP || (svc->protos & LB_PROTO_BIT_TCP)))
		return lb_err(err, errlen, "%s.ops: one-packet scheduling is for UDP services only", path);
	if (svc->ops && !m->ops_allowed)
		return lb_err(err, errlen,
			      "%s.ops: one-packet scheduling works with dr and tun only (%s needs a flow "
			      "for the replies)", path, m->name);
	if (svc->syn_proxy && (svc->proto != IPPROTO_TCP || (svc->protos & LB_PROTO_BIT_UDP)))
		return lb_err(err, errlen, "%s.syn_proxy: SYN cookies are for TCP services only", path);
	if (svc->syn_proxy && !m->reply_key)
		return lb_err(err, errlen,
			      "%s.syn_proxy: needs forward nat or fnat (%s: the replies bypass the "
			      "appliance, which must see the real's SYN-ACK)", path, m->name);
	if (svc->mh_table_size != 0 && !sched_is_prime(svc->mh_table_size))
		return lb_err(err, errlen, "%s.mh_table_size: %u is not a prime (e.g. 251, 4093, 65537)",
			      path, svc->mh_table_size);
	if (svc->mh_table_size != 0 && strcmp(svc->scheduler, "mh") == 0 &&
	    svc->n_reals > svc->mh_table_size)
		return lb_err(err, errlen, "%s.mh_table_size: %u slots for %u real servers", path,
			      svc->mh_table_size, svc->n_reals);
	if (svc->netmask_len > (svc->vip.family == AF_INET ? 32 : 128))
		return lb_err(err, errlen, "%s.netmask: longer than the address", path);
	if (m->needs_local_addrs && svc->n_local_addrs == 0)
		return lb_err(err, errlen,
			      "%s.local_addresses: %s needs at least one local address", path, m->name);
	if (svc->n_local_addrs > LB_MAX_LOCAL_ADDRS)
		return lb_err(err, errlen, "%s.local_addresses: at most %d", path, LB_MAX_LOCAL_ADDRS);
	for (uint8_t i = 0; i < svc->n_local_addrs; i++) {
		if (svc->local_addrs[i].family != svc->vip.family)
			return lb_err(err, errlen,
				      "%s.local_addresses[%u]: must be the same address family as the VIP",
				      path, i);
		for (uint8_t j = 0; j < i; j++)
			if (lb_addr_equal(&svc->local_addrs[j], &svc->local_addrs[i]))
				return lb_err(err, errlen, "%s.local_addresses[%u]: duplicate", path, i);
	}
	if (svc->client_addr_mode == LB_CLIENT_ADDR_TOA &&
	    (svc->proto != IPPROTO_TCP || (svc->protos & LB_PROTO_BIT_UDP)))
		return lb_err(err, errlen, "%s.client_address: \"toa\" is a TCP option: TCP services only",
			      path);
	return LB_VALID;
}

/* Whether reals i and j of svc name the same server (same address and port). */
static bool same_real(const struct lb_real_cfg *a, const struct lb_real_cfg *b)
{
	return a->port == b->port && lb_addr_equal(&a->ip, &b->ip);
}

/*
 * A local fallback (the holding page): an HTTP listener on VIP:port in the appliance's kernel,
 * reached through the exception path, so a TCP service with one port and a kernel interface.
 */
static int validate_local_fallback(const struct lb_config *c, const struct lb_service_cfg *svc,
				   const char *path, char *err, size_t errlen)
{
	const struct lb_real_cfg *fb = &svc->fallback;
	bool kernel_if = false;

	if (svc->proto != IPPROTO_TCP || (svc->protos & LB_PROTO_BIT_UDP))
		return lb_err(err, errlen, "%s.local: the holding page is HTTP: TCP services only", path);
	if (svc->port == 0)
		return lb_err(err, errlen,
			      "%s.local: not for a service group (port 0): the holding page listens on "
			      "one port", path);
	if (svc->ops)
		return lb_err(err, errlen, "%s.local: not with one-packet scheduling (ops)", path);
	if (svc->syn_proxy)
		return lb_err(err, errlen, "%s.local: not with syn_proxy (the kernel would get a "
			      "handshake the proxy already answered)", path);
	/* The kernel would solicit the client from its link-local address, whose advertisements
	 * the exception path does not pass back (only those for the port's address). */
	if (svc->vip.family != AF_INET)
		return lb_err(err, errlen, "%s.local: IPv4 VIPs only (IPv6: not supported yet)", path);
	if (!lb_addr_equal(&fb->ip, &svc->vip) || fb->port != svc->port)
		return lb_err(err, errlen, "%s: a local fallback listens on the service's VIP and port",
			      path);
	for (uint32_t p = 0; p < c->n_ports && !kernel_if; p++)
		kernel_if = c->ports[p].kernel_interface[0] != '\0';
	if (!kernel_if)
		return lb_err(err, errlen,
			      "%s.local: the holding page is served by the appliance's kernel: a port "
			      "needs a kernel_interface (exception path)", path);
	return LB_VALID;
}

/* Every rule of one service of configuration c; err NULL: the verdict alone, no strings built. */
static int validate_service(const struct lb_config *c, const struct lb_service_cfg *svc,
			    const char *path, char *err, size_t errlen)
{
	char rpath[PATH_LEN + 24] = "";

	if (validate_service_options(svc, path, err, errlen) != LB_VALID)
		return LB_INVALID;
	if (svc->n_reals > 0 && svc->reals == NULL)
		return lb_err(err, errlen, "%s.reals: missing", path);
	/* Sorting would be O(n log n); services hold few reals and this runs on the control lcore. */
	for (uint32_t i = 1; i < svc->n_reals; i++)
		for (uint32_t j = 0; j < i; j++)
			if (same_real(&svc->reals[i], &svc->reals[j]))
				return lb_err(err, errlen, "%s.reals[%u]: duplicate real server", path, i);
	for (uint32_t i = 0; i < svc->n_reals; i++) {
		if (err != NULL)
			snprintf(rpath, sizeof(rpath), "%s.reals[%u]", path, i);
		if (validate_dest(c, svc, &svc->reals[i], rpath, err, errlen) != LB_VALID)
			return LB_INVALID;
	}
	if (svc->has_fallback) {
		if (err != NULL)
			snprintf(rpath, sizeof(rpath), "%s.fallback", path);
		if ((lb_service_fallback_is_local(svc)
			     ? validate_local_fallback(c, svc, rpath, err, errlen)
			     : validate_dest(c, svc, &svc->fallback, rpath, err, errlen)) != LB_VALID)
			return LB_INVALID;
	}
	return lb_validate_service_health(svc, path, err, errlen);
}

/* The settings outside services that the dataplane depends on. */
static int validate_globals(const struct lb_config *c, char *err, size_t errlen)
{
	if (c->n_ports > 0 && c->ports == NULL)
		return lb_err(err, errlen, "ports: missing");
	for (uint32_t p = 0; p < c->n_ports; p++) {
		const struct lb_port_cfg *port = &c->ports[p];
		if (port->mtu < 576 || port->mtu > 9216)
			return lb_err(err, errlen, "ports[%u].mtu: must be 576-9216", p);
		if (port->has_address6 && port->mtu < 1280)
			return lb_err(err, errlen,
				      "ports[%u].mtu: IPv6 (address6) needs an MTU of at least 1280", p);
	}
	for (uint32_t p = 0; p < c->n_ports; p++)
		for (uint32_t k = 0; c->ports[p].kernel_interface[0] != '\0' && k < p; k++)
			if (strcmp(c->ports[k].kernel_interface, c->ports[p].kernel_interface) == 0)
				return lb_err(err, errlen,
					      "ports[%u].kernel_interface: \"%s\" is ports[%u]'s already", p,
					      c->ports[p].kernel_interface, k);
	if (lb_bond_cfg_validate(c, err, errlen) != 0)
		return -1;
	if (lb_config_vlans_validate(c, err, errlen) != 0)
		return LB_INVALID;
	if (c->fnat_port_min == 0 || c->fnat_port_min > c->fnat_port_max || c->fnat_port_max > 65535)
		return lb_err(err, errlen,
			      "dataplane.fnat_port_min: %u is above fnat_port_max %u (need 1 <= min <= "
			      "max <= 65535)", c->fnat_port_min, c->fnat_port_max);
	if (c->conn_event_ring != 0 &&
	    (c->conn_event_ring < 64 || (c->conn_event_ring & (c->conn_event_ring - 1)) != 0))
		return lb_err(err, errlen,
			      "dataplane.conn_event_ring: must be 0 (off) or a power of 2 from 64");
	if (c->half_open_pressure_percent < 1 || c->half_open_pressure_percent > 100)
		return lb_err(err, errlen, "dataplane.half_open_pressure_percent: must be 1-100");
	/* Above timeouts.syn_recv it changes nothing: the shorter of the two applies. */
	if (c->half_open_pressure_timeout_s < 1 || c->half_open_pressure_timeout_s > 31536000)
		return lb_err(err, errlen, "dataplane.half_open_pressure_timeout_s: must be 1-31536000");
	if (c->n_services > 0 && c->services == NULL)
		return lb_err(err, errlen, "services: missing");
	if (c->n_services > c->max_services) {
		lb_err(err, errlen, "services: %u services exceed dataplane.max_services %u",
		       c->n_services, c->max_services);
		return LB_OVER_CAPACITY;
	}
	uint64_t dests = 0;
	for (uint32_t i = 0; i < c->n_services; i++)
		dests += c->services[i].n_reals + (c->services[i].has_fallback ? 1u : 0u);
	if (dests > c->max_reals) {
		lb_err(err, errlen, "services: %llu real servers exceed dataplane.max_reals %u",
		       (unsigned long long)dests, c->max_reals);
		return LB_OVER_CAPACITY;
	}
	return LB_VALID;
}

/* Key of a service for the duplicate check: family, protocol, port, address. */
static void service_key(const struct lb_service_cfg *svc, uint8_t key[20])
{
	memset(key, 0, 20);
	key[0] = svc->vip.family;
	key[1] = svc->proto;
	memcpy(key + 2, &svc->port, 2);
	if (svc->vip.family == AF_INET)
		memcpy(key + 4, &svc->vip.v4, 4);
	else
		memcpy(key + 4, svc->vip.v6, 16);
}

/* Index of the first service of c other than `self` with the key of c->services[self], or -1. */
static int64_t other_with_same_key(const struct lb_config *c, uint32_t self)
{
	uint8_t key[20], other[20];

	service_key(&c->services[self], key);
	for (uint32_t i = 0; i < c->n_services; i++) {
		if (i == self)
			continue;
		service_key(&c->services[i], other);
		if (memcmp(key, other, sizeof(key)) == 0)
			return i;
	}
	return -1;
}

/* A service appears once: the dataplane's lookup would hide the second one. */
static int validate_unique_services(const struct lb_config *c, char *err, size_t errlen)
{
	uint32_t n_changed = 0;
	for (uint32_t i = 0; c->incremental && i < c->n_services; i++)
		n_changed += c->services[i].changed;
	/*
	 * The unchanged ones were unique: only a changed key can collide, O(services) each. Past a
	 * few changed services the hashed check of every key is cheaper (a 1,000-edit config.apply
	 * spent 70 ms here on 10k services).
	 */
	if (c->incremental && n_changed <= INCREMENTAL_DUPLICATE_SCANS) {
		for (uint32_t i = 0; i < c->n_services; i++) {
			int64_t first = c->services[i].changed ? other_with_same_key(c, i) : -1;
			if (first >= 0)
				return lb_err(err, errlen, "services[%u]: duplicate of services[%lld]",
					      i > first ? i : (uint32_t)first,
					      (long long)(i > first ? first : i));
		}
		return LB_VALID;
	}
	struct lookup_table seen;
	uint8_t key[20];
	int rc = LB_VALID;

	if (lookup_table_init(&seen, c->n_services, sizeof(key)) != 0)
		return lb_err(err, errlen, "services: out of memory");
	for (uint32_t i = 0; i < c->n_services && rc == LB_VALID; i++) {
		service_key(&c->services[i], key);
		int64_t first = lookup_table_find(&seen, key);
		if (first >= 0)
			rc = lb_err(err, errlen, "services[%u]: duplicate of services[%lld]", i,
				    (long long)first);
		else if (lookup_table_insert(&seen, key, i) != 0)
			rc = lb_err(err, errlen, "services: out of memory");
	}
	lookup_table_free(&seen);
	return rc;
}

int lb_config_validate(const struct lb_config *c, char *err, size_t errlen)
{
	char path[PATH_LEN], inner[LB_ERR_LEN], ab[LB_ADDR_STRLEN];
	int rc = validate_globals(c, err, errlen);

	if (rc != LB_VALID)
		return rc;
	if ((!c->incremental || c->block_changed) &&
	    lb_blocklist_validate(c->block, c->n_block, c->blocklist_capacity, err, errlen) != 0)
		return c->n_block > c->blocklist_capacity ? LB_OVER_CAPACITY : LB_INVALID;
	for (uint32_t i = 0; i < c->n_services; i++) {
		const struct lb_service_cfg *svc = &c->services[i];
		if (c->incremental && !svc->changed)
			continue;
		/* Paths are formatted only to explain a failure: a valid config builds no strings. */
		if (validate_service(c, svc, "", NULL, 0) != LB_VALID) {
			snprintf(path, sizeof(path), "services[%u]", i);
			(void)validate_service(c, svc, path, inner, sizeof(inner));
			/* An RPC user knows the service by its key, not its index. */
			lb_err(err, errlen, "%s (service %s %s port %u)", inner, lb_proto_name(svc->proto),
			       lb_addr_format(&svc->vip, ab, sizeof(ab)), svc->port);
			return LB_INVALID;
		}
	}
	return validate_unique_services(c, err, errlen);
}
