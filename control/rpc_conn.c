/*
 * conn.list: one page per call, served asynchronously on the control loop. The page visits at
 * most CONN_LIST_SCAN_POSITIONS flow-table and persistence positions, worker after worker, then
 * the templates, and hands back a cursor for the rest. The loop polls each worker's part with a
 * timer and a deadline, and turns entries into JSON a chunk per turn: it never waits.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include "dataplane.h"
#include "config_store.h"
#include "event_loop.h"
#include "rpc_async.h"
#include "rpc_methods.h"
#include "rpc_conn_top.h"
#include "tcp_state.h"

#define CONN_LIST_DEFAULT 1000
#define CONN_LIST_MAX 100000
/*
 * Entries one page may hold, whatever `limit` asks: the finished page is encoded and freed in one
 * loop turn, and 100,000 entries held the loop 0.3-0.8 s (bench "lateness"). A bigger limit
 * ends the page early with a cursor, as a page that spent its scan budget does.
 */
#define CONN_LIST_PAGE_MAX 4096
/* Positions one call visits at most: a bound on its work whatever the filters match. */
#define CONN_LIST_SCAN_POSITIONS (1u << 20)
/* How long a worker may take to fill its part of a page before the call fails. */
#define CONN_DUMP_TIMEOUT_MS 1000
/* How often the loop looks whether a worker has finished its part. */
#define CONN_DUMP_POLL_NS (100 * 1000)
/* Entries turned into JSON per loop turn. */
#define CONN_LIST_CHUNK 1024

/* Where a page starts: a worker's flow table (worker < n_workers) or the templates. */
struct conn_cursor {
	uint32_t worker;
	uint32_t pos;
};

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

/* The configured real (or fallback server) with this id and generation, or NULL when removed. */
static const struct lb_real_cfg *real_by_id(const struct lb_config *c, uint32_t id, uint32_t gen)
{
	for (uint32_t i = 0; i < c->n_services; i++)
		LB_SERVICE_FOREACH_DEST(&c->services[i], r)
			if (r->id == id && r->gen == gen)
				return r;
	return NULL;
}

static const struct lb_service_cfg *service_by_id(const struct lb_config *c, uint32_t id)
{
	for (uint32_t i = 0; i < c->n_services; i++)
		if (c->services[i].id == id)
			return &c->services[i];
	return NULL;
}

static bool template_match(const struct conn_dump_filter *f, const struct lb_service_cfg *svc,
			   const struct persist_template *t)
{
	if (f->proto != 0 && svc->proto != f->proto)
		return false;
	if (f->vport != 0 && rte_cpu_to_be_16(svc->port) != f->vport)
		return false;
	if (f->vip_family != 0) {
		struct lb_addr vip = key_addr(f->vip_family, f->vip);
		if (!lb_addr_equal(&vip, &svc->vip))
			return false;
	}
	if (f->client_family != 0) {
		struct lb_addr tc = key_addr(t->family, t->client), fc = key_addr(f->client_family,
										  f->client);
		if (!lb_addr_same_prefix(&tc, &fc, f->client_len))
			return false;
	}
	if (f->states != 0 && !(f->states & (1u << LB_TCP_NONE)))
		return false;
	for (uint8_t i = 0; i < f->n_reals; i++)
		if (f->real_ids[i] == t->real_id)
			return true;
	return f->n_reals == 0;
}

/*
 * Appends the live persistence templates from *pos on, as ipvsadm -Lnc shows them: client port
 * 0, state NONE. Returns true when it stopped early (list full or budget spent), *pos where to
 * resume.
 */
static bool list_templates(const struct lb_config *c, const struct conn_dump_filter *f,
			   json_t *list, uint32_t limit, uint64_t now, uint32_t *pos,
			   uint32_t budget)
{
	uint32_t now_s = (uint32_t)(now / lb_rt.tsc_hz), end = persist_table_positions(lb_rt.persist);

	for (uint32_t i = *pos; i < end; i++, budget--) {
		struct persist_template t;
		*pos = i;
		if (budget == 0)
			return true;
		if (!persist_table_read(lb_rt.persist, i, now_s, &t))
			continue;
		const struct lb_service_cfg *svc = service_by_id(c, t.service_id);
		const struct lb_real_cfg *r = NULL;
		if (svc == NULL || !template_match(f, svc, &t))
			continue;
		LB_SERVICE_FOREACH_DEST(svc, d)
			if (d->id == t.real_id && (uint8_t)d->gen == t.real_gen8)
				r = d;
		if (json_array_size(list) >= limit)
			return true;
		char client[LB_ADDR_PORT_STRLEN], virt[LB_ADDR_PORT_STRLEN], real[LB_ADDR_PORT_STRLEN] = "-";
		struct lb_addr ca = key_addr(t.family, t.client);
		if (r != NULL)
			lb_addr_port_format(&r->ip, r->port, real, sizeof(real));
		json_array_append_new(
			list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "proto",
					lb_proto_name(svc->proto), "client",
					lb_addr_port_format(&ca, 0, client, sizeof(client)), "virtual",
					lb_addr_port_format(&svc->vip, svc->port, virt, sizeof(virt)),
					"real", real, "state", "NONE", "expires",
					(json_int_t)(t.expires_s - now_s), "template", 1));
	}
	*pos = end;
	return false;
}

/* One dumped connection as conn.list shows it. */
static json_t *conn_entry(const struct lb_config *c, const struct conn_dump_entry *e,
			  uint32_t worker, uint64_t now)
{
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
		lb_addr_port_format(&ra, rte_be_to_cpu_16(e->reply_key.sport), real, sizeof(real));
	}
	uint64_t left = e->expires_tsc > now ? (e->expires_tsc - now) / lb_rt.tsc_hz : 0;
	json_t *entry = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:I, s:i}", "proto", lb_proto_name(e->key.proto), "client",
		lb_addr_port_format(&src, rte_be_to_cpu_16(e->key.sport), client, sizeof(client)),
		"virtual",
		lb_addr_port_format(&dst, rte_be_to_cpu_16(e->key.dport), virt, sizeof(virt)), "real",
		real, "state", lb_conn_state_name(e->state), "expires", (json_int_t)left, "worker",
		(int)worker);
	json_object_set_new(entry, "forward", json_string(lb_forward_name(e->forward)));
	if (e->has_reply && lb_forward_method_get(e->forward)->rewrites_source) {
		char local[LB_ADDR_PORT_STRLEN];
		struct lb_addr la = key_addr(e->reply_key.family, e->reply_key.dst);
		json_object_set_new(entry, "local",
				    json_string(lb_addr_port_format(
					    &la, rte_be_to_cpu_16(e->reply_key.dport), local,
					    sizeof(local))));
	}
	return entry;
}

/* An address filter: *family stays 0 when the key is absent. */
static int parse_addr_filter(json_t *params, const char *key, uint8_t *family, uint8_t *bytes,
			     struct rpc_error *err)
{
	json_t *v = json_object_get(params, key);
	struct lb_addr a;

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || lb_addr_parse(json_string_value(v), &a) != 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.%s: must be an IPv4 or IPv6 address", key);
		return -1;
	}
	*family = a.family;
	memcpy(bytes, a.family == AF_INET ? (const uint8_t *)&a.v4 : a.v6,
	       a.family == AF_INET ? 4 : 16);
	return 0;
}

/* "client": an address or a CIDR; a bare address is its full length. */
static int parse_client_filter(json_t *params, struct conn_dump_filter *f, struct rpc_error *err)
{
	json_t *v = json_object_get(params, "client");
	struct lb_addr a;

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || lb_addr_parse_prefix(json_string_value(v), &a, &f->client_len) != 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS,
			 "params.client: must be an IPv4 or IPv6 address or CIDR (ADDR/LEN)");
		return -1;
	}
	f->client_family = a.family;
	lb_addr_mask_prefix(&a, f->client_len);
	memcpy(f->client, a.family == AF_INET ? (const uint8_t *)&a.v4 : a.v6,
	       a.family == AF_INET ? 4 : 16);
	return 0;
}

/* "state": a state name ("ESTABLISHED", "SYN_RECV", "UDP", "NONE" for templates ...) or a list. */
static int parse_state_filter(json_t *params, struct conn_dump_filter *f, struct rpc_error *err)
{
	json_t *v = json_object_get(params, "state"), *one;
	json_t *list = json_is_array(v) ? json_incref(v) : json_pack("[O]", v);
	size_t i;
	int rc = 0;

	if (v == NULL) {
		json_decref(list);
		return 0;
	}
	json_array_foreach(list, i, one) {
		uint8_t st = 0;
		while (st < LB_CONN_STATE_COUNT &&
		       !(json_is_string(one) &&
			 strcasecmp(json_string_value(one), lb_conn_state_name(st)) == 0))
			st++;
		if (st == LB_CONN_STATE_COUNT) {
			rpc_fail(err, JSONRPC_INVALID_PARAMS,
				 "params.state: must be a connection state (ESTABLISHED, SYN_RECV, "
				 "FIN_WAIT, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, SYN_SENT, LISTEN, "
				 "SYNACK, UDP, NONE) or a list of them");
			rc = -1;
			break;
		}
		f->states |= (uint16_t)(1u << st);
	}
	if (rc == 0 && f->states == 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.state: the list is empty");
		rc = -1;
	}
	json_decref(list);
	return rc;
}

/* "real": {"ip", "port"?}: every configured real (and fallback) with that address and port. */
static int parse_real_filter(json_t *params, struct conn_dump_filter *f, struct rpc_error *err)
{
	static const char *const keys[] = {"ip", "port", NULL};
	json_t *v = json_object_get(params, "real");
	const struct lb_config *c = config_store_running();
	struct lb_addr ip;
	uint32_t port = 0;

	if (v == NULL)
		return 0;
	if (!json_is_object(v) ||
	    lb_json_check_keys(v, "params.real", keys, err->message, sizeof(err->message)) != 0 ||
	    lb_json_get_uint(v, "port", "params.real", 0, 65535, &port, err->message,
			     sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		if (!json_is_object(v))
			rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.real: must be {\"ip\", \"port\"}");
		return -1;
	}
	if (!json_is_string(json_object_get(v, "ip")) ||
	    lb_addr_parse(json_string_value(json_object_get(v, "ip")), &ip) != 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.real.ip: must be an IPv4 or IPv6 address");
		return -1;
	}
	for (uint32_t i = 0; i < c->n_services; i++)
		LB_SERVICE_FOREACH_DEST(&c->services[i], r) {
			if (!lb_addr_equal(&r->ip, &ip) || (port != 0 && r->port != port) || r->id == 0)
				continue;
			if (f->n_reals == CONN_DUMP_MAX_REALS) {
				rpc_fail(err, JSONRPC_INVALID_PARAMS,
					 "params.real: names more than %u real servers; add a service "
					 "filter or a port", CONN_DUMP_MAX_REALS);
				return -1;
			}
			f->real_ids[f->n_reals++] = r->id;
		}
	if (f->n_reals == 0) {
		rpc_fail(err, LB_RPC_NOT_FOUND, "params.real: no real server has this address%s",
			 port ? " and port" : "");
		return -1;
	}
	return 0;
}

/* "service": a service key, the same as vip + port + proto. */
static int parse_service_filter(json_t *params, struct conn_dump_filter *f, struct rpc_error *err)
{
	json_t *v = json_object_get(params, "service");
	struct lb_addr vip;
	uint16_t port;
	uint8_t proto;

	if (v == NULL)
		return 0;
	if (lb_service_key_from_json(v, "params.service", &vip, &port, &proto, err->message,
				     sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return -1;
	}
	f->proto = proto;
	f->vport = rte_cpu_to_be_16(port);
	f->vip_family = vip.family;
	memcpy(f->vip, vip.family == AF_INET ? (const uint8_t *)&vip.v4 : vip.v6,
	       vip.family == AF_INET ? 4 : 16);
	return 0;
}

static int parse_filter(json_t *params, struct conn_dump_filter *f, struct rpc_error *err)
{
	json_t *proto = json_object_get(params, "proto");
	uint32_t port = 0;

	memset(f, 0, sizeof(*f));
	if (proto != NULL) {
		const char *p = json_string_value(proto);
		if (p != NULL && strcmp(p, "tcp") == 0)
			f->proto = IPPROTO_TCP;
		else if (p != NULL && strcmp(p, "udp") == 0)
			f->proto = IPPROTO_UDP;
		else {
			rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.proto: must be \"tcp\" or \"udp\"");
			return -1;
		}
	}
	if (lb_json_get_uint(params, "port", "params", 1, 65535, &port, err->message,
			     sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return -1;
	}
	f->vport = rte_cpu_to_be_16((uint16_t)port);
	if (parse_addr_filter(params, "vip", &f->vip_family, f->vip, err) != 0 ||
	    parse_client_filter(params, f, err) != 0 || parse_state_filter(params, f, err) != 0 ||
	    parse_real_filter(params, f, err) != 0 || parse_service_filter(params, f, err) != 0)
		return -1;
	return 0;
}

/* "W:POS" as conn.list handed it out; absent or null starts at the beginning. */
static int parse_cursor(json_t *params, struct conn_cursor *cur, struct rpc_error *err)
{
	json_t *v = json_object_get(params, "cursor");
	unsigned int w, pos;
	int used = 0;

	cur->worker = cur->pos = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    sscanf(json_string_value(v), "%u:%u%n", &w, &pos, &used) != 2 ||
	    (size_t)used != json_string_length(v) || w > lb_rt.n_workers) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS,
			 "params.cursor: must be a cursor an earlier conn.list returned");
		return -1;
	}
	cur->worker = w;
	cur->pos = pos;
	return 0;
}

/* One conn.list call in progress: a state machine driven by a timer on the control loop. */
struct conn_listing {
	struct rpc_pending *pending;
	struct ev_loop *loop;
	struct ev_timer tick;
	struct conn_dump_filter filter;
	struct conn_cursor cur;
	uint32_t limit, budget;
	uint64_t now;          /* TSC when the call started: what `expires` counts from */
	json_t *list;
	struct conn_dump_request *req;
	bool posted;           /* req is the worker's until conn_dump_done */
	uint64_t deadline_tsc; /* for the posted request */
	uint32_t converted;    /* entries of a finished req already in list */
};

static void listing_free(struct conn_listing *l)
{
	ev_timer_stop(l->loop, &l->tick);
	if (l->posted)
		conn_dump_abandon(l->req);
	else
		conn_dump_request_free(l->req);
	json_decref(l->list);
	free(l);
}

static void listing_cancel(void *ctx)
{
	listing_free(ctx);
}

static void listing_fail(struct conn_listing *l, const struct rpc_error *err)
{
	struct rpc_pending *p = l->pending;

	listing_free(l);
	rpc_pending_done(p, NULL, err);
}

static void listing_finish(struct conn_listing *l, bool more)
{
	struct rpc_pending *p = l->pending;
	json_t *cursor = json_null();

	if (more) {
		char text[32];
		snprintf(text, sizeof(text), "%u:%u", l->cur.worker, l->cur.pos);
		cursor = json_string(text);
	}
	json_t *result = json_pack("{s:O, s:b, s:o}", "connections", l->list, "truncated", more,
				   "cursor", cursor);
	listing_free(l);
	rpc_pending_done(p, result, NULL);
}

static void listing_again(struct conn_listing *l, uint64_t delay_ns)
{
	ev_timer_start(l->loop, &l->tick, delay_ns, 0); /* re-arming needs no memory */
}

/*
 * A worker's answer: polled until done (or the deadline), then turned into JSON a chunk per
 * loop turn. Returns true when it is all in the list and the listing may go on.
 */
static bool listing_collect(struct conn_listing *l)
{
	struct rpc_error err = {0};

	if (!conn_dump_done(l->req)) {
		if (rte_rdtsc() <= l->deadline_tsc) {
			listing_again(l, CONN_DUMP_POLL_NS);
			return false;
		}
		rpc_fail(&err, JSONRPC_INTERNAL_ERROR, "conn.list: worker %u did not answer within %u ms",
			 l->cur.worker, CONN_DUMP_TIMEOUT_MS);
		listing_fail(l, &err);
		return false;
	}
	const struct lb_config *c = config_store_running();
	uint32_t end = l->req->count - l->converted > CONN_LIST_CHUNK ? l->converted + CONN_LIST_CHUNK
								       : l->req->count;
	for (; l->converted < end; l->converted++)
		json_array_append_new(l->list, conn_entry(c, &l->req->out[l->converted],
							  l->cur.worker, l->now));
	if (l->converted < l->req->count) {
		listing_again(l, 0);
		return false;
	}
	l->posted = false;
	l->budget -= l->req->cursor - l->cur.pos;
	l->cur.pos = l->req->cursor;
	return true;
}

/* Posts the next worker's part of the page; true when there is none left to post. */
static bool listing_post(struct conn_listing *l, bool *more)
{
	struct rpc_error err = {0};

	while (l->cur.worker < lb_rt.n_workers) {
		struct lb_worker *w = lb_rt.workers[l->cur.worker];
		uint32_t positions = conn_dump_positions(w);
		if (l->cur.pos >= positions) {
			l->cur.worker++;
			l->cur.pos = 0;
			continue;
		}
		if (l->budget == 0 || json_array_size(l->list) >= l->limit) {
			*more = true;
			return true;
		}
		struct conn_dump_request *req = l->req;
		req->max = l->limit - (uint32_t)json_array_size(l->list);
		req->cursor = l->cur.pos;
		req->end = positions - l->cur.pos > l->budget ? l->cur.pos + l->budget : positions;
		req->filter = l->filter;
		if (conn_dump_post(w, req) != 0) {
			rpc_fail(&err, JSONRPC_INTERNAL_ERROR,
				 "conn.list: worker %u is busy with earlier dumps; try again",
				 l->cur.worker);
			listing_fail(l, &err);
			return false;
		}
		l->posted = true;
		l->converted = 0;
		l->deadline_tsc = rte_rdtsc() + lb_rt.tsc_hz / 1000 * CONN_DUMP_TIMEOUT_MS;
		listing_again(l, CONN_DUMP_POLL_NS);
		return false;
	}
	*more = false;
	return true;
}

static void listing_step(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	struct conn_listing *l = t->arg;
	bool more = false;

	(void)loop;
	(void)late_ns;
	if (l->posted && !listing_collect(l))
		return;
	if (!listing_post(l, &more))
		return;
	if (!more)
		more = list_templates(config_store_running(), &l->filter, l->list, l->limit, l->now,
				      &l->cur.pos, l->budget);
	listing_finish(l, more);
}

static int conn_list_start(json_t *params, struct rpc_pending *p, struct rpc_error *err)
{
	static const char *const keys[] = {"limit", "cursor", "proto", "vip", "port", "client",
					   "state", "real", "service", NULL};
	struct conn_listing *l;
	uint32_t limit = CONN_LIST_DEFAULT;
	struct conn_dump_filter filter;
	struct conn_cursor cur;

	conn_dump_reap(false);
	if (rpc_check_keys(params, keys, err) != 0)
		return -1;
	if (lb_json_get_uint(params, "limit", "params", 1, CONN_LIST_MAX, &limit, err->message,
			     sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return -1;
	}
	if (parse_filter(params, &filter, err) != 0 || parse_cursor(params, &cur, err) != 0)
		return -1;
	if (limit > CONN_LIST_PAGE_MAX)
		limit = CONN_LIST_PAGE_MAX;
	l = calloc(1, sizeof(*l));
	if (l == NULL || (l->req = conn_dump_request_new(limit)) == NULL) {
		free(l);
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	l->pending = p;
	l->loop = rpc_pending_loop(p);
	l->filter = filter;
	l->cur = cur;
	l->limit = limit;
	l->budget = CONN_LIST_SCAN_POSITIONS;
	l->now = rte_rdtsc();
	l->list = json_array();
	ev_timer_init(&l->tick, listing_step, l);
	if (ev_timer_start(l->loop, &l->tick, 0, 0) != 0) {
		listing_free(l);
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	rpc_pending_set_cancel(p, listing_cancel, l);
	return 0;
}

const struct rpc_async_method rpc_conn_async_methods[] = {
	{"conn.list", conn_list_start},
	{"conn.summary", conn_summary_start},
	{"conn.top", conn_top_start},
	{NULL, NULL},
};
