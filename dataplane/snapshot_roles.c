/* The snapshot's table of address roles (snapshot_roles.h): built on the control lcore. */
#include "snapshot_roles.h"

#include <errno.h>
#include <stdlib.h>

#include "forward_method.h"
#include "lb_runtime.h"

/* The slot of address a, claimed when the address is new; NULL when the table is full. */
static struct role_slot *slot_get(struct role_table *t, const struct lb_addr *a)
{
	struct role_key k;

	role_key_make(&k, a->family, a->family == AF_INET6 ? (const void *)a->v6 : &a->v4);
	for (uint32_t i = role_hash(&k) & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
		struct role_slot *s = &t->slots[i];
		if (s->family == k.family && s->a0 == k.a0 && s->a1 == k.a1)
			return s;
		if (s->family == 0) {
			if (t->count + 1 > t->mask) /* one slot stays empty: a miss always ends */
				return NULL;
			s->family = k.family;
			s->a0 = k.a0;
			s->a1 = k.a1;
			t->count++;
			return s;
		}
	}
	return NULL;
}

static void add_service(struct role_slot *s, const struct lb_service_cfg *sc, uint32_t idx)
{
	s->roles |= ROLE_VIP;
	if (sc->port == 0 || s->n_svcs == ROLE_INLINE_SVCS) {
		/* a port group, or more services than fit: the service index answers for them all */
		s->roles |= ROLE_SVC_INDEX;
		return;
	}
	s->svcs[s->n_svcs].proto = sc->proto;
	s->svcs[s->n_svcs].port = sc->port;
	s->svcs[s->n_svcs].idx = idx;
	s->n_svcs++;
}

/* A nat real's (proto, port) pair, as build_nat_index keys it (a group's real: proto 0). */
static void add_nat_real(struct role_slot *s, uint8_t proto, uint16_t port)
{
	s->roles |= ROLE_NAT_REAL;
	for (uint8_t i = 0; i < s->n_nats; i++)
		if (s->nats[i].proto == proto && s->nats[i].port == port)
			return;
	if (s->n_nats == ROLE_INLINE_NATS) {
		s->roles |= ROLE_NAT_INDEX;
		return;
	}
	s->nats[s->n_nats].proto = proto;
	s->nats[s->n_nats].port = port;
	s->n_nats++;
}

/* Port p's own address a; 0, or -1 when the table is full. */
static int add_port_address(struct role_table *t, const struct lb_addr *a, uint16_t p)
{
	struct role_slot *s = slot_get(t, a);

	if (s == NULL)
		return -1;
	s->port_mask |= 1ull << p;
	return 0;
}

static uint32_t addresses_upper_bound(const struct lb_config *cfg)
{
	uint32_t n = 2u * lb_rt.n_links;

	for (uint32_t i = 0; i < cfg->n_services; i++) {
		const struct lb_service_cfg *sc = &cfg->services[i];
		n += 1 + sc->n_local_addrs;
		LB_SERVICE_FOREACH_DEST(sc, r)
			n += lb_forward_steers_by_client(r->forward);
	}
	return n;
}

static int fill(struct role_table *t, const struct lb_config *cfg)
{
	struct role_slot *s;

	for (uint32_t i = 0; i < cfg->n_services; i++) {
		const struct lb_service_cfg *sc = &cfg->services[i];
		if ((s = slot_get(t, &sc->vip)) == NULL)
			return -1;
		add_service(s, sc, i);
		for (uint8_t l = 0; l < sc->n_local_addrs; l++) {
			if ((s = slot_get(t, &sc->local_addrs[l])) == NULL)
				return -1;
			s->roles |= ROLE_LOCAL;
		}
		LB_SERVICE_FOREACH_DEST(sc, r) {
			if (!lb_forward_steers_by_client(r->forward))
				continue;
			if ((s = slot_get(t, &r->ip)) == NULL)
				return -1;
			add_nat_real(s, sc->port ? sc->proto : 0, r->port);
		}
	}
	for (uint16_t p = 0; p < lb_rt.n_links; p++) {
		const struct lb_port *port = &lb_rt.ports[p];
		if ((port->has_address && add_port_address(t, &port->address, p) != 0) ||
		    (port->has_address6 && add_port_address(t, &port->address6, p) != 0))
			return -1;
	}
	return 0;
}

_Static_assert(LB_MAX_LINKS <= 64, "port_mask has a bit per link");

int snap_roles_build(struct role_table *t, const struct lb_config *cfg)
{
	uint32_t size = 16, need = addresses_upper_bound(cfg);

	memset(t, 0, sizeof(*t));
	while (size < 2ull * need && size < (1u << 30))
		size <<= 1;
	t->slots = aligned_alloc(64, (size_t)size * sizeof(*t->slots));
	if (t->slots == NULL)
		return -ENOMEM;
	memset(t->slots, 0, (size_t)size * sizeof(*t->slots));
	t->mask = size - 1;
	if (fill(t, cfg) != 0) {
		snap_roles_free(t);
		return -ENOSPC;
	}
	return 0;
}

void snap_roles_free(struct role_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->count = 0;
}
