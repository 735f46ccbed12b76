#include "snapshot.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "neigh.h"
#include "xmit.h"
#include "snapshot_internal.h"

void snap_service_key_make(struct snap_service_key *k, const struct lb_addr *vip, uint8_t proto,
			   uint16_t port_host)
{
	memset(k, 0, sizeof(*k));
	k->family = vip->family;
	k->proto = proto;
	k->port = rte_cpu_to_be_16(port_host);
	if (vip->family == AF_INET)
		memcpy(k->addr, &vip->v4, 4);
	else
		memcpy(k->addr, vip->v6, 16);
}

int snapshot_egress_port(const struct lb_addr *ip)
{
	for (uint16_t p = 0; p < lb_rt.n_links; p++) {
		const struct lb_port *port = &lb_rt.ports[p];
		if (port->has_address && lb_addr_same_prefix(&port->address, ip, port->prefix_len))
			return p;
		if (port->has_address6 && lb_addr_same_prefix(&port->address6, ip, port->prefix_len6))
			return p;
	}
	return -1;
}

static bool has_static_neighbour(const struct lb_config *cfg, const struct lb_addr *ip)
{
	for (uint32_t i = 0; i < cfg->n_static_neigh; i++)
		if (lb_addr_equal(&cfg->static_neigh[i].ip, ip))
			return true;
	return false;
}

static struct snap_real_page *zero_page; /* no real at all: every untouched page points here */

/* The writable entry of real id: its page is copied first when an earlier build made it. */
static struct snap_real *real_slot_mut(struct lb_snapshot *snap, uint32_t id)
{
	struct snap_real_page **pp = &snap->real_pages[id >> SNAP_REAL_PAGE_SHIFT];

	if ((*pp)->born_build != snap->build) {
		struct snap_real_page *np = malloc(sizeof(*np));
		if (np == NULL)
			return NULL;
		memcpy(np, *pp, sizeof(*np));
		np->born_build = snap->build;
		if (*pp != zero_page && snap_garbage_add(&snap->retired, free, *pp) != 0) {
			free(np);
			return NULL;
		}
		*pp = np;
	}
	return &(*pp)->reals[id & (SNAP_REAL_PAGE_SIZE - 1)];
}

/*
 * The appliance's own kernel (local fallback): no neighbour, no egress port. The packet goes to
 * the kernel of the port it came in on; its path-MTU check uses the widest port, so nothing a
 * port accepted is refused.
 */
static uint16_t widest_port(void)
{
	uint16_t best = 0;

	for (uint16_t p = 1; p < lb_rt.n_ports; p++)
		if (lb_rt.ports[p].mtu > lb_rt.ports[best].mtu)
			best = p;
	return best;
}

/* Egress port and neighbour slot of real rc; 0, or -1 with err set. */
static int real_egress(const struct lb_config *cfg, const struct lb_real_cfg *rc, int *port,
		       int *slot, char *err, size_t errlen)
{
	char ab[LB_ADDR_STRLEN];

	if (lb_forward_method_get(rc->forward)->appliance) {
		*port = widest_port();
		*slot = -1; /* no neighbour: SNAP_NO_NEIGH_SLOT */
		return 0;
	}
	*port = snapshot_egress_port(&rc->ip);
	if (*port < 0 && has_static_neighbour(cfg, &rc->ip))
		*port = 0;
	if (*port < 0) /* the on-link rule is the validator's: reaching this is a bug */
		return lb_err(err, errlen, "internal: real %s has no egress port",
			      lb_addr_format(&rc->ip, ab, sizeof(ab)));
	*slot = neigh_table_slot(lb_rt.neigh, &rc->ip, (uint16_t)*port);
	if (*slot < 0)
		return lb_err(err, errlen, "neighbour table full");
	return 0;
}

/* Fills the snapshot's entry for one real (or fallback) server of service sc. */
static int build_real(struct lb_snapshot *snap, const struct lb_config *cfg,
		      const struct lb_service_cfg *sc, const struct lb_real_cfg *rc, char *err,
		      size_t errlen)
{
	struct snap_real *sr;
	int port = 0, slot = -1;

	if (rc->id == 0 || rc->id > snap->max_reals)
		return lb_err(err, errlen, "internal: real without id");
	if (real_egress(cfg, rc, &port, &slot, err, errlen) != 0)
		return -1;
	sr = real_slot_mut(snap, rc->id);
	if (sr == NULL)
		return lb_err(err, errlen, "out of memory");
	sr->gen = rc->gen;
	sr->service_id = (uint16_t)sc->id;
	sr->forward = rc->forward;
	sr->flags = rc->eff_out ? SNAP_REAL_OUT : 0;
	sr->neigh_slot = slot < 0 ? SNAP_NO_NEIGH_SLOT : (uint32_t)slot;
	sr->port_id = (uint16_t)port;
	sr->l4_port = rc->port;
	sr->u_threshold = rc->u_threshold;
	sr->l_threshold = rc->l_threshold;
	sr->weight = rc->eff_weight;
	sr->ip = rc->ip;
	sr->ops = xmit_ops_get(rc->forward);
	sr->l4_port_be = rte_cpu_to_be_16(rc->port);
	/* Port addresses are set before the first snapshot and never change. A port's one
	 * `address` may be IPv6: then IPv4 tunnels have no outer source. */
	const struct lb_port *egress = &lb_rt.ports[port];
	bool src4 = egress->has_address && egress->address.family == AF_INET;
	sr->xflags = src4 ? SNAP_REAL_TUN_SRC4 : 0;
	sr->tun_src4 = src4 ? egress->address.v4 : 0;
	return 0;
}

static uint8_t group_protos(const struct lb_service_cfg *sc)
{
	if (sc->protos)
		return sc->protos;
	return sc->proto == IPPROTO_TCP ? LB_PROTO_BIT_TCP : LB_PROTO_BIT_UDP;
}

/* Lookup keys a service group adds: every port of its ranges for each of its protocols. */
static uint32_t group_key_count(const struct lb_service_cfg *sc)
{
	uint32_t ports = 0;

	if (sc->port != 0)
		return 0;
	for (uint8_t r = 0; r < sc->n_port_ranges; r++)
		ports += (uint32_t)sc->port_ranges[r].hi - sc->port_ranges[r].lo + 1;
	return ports * (uint32_t)__builtin_popcount(group_protos(sc));
}

static void insert_group_keys(struct lookup_table *index, const struct lb_service_cfg *sc,
			      uint32_t idx)
{
	static const uint8_t protos[2] = {IPPROTO_TCP, IPPROTO_UDP};
	struct snap_service_key key;

	for (int p = 0; p < 2; p++) {
		if (!(group_protos(sc) & (1u << p)))
			continue;
		for (uint8_t r = 0; r < sc->n_port_ranges; r++)
			for (uint32_t port = sc->port_ranges[r].lo; port <= sc->port_ranges[r].hi; port++) {
				snap_service_key_make(&key, &sc->vip, protos[p], (uint16_t)port);
				(void)lookup_table_insert(index, &key, idx); /* -EEXIST: a plain service wins */
			}
	}
}

enum prev_state { PREV_REMOVED = 0, PREV_REPLACED, PREV_KEPT };

#define SNAP_OWNS_KEYS 0x1 /* service_index, vip_index, local_index */
#define SNAP_OWNS_NAT 0x2  /* nat_real_index */
#define SNAP_OWNS_ROLES 0x4 /* roles */

/* One build: the candidate, the published snapshot and the configuration it was built from. */
struct build_ctx {
	const struct lb_config *cfg, *prev_cfg;
	const struct lb_snapshot *prev;
	struct lb_snapshot *snap;
	struct snapshot_diff *diff;
	bool incremental;  /* prev's objects may be shared */
	int32_t *match;    /* [cfg->n_services]: index of the same service id in prev_cfg, or -1 */
	uint8_t *prev_state; /* [prev_cfg->n_services]: enum prev_state */
	uint32_t n_old_ids, cap_old_ids;
	uint32_t *old_ids; /* ids of the reals of prev's services that are not kept */
};

static uint64_t build_count;

/* What every service object depends on besides its own configuration. */
static bool globals_same(const struct lb_config *a, const struct lb_config *b)
{
	return a->expire_quiescent_template == b->expire_quiescent_template &&
	       a->n_static_neigh == b->n_static_neigh &&
	       (a->n_static_neigh == 0 ||
		memcmp(a->static_neigh, b->static_neigh,
		       a->n_static_neigh * sizeof(*a->static_neigh)) == 0);
}

/* Pairs each service with the previous one of the same id; decides which are kept as they are. */
static int match_services(struct build_ctx *c)
{
	const struct lb_config *cfg = c->cfg, *prev = c->prev_cfg;
	uint32_t *pos = NULL; /* previous index + 1 by service id, made when positions moved */
	int rc = 0;

	for (uint32_t i = 0; i < cfg->n_services; i++) {
		const struct lb_service_cfg *sc = &cfg->services[i];
		int32_t j = -1;
		if (i < prev->n_services && prev->services[i].id == sc->id) {
			j = (int32_t)i;
		} else {
			if (pos == NULL) {
				pos = calloc(lb_rt.max_services + 1, sizeof(*pos));
				if (pos == NULL) {
					rc = -1;
					break;
				}
				for (uint32_t k = 0; k < prev->n_services; k++)
					if (prev->services[k].id <= lb_rt.max_services)
						pos[prev->services[k].id] = k + 1;
			}
			if (sc->id <= lb_rt.max_services)
				j = (int32_t)pos[sc->id] - 1;
		}
		c->match[i] = j;
		/*
		 * An RPC candidate (cfg->incremental) marks every service its edits touched: the
		 * others are the running ones, byte for byte, and need no comparison.
		 */
		if (j >= 0)
			c->prev_state[j] = c->incremental &&
						   ((cfg->incremental && !sc->changed) ||
						    snap_service_cfg_same(sc, &prev->services[j]))
					   ? PREV_KEPT
					   : PREV_REPLACED;
	}
	free(pos);
	return rc;
}

/* Retires the previous objects not kept and clears their reals' entries. */
static int retire_previous(struct build_ctx *c, char *err, size_t errlen)
{
	struct lb_snapshot *snap = c->snap;

	for (uint32_t j = 0; j < c->prev_cfg->n_services; j++) {
		if (c->prev_state[j] == PREV_KEPT)
			continue;
		if (snap_garbage_add(&snap->retired, snap_service_free, c->prev->services[j]) != 0)
			return lb_err(err, errlen, "out of memory");
		LB_SERVICE_FOREACH_DEST(&c->prev_cfg->services[j], r) {
			if (r->id == 0 || r->id > snap->max_reals)
				continue;
			if (c->n_old_ids == c->cap_old_ids) {
				uint32_t cap = c->cap_old_ids ? c->cap_old_ids * 2 : 64;
				uint32_t *ids = realloc(c->old_ids, cap * sizeof(*ids));
				if (ids == NULL)
					return lb_err(err, errlen, "out of memory");
				c->old_ids = ids;
				c->cap_old_ids = cap;
			}
			c->old_ids[c->n_old_ids++] = r->id;
			struct snap_real *sr = c->incremental ? real_slot_mut(snap, r->id) : NULL;
			if (c->incremental && sr == NULL)
				return lb_err(err, errlen, "out of memory");
			if (sr != NULL)
				memset(sr, 0, sizeof(*sr));
		}
	}
	if (!c->incremental) /* the table starts empty: every previous page goes */
		for (uint32_t p = 0; p <= (snap->max_reals >> SNAP_REAL_PAGE_SHIFT); p++)
			if (c->prev->real_pages[p] != zero_page &&
			    snap_garbage_add(&snap->retired, free, c->prev->real_pages[p]) != 0)
				return lb_err(err, errlen, "out of memory");
	return 0;
}

/* Shares the kept services' objects and builds the others (and their reals' entries). */
static int build_services(struct build_ctx *c, char *err, size_t errlen)
{
	struct lb_snapshot *snap = c->snap;

	for (uint32_t i = 0; i < c->cfg->n_services; i++) {
		const struct lb_service_cfg *sc = &c->cfg->services[i];
		int32_t j = c->match ? c->match[i] : -1;
		if (j >= 0 && c->prev_state[j] == PREV_KEPT) {
			snap->services[i] = c->prev->services[j];
			continue;
		}
		struct snap_sched *reuse = NULL;
		if (j >= 0 && c->incremental && snap_sched_cfg_same(sc, &c->prev_cfg->services[j]))
			reuse = c->prev->services[j]->sched_obj;
		snap->services[i] = snap_service_build(c->cfg, sc, reuse, snap->build, err, errlen);
		if (snap->services[i] == NULL)
			return -1;
		if (j >= 0)
			snap->services[i]->locals_moved =
				snap_service_locals_moved(c->prev->services[j], sc);
		c->diff->n_rebuilt_services++;
		c->diff->n_rebuilt_scheds += reuse == NULL;
		LB_SERVICE_FOREACH_DEST(sc, r)
			if (build_real(snap, c->cfg, sc, r, err, errlen) != 0)
				return -1;
	}
	for (uint32_t j = 0; c->prev != NULL && j < c->prev_cfg->n_services; j++) {
		if (c->prev_state[j] == PREV_KEPT)
			continue; /* without touching the object: a cache miss per service */
		struct snap_sched *s = c->prev->services[j]->sched_obj;
		if (s->carried_build != snap->build &&
		    snap_garbage_add(&snap->retired, snap_sched_free, s) != 0)
			return lb_err(err, errlen, "out of memory");
	}
	return 0;
}

/* Whether the service, VIP and local-address keys (and service positions) are all unchanged. */
static bool keys_unchanged(const struct build_ctx *c)
{
	if (!c->incremental || c->cfg->n_services != c->prev_cfg->n_services)
		return false;
	for (uint32_t i = 0; i < c->cfg->n_services; i++)
		if (c->match[i] != (int32_t)i ||
		    (c->prev_state[i] != PREV_KEPT &&
		     !snap_service_keys_same(&c->cfg->services[i], &c->prev_cfg->services[i])))
			return false;
	return true;
}

/* Whether the set of nat reals is unchanged. */
static bool nat_keys_unchanged(const struct build_ctx *c)
{
	static const struct lb_service_cfg none;

	if (!c->incremental)
		return false;
	for (uint32_t i = 0; i < c->cfg->n_services; i++) {
		int32_t j = c->match[i];
		if ((j < 0 || c->prev_state[j] != PREV_KEPT) &&
		    !snap_service_nat_keys_same(&c->cfg->services[i],
						j < 0 ? &none : &c->prev_cfg->services[j]))
			return false;
	}
	for (uint32_t j = 0; j < c->prev_cfg->n_services; j++)
		if (c->prev_state[j] == PREV_REMOVED &&
		    !snap_service_nat_keys_same(&none, &c->prev_cfg->services[j]))
			return false;
	return true;
}

static int build_key_indexes(struct lb_snapshot *snap, const struct lb_config *cfg)
{
	uint32_t n_keys = cfg->n_services, n_locals = 0;
	struct snap_service_key key;

	for (uint32_t i = 0; i < cfg->n_services; i++) {
		n_keys += group_key_count(&cfg->services[i]);
		n_locals += cfg->services[i].n_local_addrs;
	}
	snap->owned_indexes |= SNAP_OWNS_KEYS;
	if (lookup_table_init(&snap->service_index, n_keys, sizeof(struct snap_service_key)) ||
	    lookup_table_init(&snap->vip_index, cfg->n_services, sizeof(struct snap_service_key)) ||
	    lookup_table_init(&snap->local_index, n_locals, sizeof(struct snap_service_key)))
		return -1;
	for (uint32_t i = 0; i < cfg->n_services; i++) {
		const struct lb_service_cfg *sc = &cfg->services[i];
		snap_service_key_make(&key, &sc->vip, sc->proto, sc->port);
		if (sc->port != 0 && lookup_table_insert(&snap->service_index, &key, i) != 0)
			return -1; /* duplicates are refused before */
		snap_service_key_make(&key, &sc->vip, 0, 0);
		(void)lookup_table_insert(&snap->vip_index, &key, 1); /* -EEXIST is fine */
		for (uint8_t l = 0; l < sc->n_local_addrs; l++) {
			snap_service_key_make(&key, &sc->local_addrs[l], 0, 0);
			(void)lookup_table_insert(&snap->local_index, &key, 1);
		}
	}
	/* Groups after every plain service: VIP:port services win over a group's ranges. */
	for (uint32_t i = 0; i < cfg->n_services; i++)
		if (cfg->services[i].port == 0)
			insert_group_keys(&snap->service_index, &cfg->services[i], i);
	return 0;
}

static int build_nat_index(struct lb_snapshot *snap, const struct lb_config *cfg)
{
	struct snap_service_key key;
	uint32_t n_nat = 0;

	for (uint32_t i = 0; i < cfg->n_services; i++)
		LB_SERVICE_FOREACH_DEST(&cfg->services[i], r)
			n_nat += lb_forward_steers_by_client(r->forward); /* sized to what it holds */
	snap->owned_indexes |= SNAP_OWNS_NAT;
	if (lookup_table_init(&snap->nat_real_index, n_nat, sizeof(struct snap_service_key)))
		return -1;
	for (uint32_t i = 0; i < cfg->n_services; i++) {
		const struct lb_service_cfg *sc = &cfg->services[i];
		LB_SERVICE_FOREACH_DEST(sc, r) {
			if (!lb_forward_steers_by_client(r->forward))
				continue;
			/* Group reals have port 0 (the client's port is kept): match any source port. */
			snap_service_key_make(&key, &r->ip, sc->port ? sc->proto : 0, r->port);
			(void)lookup_table_insert(&snap->nat_real_index, &key, 1);
		}
	}
	return 0;
}

/* Index slots of the previous snapshot are retired when this one builds its own. */
static int retire_slots(struct lb_snapshot *snap, const struct lookup_table *t)
{
	return t->slots == NULL ? 0 : snap_garbage_add(&snap->retired, free, t->slots);
}

/* The roles table, shared when neither the service keys nor the nat reals changed. */
static int build_roles(struct build_ctx *c, bool same_keys, bool same_nat)
{
	struct lb_snapshot *snap = c->snap;

	if (same_keys && same_nat) {
		snap->roles = c->prev->roles;
		return 0;
	}
	snap->owned_indexes |= SNAP_OWNS_ROLES;
	if (snap_roles_build(&snap->roles, c->cfg) != 0)
		return -1;
	return c->prev == NULL || c->prev->roles.slots == NULL
		       ? 0
		       : snap_garbage_add(&snap->retired, free, c->prev->roles.slots);
}

/* Shares the lookup tables whose keys did not change, builds the others. */
static int build_indexes(struct build_ctx *c, char *err, size_t errlen)
{
	struct lb_snapshot *snap = c->snap;
	const struct lb_snapshot *prev = c->prev;
	bool same_keys = keys_unchanged(c), same_nat = nat_keys_unchanged(c);

	if (same_keys) {
		snap->service_index = prev->service_index;
		snap->vip_index = prev->vip_index;
		snap->local_index = prev->local_index;
	} else if (build_key_indexes(snap, c->cfg) != 0 ||
		   (prev != NULL && (retire_slots(snap, &prev->service_index) ||
				     retire_slots(snap, &prev->vip_index) ||
				     retire_slots(snap, &prev->local_index)))) {
		return lb_err(err, errlen, "out of memory (service index)");
	}
	if (same_nat)
		snap->nat_real_index = prev->nat_real_index;
	else if (build_nat_index(snap, c->cfg) != 0 ||
		 (prev != NULL && retire_slots(snap, &prev->nat_real_index)))
		return lb_err(err, errlen, "out of memory (nat index)");
	if (build_roles(c, same_keys, same_nat) != 0)
		return lb_err(err, errlen, "out of memory (address roles)");
	return 0;
}

/* The ids the new snapshot no longer has, for the config store to release after the grace. */
static int fill_diff(struct build_ctx *c)
{
	struct snapshot_diff *d = c->diff;
	uint32_t n_prev = c->prev_cfg ? c->prev_cfg->n_services : 0;

	d->removed_services = calloc(n_prev + 1, sizeof(uint32_t));
	d->removed_reals = calloc(c->n_old_ids + 1, sizeof(uint32_t));
	if (d->removed_services == NULL || d->removed_reals == NULL)
		return -1;
	for (uint32_t j = 0; j < n_prev; j++)
		if (c->prev_state[j] == PREV_REMOVED)
			d->removed_services[d->n_removed_services++] = c->prev_cfg->services[j].id;
	for (uint32_t k = 0; k < c->n_old_ids; k++)
		if (snap_real_get(c->snap, c->old_ids[k])->gen == 0)
			d->removed_reals[d->n_removed_reals++] = c->old_ids[k];
	return 0;
}

/* The snapshot's own arrays, its real table starting as the previous one's (or empty). */
static struct lb_snapshot *snapshot_alloc(const struct build_ctx *c)
{
	struct lb_snapshot *snap = calloc(1, sizeof(*snap));
	uint32_t n_pages = (lb_rt.max_reals >> SNAP_REAL_PAGE_SHIFT) + 1;

	if (zero_page == NULL)
		zero_page = calloc(1, sizeof(*zero_page));
	if (snap == NULL || zero_page == NULL)
		goto fail;
	snap->build = ++build_count;
	snap->generation = lb_rt.snapshot_generation + 1;
	snap->max_reals = lb_rt.max_reals;
	snap->expire_nodest_conn = c->cfg->expire_nodest_conn;
	for (int s = 0; s < LB_CONN_STATE_COUNT; s++)
		snap->timeout_tsc[s] = (uint64_t)c->cfg->timeouts.by_state[s] * lb_rt.tsc_hz;
	snap->n_services = c->cfg->n_services;
	snap->services = calloc(c->cfg->n_services + 1, sizeof(*snap->services));
	snap->real_pages = malloc(n_pages * sizeof(*snap->real_pages));
	if (snap->services == NULL || snap->real_pages == NULL)
		goto fail;
	for (uint32_t p = 0; p < n_pages; p++)
		snap->real_pages[p] = c->incremental ? c->prev->real_pages[p] : zero_page;
	return snap;
fail:
	if (snap != NULL) {
		free(snap->services);
		free(snap->real_pages);
		free(snap);
	}
	return NULL;
}

struct lb_snapshot *snapshot_build(const struct lb_config *cfg, const struct lb_config *prev_cfg,
				   struct snapshot_diff *diff, char *err, size_t errlen)
{
	struct build_ctx c = {.cfg = cfg, .prev = lb_rt.snapshot, .diff = diff};
	uint32_t n_prev = 0;

	memset(diff, 0, sizeof(*diff));
	if (c.prev != NULL) {
		if (prev_cfg == NULL || prev_cfg->n_services != c.prev->n_services) {
			lb_err(err, errlen, "internal: previous configuration missing");
			return NULL;
		}
		c.prev_cfg = prev_cfg;
		n_prev = prev_cfg->n_services;
		c.incremental = globals_same(cfg, prev_cfg);
	}
	c.match = malloc((cfg->n_services + 1) * sizeof(*c.match));
	c.prev_state = calloc(n_prev + 1, 1);
	c.snap = c.match && c.prev_state ? snapshot_alloc(&c) : NULL;
	if (c.snap == NULL || (c.prev != NULL && match_services(&c) != 0)) {
		lb_err(err, errlen, "out of memory");
		goto fail;
	}
	if (c.prev == NULL)
		for (uint32_t i = 0; i < cfg->n_services; i++)
			c.match[i] = -1;
	if ((c.prev != NULL && retire_previous(&c, err, errlen) != 0) ||
	    build_services(&c, err, errlen) != 0 || build_indexes(&c, err, errlen) != 0)
		goto fail;
	if (fill_diff(&c) != 0) {
		lb_err(err, errlen, "out of memory");
		goto fail;
	}
	free(c.match);
	free(c.prev_state);
	free(c.old_ids);
	return c.snap;
fail:
	snapshot_discard(c.snap);
	snapshot_diff_free(diff);
	free(c.match);
	free(c.prev_state);
	free(c.old_ids);
	return NULL;
}

void snapshot_diff_free(struct snapshot_diff *diff)
{
	free(diff->removed_services);
	free(diff->removed_reals);
	memset(diff, 0, sizeof(*diff));
}

void snapshot_discard(struct lb_snapshot *snap)
{
	if (snap == NULL)
		return;
	for (uint32_t i = 0; i < snap->n_services; i++) {
		struct snap_service *ss = snap->services[i];
		if (ss == NULL || ss->born_build != snap->build)
			continue;
		if (ss->sched_obj->born_build == snap->build)
			snap_sched_free(ss->sched_obj);
		snap_service_free(ss);
	}
	for (uint32_t p = 0; p <= (snap->max_reals >> SNAP_REAL_PAGE_SHIFT); p++)
		if (snap->real_pages[p]->born_build == snap->build)
			free(snap->real_pages[p]);
	if (snap->owned_indexes & SNAP_OWNS_KEYS) {
		lookup_table_free(&snap->service_index);
		lookup_table_free(&snap->vip_index);
		lookup_table_free(&snap->local_index);
	}
	if (snap->owned_indexes & SNAP_OWNS_NAT)
		lookup_table_free(&snap->nat_real_index);
	if (snap->owned_indexes & SNAP_OWNS_ROLES)
		snap_roles_free(&snap->roles);
	snap_garbage_drop(snap->retired); /* the previous snapshot still uses all of it */
	free(snap->services);
	free(snap->real_pages);
	free(snap);
}
