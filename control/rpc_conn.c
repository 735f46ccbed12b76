/* conn.list */
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include "config_store.h"
#include "conn_dump.h"
#include "persist_table.h"
#include "rpc_methods.h"
#include "tcp_state.h"

#define CONN_LIST_DEFAULT 1000
#define CONN_LIST_MAX 100000

static struct lb_addr key_addr(uint8_t family, const uint8_t *bytes)
{
	struct lb_addr a = {0};

	a.family = family;
	if (family == AF_INET)
		memcpy(&a.v4, bytes, 4);
	else
		memcpy(a.v6, bytes, 16);
	return a;
}

/* The configured real with this id and generation, or NULL when it was removed. */
static const struct lb_real_cfg *real_by_id(const struct lb_config *c, uint32_t id, uint32_t gen)
{
	for (uint32_t i = 0; i < c->n_services; i++)
		for (uint32_t j = 0; j < c->services[i].n_reals; j++)
			if (c->services[i].reals[j].id == id && c->services[i].reals[j].gen == gen)
				return &c->services[i].reals[j];
	return NULL;
}

static const struct lb_service_cfg *service_by_id(const struct lb_config *c, uint32_t id)
{
	for (uint32_t i = 0; i < c->n_services; i++)
		if (c->services[i].id == id)
			return &c->services[i];
	return NULL;
}

/*
 * Appends the live persistence templates, as ipvsadm -Lnc shows them: client port 0, state
 * NONE. The table is read while workers may write it; a slot changing under us is skipped.
 */
static bool list_templates(const struct lb_config *c, json_t *list, uint32_t limit, uint64_t now)
{
	const struct persist_table *t = lb_rt.persist;
	uint32_t now_s = (uint32_t)(now / lb_rt.tsc_hz);

	for (uint32_t i = 0; i <= t->mask; i++) {
		const struct persist_slot *s = &t->slots[i];
		uint64_t h = __atomic_load_n(&s->key_hash, __ATOMIC_ACQUIRE);
		uint64_t v = __atomic_load_n(&s->value, __ATOMIC_ACQUIRE);
		if (h == 0 || persist_value_expires(v) < now_s)
			continue;
		const struct lb_service_cfg *svc = service_by_id(c, s->service_id);
		const struct lb_real_cfg *r = NULL;
		if (svc == NULL)
			continue;
		LB_SERVICE_FOREACH_DEST(svc, d)
			if (d->id == persist_value_real(v) && (uint8_t)d->gen == persist_value_gen8(v))
				r = d;
		if (json_array_size(list) >= limit)
			return true;
		char client[LB_ADDR_PORT_STRLEN], virt[LB_ADDR_PORT_STRLEN], real[LB_ADDR_PORT_STRLEN] = "-";
		struct lb_addr ca = key_addr(s->family, s->client);
		if (r != NULL)
			lb_addr_port_format(&r->ip, r->port, real, sizeof(real));
		json_array_append_new(
			list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "proto",
					lb_proto_name(svc->proto), "client",
					lb_addr_port_format(&ca, 0, client, sizeof(client)), "virtual",
					lb_addr_port_format(&svc->vip, svc->port, virt, sizeof(virt)),
					"real", real, "state", "NONE", "expires",
					(json_int_t)(persist_value_expires(v) - now_s), "template", 1));
	}
	return false;
}

static json_t *conn_list(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"limit", NULL};
	uint32_t limit = CONN_LIST_DEFAULT;
	const struct lb_config *c = config_store_running();
	uint64_t now = rte_rdtsc();
	bool truncated = false;
	json_t *list;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	if (lb_json_get_uint(params, "limit", "params", 1, CONN_LIST_MAX, &limit, err->message,
			     sizeof(err->message)) != 0)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS, "%s", err->message);
	struct conn_dump_request req = {.max = limit};
	req.out = calloc(limit, sizeof(*req.out));
	if (req.out == NULL)
		return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
	list = json_array();
	for (uint16_t w = 0; w < lb_rt.n_workers && json_array_size(list) < limit; w++) {
		req.max = limit - (uint32_t)json_array_size(list);
		if (conn_dump_collect(lb_rt.workers[w], &req) != 0)
			continue;
		truncated |= req.truncated != 0;
		for (uint32_t i = 0; i < req.count; i++) {
			const struct conn_dump_entry *e = &req.out[i];
			char client[LB_ADDR_PORT_STRLEN], virt[LB_ADDR_PORT_STRLEN];
			char real[LB_ADDR_PORT_STRLEN] = "-";
			struct lb_addr src = key_addr(e->key.family, e->key.src);
			struct lb_addr dst = key_addr(e->key.family, e->key.dst);
			const struct lb_real_cfg *r = real_by_id(c, e->real_id, e->real_gen);
			if (r != NULL)
				lb_addr_port_format(&r->ip, r->port, real, sizeof(real));
			if (e->has_reply) {
				/* The port actually in use: a group's real takes the client's port. */
				struct lb_addr ra = key_addr(e->reply_key.family, e->reply_key.src);
				lb_addr_port_format(&ra, rte_be_to_cpu_16(e->reply_key.sport), real,
						    sizeof(real));
			}
			uint64_t left = e->expires_tsc > now ? (e->expires_tsc - now) / lb_rt.tsc_hz : 0;
			json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:i}", "proto",
					  lb_proto_name(e->key.proto), "client",
					  lb_addr_port_format(&src, rte_be_to_cpu_16(e->key.sport), client,
							      sizeof(client)),
					  "virtual",
					  lb_addr_port_format(&dst, rte_be_to_cpu_16(e->key.dport), virt,
							      sizeof(virt)),
					  "real", real, "state", lb_conn_state_name(e->state), "expires",
					  (json_int_t)left, "worker", (int)w);
			json_object_set_new(entry, "forward", json_string(lb_forward_name(e->forward)));
			if (e->has_reply && lb_forward_method_get(e->forward)->rewrites_source) {
				char local[LB_ADDR_PORT_STRLEN];
				struct lb_addr la = key_addr(e->reply_key.family, e->reply_key.dst);
				json_object_set_new(
					entry, "local",
					json_string(lb_addr_port_format(&la, rte_be_to_cpu_16(e->reply_key.dport),
									local, sizeof(local))));
			}
			json_array_append_new(list, entry);
		}
	}
	free(req.out);
	truncated |= list_templates(c, list, limit, now);
	return json_pack("{s:o, s:b}", "connections", list, "truncated", truncated);
}

const struct rpc_method rpc_conn_methods[] = {
	{"conn.list", conn_list},
	{NULL, NULL},
};
