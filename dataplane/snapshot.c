#include "snapshot.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "neigh.h"

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
	for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
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

/* Fills the snapshot's entry for one real (or fallback) server of service sc. */
static int build_real(struct lb_snapshot *snap, const struct lb_config *cfg,
		      const struct lb_service_cfg *sc, const struct lb_real_cfg *rc, char *err,
		      size_t errlen)
{
	char ab[LB_ADDR_STRLEN];
	struct snap_real *sr;
	int port;

	if (rc->id == 0 || rc->id > snap->max_reals)
		return lb_err(err, errlen, "internal: real without id");
	port = snapshot_egress_port(&rc->ip);
	if (port < 0 && has_static_neighbour(cfg, &rc->ip))
		port = 0;
	if (port < 0)
		return lb_err(err, errlen,
			      "real %s is on none of the appliance's subnets (ports[].address) and has "
			      "no static neighbour: real servers must be on-link",
			      lb_addr_format(&rc->ip, ab, sizeof(ab)));
	int slot = neigh_table_slot(lb_rt.neigh, &rc->ip, (uint16_t)port);
	if (slot < 0)
		return lb_err(err, errlen, "neighbour table full");
	sr = &snap->reals[rc->id];
	sr->gen = rc->gen;
	sr->service_id = (uint16_t)sc->id;
	sr->forward = rc->forward;
	sr->neigh_slot = (uint32_t)slot;
	sr->port_id = (uint16_t)port;
	sr->l4_port = rc->port;
	sr->u_threshold = rc->u_threshold;
	sr->l_threshold = rc->l_threshold;
	sr->weight = rc->weight;
	sr->ip = rc->ip;
	return 0;
}

static int build_service(struct lb_snapshot *snap, const struct lb_config *cfg, uint32_t idx,
			 char *err, size_t errlen)
{
	const struct lb_service_cfg *sc = &cfg->services[idx];
	struct snap_service *ss = &snap->services[idx];
	struct sched_params params = {.flags = sc->sched_flags, .table_size = sc->mh_table_size};

	ss->id = sc->id;
	ss->proto = sc->proto;
	ss->forward = sc->forward;
	ss->ops = sc->ops;
	ss->persistent_s = sc->persistent_s;
	ss->netmask_len = sc->netmask_len;
	ss->expire_quiescent_template = sc->expire_quiescent_template < 0
						? cfg->expire_quiescent_template
						: sc->expire_quiescent_template != 0;
	ss->vip = sc->vip;
	ss->port = sc->port;
	ss->steer_by_client = lb_service_uses_forward(sc, LB_FWD_NAT);
	ss->client_addr_mode = sc->client_addr_mode;
	ss->n_local_addrs = sc->n_local_addrs;
	memcpy(ss->local_addrs, sc->local_addrs, sizeof(ss->local_addrs));
	ss->sched = sched_find(sc->scheduler);
	if (ss->sched == NULL)
		return lb_err(err, errlen, "unknown scheduler %s", sc->scheduler);
	ss->n_dests = sc->n_reals;
	ss->dests = calloc(sc->n_reals + 1, sizeof(*ss->dests));
	ss->dest_real_ids = calloc(sc->n_reals + 1, sizeof(*ss->dest_real_ids));
	if (ss->dests == NULL || ss->dest_real_ids == NULL)
		return lb_err(err, errlen, "out of memory");
	for (uint32_t j = 0; j < sc->n_reals; j++) {
		const struct lb_real_cfg *rc = &sc->reals[j];
		if (build_real(snap, cfg, sc, rc, err, errlen) != 0)
			return -1;
		ss->dests[j].weight = rc->weight;
		ss->dests[j].addr = rc->ip;
		ss->dests[j].port = rc->port;
		ss->dest_real_ids[j] = rc->id;
		if (rc->u_threshold != 0)
			ss->has_thresholds = true;
	}
	if (sc->has_fallback) {
		if (build_real(snap, cfg, sc, &sc->fallback, err, errlen) != 0)
			return -1;
		ss->fallback_real_id = sc->fallback.id;
	}
	if (ss->sched->init != NULL) {
		int rc = ss->sched->init(&ss->sched_shared, ss->dests, ss->n_dests, &params);
		if (rc != 0)
			return lb_err(err, errlen, "scheduler %s: %s", sc->scheduler, strerror(-rc));
	}
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

static void insert_group_keys(struct lb_snapshot *snap, const struct lb_service_cfg *sc,
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
				(void)lookup_table_insert(&snap->service_index, &key, idx); /* -EEXIST: a plain service wins */
			}
	}
}

struct lb_snapshot *snapshot_build(const struct lb_config *cfg, char *err, size_t errlen)
{
	struct lb_snapshot *snap = calloc(1, sizeof(*snap));
	size_t state_size = 0;

	if (snap == NULL) {
		lb_err(err, errlen, "out of memory");
		return NULL;
	}
	uint32_t n_keys = cfg->n_services, n_locals = 0, n_nat = 0;
	for (uint32_t i = 0; i < cfg->n_services; i++) {
		const struct lb_service_cfg *sc = &cfg->services[i];
		n_keys += group_key_count(sc);
		n_locals += sc->n_local_addrs;
		LB_SERVICE_FOREACH_DEST(sc, r)
			n_nat += r->forward == LB_FWD_NAT; /* sized to what it holds: often nothing */
	}
	snap->max_reals = lb_rt.max_reals;
	snap->expire_nodest_conn = cfg->expire_nodest_conn;
	snap->n_services = cfg->n_services;
	snap->services = calloc(cfg->n_services + 1, sizeof(*snap->services));
	snap->reals = calloc(lb_rt.max_reals + 1, sizeof(*snap->reals));
	if (snap->services == NULL || snap->reals == NULL ||
	    lookup_table_init(&snap->service_index, n_keys, sizeof(struct snap_service_key)) ||
	    lookup_table_init(&snap->vip_index, cfg->n_services, sizeof(struct snap_service_key)) ||
	    lookup_table_init(&snap->local_index, n_locals, sizeof(struct snap_service_key)) ||
	    lookup_table_init(&snap->nat_real_index, n_nat, sizeof(struct snap_service_key))) {
		lb_err(err, errlen, "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < cfg->n_services; i++) {
		const struct lb_service_cfg *sc = &cfg->services[i];
		struct snap_service_key key;

		if (build_service(snap, cfg, i, err, errlen) != 0)
			goto fail;
		snap_service_key_make(&key, &sc->vip, sc->proto, sc->port);
		if (sc->port != 0 && lookup_table_insert(&snap->service_index, &key, i) != 0) {
			lb_err(err, errlen, "duplicate service");
			goto fail;
		}
		snap_service_key_make(&key, &sc->vip, 0, 0);
		(void)lookup_table_insert(&snap->vip_index, &key, 1); /* -EEXIST is fine */
		for (uint8_t l = 0; l < sc->n_local_addrs; l++) {
			snap_service_key_make(&key, &sc->local_addrs[l], 0, 0);
			(void)lookup_table_insert(&snap->local_index, &key, 1);
		}
		LB_SERVICE_FOREACH_DEST(sc, r) {
			if (r->forward != LB_FWD_NAT)
				continue;
			/* Group reals have port 0 (the client's port is kept): match any source port. */
			snap_service_key_make(&key, &r->ip, sc->port ? sc->proto : 0, r->port);
			(void)lookup_table_insert(&snap->nat_real_index, &key, 1);
		}
		snap->services[i].sched_state_offset = (uint32_t)state_size;
		state_size += RTE_ALIGN_CEIL(snap->services[i].sched->lcore_state_size, 8);
	}
	/* Groups after every plain service: VIP:port services win over a group's ranges. */
	for (uint32_t i = 0; i < cfg->n_services; i++)
		if (cfg->services[i].port == 0)
			insert_group_keys(snap, &cfg->services[i], i);
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		/* One block per worker on its own cache lines: no false sharing between lcores. */
		snap->sched_state[w] = rte_zmalloc("sched_state", state_size + 8, RTE_CACHE_LINE_SIZE);
		if (snap->sched_state[w] == NULL) {
			lb_err(err, errlen, "out of memory (scheduler state)");
			goto fail;
		}
	}
	for (int s = 0; s < LB_CONN_STATE_COUNT; s++)
		snap->timeout_tsc[s] = (uint64_t)cfg->timeouts.by_state[s] * lb_rt.tsc_hz;
	snap->generation = lb_rt.snapshot_generation + 1;
	return snap;
fail:
	snapshot_free(snap);
	return NULL;
}

void snapshot_publish(struct lb_snapshot *snap)
{
	struct lb_snapshot *old = lb_rt.snapshot;

	__atomic_store_n(&lb_rt.snapshot, snap, __ATOMIC_RELEASE);
	lb_rt.snapshot_generation = snap->generation;
	/* Every worker that was online has passed a quiescent state: nobody reads `old` now. */
	rte_rcu_qsbr_synchronize(lb_rt.rcu, RTE_QSBR_THRID_INVALID);
	snapshot_free(old);
}

void snapshot_free(struct lb_snapshot *snap)
{
	if (snap == NULL)
		return;
	for (uint32_t i = 0; snap->services != NULL && i < snap->n_services; i++) {
		struct snap_service *ss = &snap->services[i];
		if (ss->sched != NULL && ss->sched->release != NULL)
			ss->sched->release(ss->sched_shared);
		free(ss->dests);
		free(ss->dest_real_ids);
	}
	free(snap->services);
	free(snap->reals);
	lookup_table_free(&snap->service_index);
	lookup_table_free(&snap->vip_index);
	lookup_table_free(&snap->local_index);
	lookup_table_free(&snap->nat_real_index);
	for (int w = 0; w < LB_MAX_WORKERS; w++)
		rte_free(snap->sched_state[w]);
	free(snap);
}
