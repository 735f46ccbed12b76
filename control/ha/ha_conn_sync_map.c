/*
 * Connection sync: services and reals are ids on each appliance and keys on the wire. The master
 * names them by (VIP, port, protocol) and address:port; the backup finds its own ids for them
 * in its published snapshot, the way its workers find a packet's service.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "flow_owner.h"
#include "ha_conn_record.h"
#include "ha_conn_sync_internal.h"

/* Service objects of the published snapshot by id, rebuilt when another snapshot is seen. */
static const struct snap_service **by_id;
static uint64_t by_id_generation = UINT64_MAX;

const struct snap_service *hcs_service_by_id(const struct lb_snapshot *snap, uint32_t id)
{
	if (by_id == NULL) {
		by_id = calloc(lb_rt.max_services + 1, sizeof(*by_id));
		if (by_id == NULL)
			return NULL;
	}
	if (by_id_generation != snap->generation) {
		memset(by_id, 0, (lb_rt.max_services + 1) * sizeof(*by_id));
		for (uint32_t i = 0; i < snap->n_services; i++)
			if (snap->services[i]->id <= lb_rt.max_services)
				by_id[snap->services[i]->id] = snap->services[i];
		by_id_generation = snap->generation;
	}
	return id <= lb_rt.max_services ? by_id[id] : NULL;
}

static uint8_t wire_family(uint8_t af)
{
	return af == AF_INET6 ? 6 : 4;
}

static uint8_t af_of(uint8_t wire)
{
	return wire == 6 ? AF_INET6 : AF_INET;
}

/* The real of the master's connection: it must still be the one the connection was made with. */
static const struct snap_real *live_real(const struct lb_snapshot *snap, uint32_t id, uint32_t gen,
					 uint16_t service_id)
{
	if (id == 0 || id > snap->max_reals)
		return NULL;
	const struct snap_real *r = snap_real_get(snap, id);
	if (r->gen == 0 || r->gen != gen || r->service_id != service_id ||
	    r->forward == LB_FWD_LOCAL)
		return NULL;
	return r;
}

static void record_service(struct ha_conn_record *o, const struct snap_service *ss,
			   const struct snap_real *r)
{
	o->svc_proto = ss->proto;
	o->svc_port = ss->port;
	o->forward = r->forward;
	o->real_family = wire_family(r->ip.family);
	flow_key_set_addr(o->real_addr, &r->ip);
	o->real_port = r->l4_port;
}

bool hcs_record_from_conn(const struct lb_snapshot *snap, const struct hcs_conn *c,
			  struct ha_conn_record *o)
{
	const struct snap_service *ss = hcs_service_by_id(snap, c->service_id);
	const struct snap_real *r = live_real(snap, c->real_id, c->real_gen, c->service_id);

	if (ss == NULL || r == NULL || c->forward != r->forward)
		return false;
	memset(o, 0, sizeof(*o));
	o->kind = HA_REC_CONN;
	record_service(o, ss, r);
	o->event = c->event;
	o->state = c->state;
	o->worker = c->worker;
	o->family = wire_family(c->key.family);
	o->proto = c->key.proto;
	o->timeout_s = c->event == HA_EV_ENDED ? 0 : c->timeout_s;
	o->client_sport = rte_be_to_cpu_16(c->key.sport);
	o->client_dport = rte_be_to_cpu_16(c->key.dport);
	memcpy(o->client_src, c->key.src, 16);
	memcpy(o->client_dst, c->key.dst, 16);
	if (c->has_reply && lb_forward_method_get(c->forward)->reply_key) {
		o->flags = HA_REC_F_REPLY;
		o->reply_sport = rte_be_to_cpu_16(c->reply_key.sport);
		o->reply_dport = rte_be_to_cpu_16(c->reply_key.dport);
		memcpy(o->reply_src, c->reply_key.src, 16);
		memcpy(o->reply_dst, c->reply_key.dst, 16);
	} else if (lb_forward_method_get(c->forward)->reply_key && c->event != HA_EV_ENDED) {
		return false; /* never for a live nat/fnat flow: its reply key is its second entry */
	}
	return true;
}

bool hcs_record_from_template(const struct lb_snapshot *snap, const struct persist_template *t,
			      uint8_t event, uint32_t now_s, struct ha_conn_record *o)
{
	const struct snap_service *ss = hcs_service_by_id(snap, t->service_id);

	if (ss == NULL || t->real_id == 0 || t->real_id > snap->max_reals)
		return false;
	const struct snap_real *r = snap_real_get(snap, t->real_id);
	if (r->gen == 0 || (r->gen & 0xff) != t->real_gen8 || r->service_id != t->service_id ||
	    r->forward == LB_FWD_LOCAL)
		return false;
	memset(o, 0, sizeof(*o));
	o->kind = HA_REC_PERSIST;
	record_service(o, ss, r);
	o->event = event;
	o->family = wire_family(t->family);
	o->proto = ss->proto;
	o->timeout_s = t->expires_s > now_s ? t->expires_s - now_s : 1;
	memcpy(o->client_src, t->client, 16);
	flow_key_set_addr(o->client_dst, &ss->vip);
	return true;
}

/* The backup's service for a record: the one a packet of the connection would find. */
static const struct snap_service *service_of(const struct lb_snapshot *snap,
					     const struct ha_conn_record *r)
{
	struct snap_service_key k;
	struct lb_addr vip = flow_key_addr(af_of(r->family), r->client_dst);
	uint16_t port = r->kind == HA_REC_CONN ? r->client_dport : r->svc_port;
	uint8_t proto = r->kind == HA_REC_CONN ? r->proto : r->svc_proto;

	snap_service_key_make(&k, &vip, proto, port);
	int64_t idx = lookup_table_find(&snap->service_index, &k);
	if (idx < 0)
		return NULL;
	const struct snap_service *ss = snap->services[idx];
	if (ss->port != r->svc_port || ss->proto != r->svc_proto)
		return NULL;
	return ss;
}

static uint32_t real_of(const struct lb_snapshot *snap, const struct snap_service *ss,
			const struct ha_conn_record *r)
{
	struct lb_addr a = flow_key_addr(af_of(r->real_family), r->real_addr);

	for (uint32_t i = 0; i <= ss->n_dests; i++) {
		uint32_t id = i < ss->n_dests ? ss->dest_real_ids[i] : ss->fallback_real_id;
		if (id == 0)
			continue;
		const struct snap_real *sr = snap_real_get(snap, id);
		if (sr->gen != 0 && sr->l4_port == r->real_port && lb_addr_equal(&sr->ip, &a))
			return id;
	}
	return 0;
}

static bool is_local_addr_of(const struct snap_service *ss, const struct lb_addr *a)
{
	for (uint8_t i = 0; i < ss->n_local_addrs; i++)
		if (lb_addr_equal(&ss->local_addrs[i], a))
			return true;
	return false;
}

static void key_from(struct flow_key *k, uint8_t family, uint8_t proto, uint16_t sport,
		     uint16_t dport, const uint8_t src[16], const uint8_t dst[16])
{
	memset(k, 0, sizeof(*k));
	k->family = af_of(family);
	k->proto = proto;
	k->sport = rte_cpu_to_be_16(sport);
	k->dport = rte_cpu_to_be_16(dport);
	memcpy(k->src, src, 16);
	memcpy(k->dst, dst, 16);
}

/* The worker that will see the connection's packets here. */
static enum ha_conn_refuse owner_of(const struct snap_service *ss, const struct ha_conn_record *r,
				    uint16_t *worker)
{
	if (r->worker >= lb_rt.n_workers)
		return HA_REFUSE_WORKER;
	*worker = r->worker;
	if (r->forward == LB_FWD_NAT && ss->steer_by_client) {
		/* nat flows belong to a hash of the client: the same function on both sides */
		struct lb_addr client = flow_key_addr(af_of(r->family), r->client_src);
		*worker = owner_by_client(&client, r->client_sport);
	} else if (r->forward == LB_FWD_FNAT && (r->flags & HA_REC_F_REPLY)) {
		struct lb_addr local = flow_key_addr(af_of(r->real_family), r->reply_dst);
		int owner = ha_fnat_port_owner(lb_rt.n_workers, lb_rt.fnat_port_min,
					       lb_rt.fnat_port_max, r->reply_dport);
		/* the local port must be in this worker's slice, on one of the service's addresses */
		if (owner != r->worker || !is_local_addr_of(ss, &local))
			return HA_REFUSE_FNAT_PORT;
	}
	return HA_REFUSE_COUNT;
}

enum ha_conn_refuse hcs_install_from_record(const struct lb_snapshot *snap,
					    const struct ha_conn_record *r,
					    struct conn_install_req *out, uint16_t *worker)
{
	const struct snap_service *ss = service_of(snap, r);

	memset(out, 0, sizeof(*out));
	key_from(&out->key, r->family, r->proto, r->client_sport, r->client_dport, r->client_src,
		 r->client_dst);
	if (r->event == HA_EV_ENDED) {
		/* the key alone finds it: on the worker the record names (nat: the client's owner) */
		out->op = CONN_INSTALL_REMOVE;
		if (r->worker >= lb_rt.n_workers)
			return HA_REFUSE_WORKER;
		*worker = r->worker;
		if (r->forward == LB_FWD_NAT) {
			struct lb_addr client = flow_key_addr(af_of(r->family), r->client_src);
			*worker = owner_by_client(&client, r->client_sport);
		}
		return HA_REFUSE_COUNT;
	}
	if (ss == NULL)
		return HA_REFUSE_NO_SERVICE;
	uint32_t real_id = real_of(snap, ss, r);
	if (real_id == 0)
		return HA_REFUSE_NO_REAL;
	const struct snap_real *sr = snap_real_get(snap, real_id);
	if (sr->forward != r->forward || r->forward == LB_FWD_LOCAL)
		return HA_REFUSE_FORWARD;
	if (ss->ops)
		return HA_REFUSE_BAD_RECORD; /* one-packet scheduling keeps no connections */
	enum ha_conn_refuse why = owner_of(ss, r, worker);
	if (why != HA_REFUSE_COUNT)
		return why;
	out->op = CONN_INSTALL_ADD;
	out->state = r->state;
	out->forward = r->forward;
	out->service_id = (uint16_t)ss->id;
	out->real_id = real_id;
	out->real_gen = sr->gen;
	out->timeout_s = r->timeout_s;
	if (r->flags & HA_REC_F_REPLY) {
		out->has_reply = 1;
		key_from(&out->reply_key, r->real_family, r->proto, r->reply_sport, r->reply_dport,
			 r->reply_src, r->reply_dst);
	}
	return HA_REFUSE_COUNT;
}

enum ha_conn_refuse hcs_template_store(const struct lb_snapshot *snap,
				       const struct ha_conn_record *r, uint32_t now_s)
{
	if (r->event == HA_EV_ENDED)
		return HA_REFUSE_COUNT; /* templates lapse by themselves, here as on the master */
	const struct snap_service *ss = service_of(snap, r);
	if (ss == NULL)
		return HA_REFUSE_NO_SERVICE;
	if (ss->persistent_s == 0)
		return HA_REFUSE_BAD_RECORD; /* not persistent here: nothing would read it */
	uint32_t real_id = real_of(snap, ss, r);
	if (real_id == 0)
		return HA_REFUSE_NO_REAL;
	struct persist_key k;
	struct lb_addr client = flow_key_addr(af_of(r->family), r->client_src);
	persist_key_make(&k, ss->id, &client, ss->netmask_len);
	if (!persist_table_store(lb_rt.persist, &k, real_id, snap_real_get(snap, real_id)->gen, now_s,
				 r->timeout_s))
		return HA_REFUSE_TABLE_FULL;
	return HA_REFUSE_COUNT;
}
