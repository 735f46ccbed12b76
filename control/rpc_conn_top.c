/*
 * conn.summary and conn.top. Both walk the workers' flow tables through conn_scan (the workers
 * copy out their own entries, forwarding never stops) and aggregate into memory fixed by the
 * configuration: per-real state counts for the summary, a capped prefix table for the top.
 * conn.top adds the per-source rates that src_top samples from the workers' sketches.
 */
#include "rpc_conn_top.h"

#include <stdlib.h>
#include <string.h>

#include "config_store.h"
#include "conn_scan.h"
#include "event_loop.h"
#include "src_top.h"
#include "tcp_state.h"

/* Distinct prefixes conn.top tracks per call (about 56 bytes each); more are counted apart. */
#define TOP_MAX_PREFIXES 16384
#define TOP_LIMIT_MAX 1000

/* ---- conn.summary ---- */

struct summary {
	struct rpc_pending *pending;
	struct conn_scan *scan;
	uint32_t n_reals;
	uint64_t (*by_real)[LB_CONN_STATE_COUNT]; /* [max_reals + 1] */
	uint64_t overall[LB_CONN_STATE_COUNT];
	uint64_t *templates_by_service; /* [max_services + 1] */
	uint64_t templates;
};

static void summary_free(struct summary *s)
{
	free(s->by_real);
	free(s->templates_by_service);
	free(s);
}

static void summary_cancel(void *ctx)
{
	struct summary *s = ctx;

	conn_scan_cancel(s->scan);
	summary_free(s);
}

static void summary_entry(void *arg, const struct conn_dump_entry *e, uint32_t worker)
{
	struct summary *s = arg;
	uint8_t st = e->state < LB_CONN_STATE_COUNT ? e->state : LB_TCP_NONE;

	(void)worker;
	s->overall[st]++;
	if (e->real_id <= s->n_reals)
		s->by_real[e->real_id][st]++;
}

static void summary_template(void *arg, const struct persist_template *t)
{
	struct summary *s = arg;

	s->templates++;
	if (t->service_id <= lb_rt.max_services)
		s->templates_by_service[t->service_id]++;
}

/* {"STATE": n} of the non-zero counts, and their sum in *total. */
static json_t *states_json(const uint64_t *counts, uint64_t *total)
{
	json_t *o = json_object();

	*total = 0;
	for (uint8_t st = 0; st < LB_CONN_STATE_COUNT; st++) {
		if (counts[st] == 0)
			continue;
		json_object_set_new(o, st == LB_UDP_STATE ? "UDP" : lb_conn_state_name(st),
				    json_integer((json_int_t)counts[st]));
		*total += counts[st];
	}
	return o;
}

static json_t *summary_service(const struct summary *s, const struct lb_service_cfg *svc)
{
	uint64_t sums[LB_CONN_STATE_COUNT] = {0}, total;
	char vip[LB_ADDR_STRLEN], ip[LB_ADDR_STRLEN];
	json_t *reals = json_array();

	LB_SERVICE_FOREACH_DEST(svc, r) {
		if (r->id == 0 || r->id > s->n_reals)
			continue;
		for (uint8_t st = 0; st < LB_CONN_STATE_COUNT; st++)
			sums[st] += s->by_real[r->id][st];
		json_t *states = states_json(s->by_real[r->id], &total);
		json_array_append_new(reals, json_pack("{s:s, s:i, s:I, s:o, s:b}", "ip",
						       lb_addr_format(&r->ip, ip, sizeof(ip)), "port",
						       r->port, "total", (json_int_t)total,
						       "states", states, "fallback",
						       r == &svc->fallback));
	}
	json_t *states = states_json(sums, &total);
	uint64_t tpl = svc->id <= lb_rt.max_services ? s->templates_by_service[svc->id] : 0;
	return json_pack("{s:s, s:s, s:i, s:I, s:o, s:I, s:o}", "proto", lb_proto_name(svc->proto),
			 "vip", lb_addr_format(&svc->vip, vip, sizeof(vip)), "port", svc->port,
			 "total", (json_int_t)total, "states", states, "templates",
			 (json_int_t)tpl, "reals", reals);
}

static void summary_done(void *arg, const char *error)
{
	struct summary *s = arg;
	struct rpc_pending *p = s->pending;
	struct rpc_error err = {0};
	const struct lb_config *c = config_store_running();
	uint64_t total, tcp = 0;

	if (error != NULL) {
		rpc_fail(&err, JSONRPC_INTERNAL_ERROR, "conn.summary: %s", error);
		summary_free(s);
		rpc_pending_done(p, NULL, &err);
		return;
	}
	json_t *services = json_array();
	for (uint32_t i = 0; i < c->n_services; i++)
		json_array_append_new(services, summary_service(s, &c->services[i]));
	json_t *states = states_json(s->overall, &total);
	for (uint8_t st = 0; st < LB_TCP_STATE_COUNT; st++)
		tcp += s->overall[st];
	json_t *result = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "total", (json_int_t)total,
				   "tcp", (json_int_t)tcp, "udp",
				   (json_int_t)s->overall[LB_UDP_STATE], "templates",
				   (json_int_t)s->templates, "states", states, "services", services);
	summary_free(s);
	rpc_pending_done(p, result, NULL);
}

int conn_summary_start(json_t *params, struct rpc_pending *p, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};
	static const struct conn_scan_ops ops = {summary_entry, summary_template, summary_done};
	struct summary *s;

	conn_dump_reap(false);
	if (params != NULL && rpc_check_keys(params, keys, err) != 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s != NULL) {
		s->n_reals = lb_rt.max_reals;
		s->by_real = calloc(s->n_reals + 1, sizeof(*s->by_real));
		s->templates_by_service = calloc(lb_rt.max_services + 1, sizeof(uint64_t));
	}
	if (s == NULL || s->by_real == NULL || s->templates_by_service == NULL ||
	    (s->scan = conn_scan_start(rpc_pending_loop(p), NULL, &ops, s)) == NULL) {
		if (s != NULL)
			summary_free(s);
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	s->pending = p;
	rpc_pending_set_cancel(p, summary_cancel, s);
	return 0;
}

/* ---- conn.top ---- */

enum top_by { TOP_CONNS, TOP_CPS, TOP_PPS, TOP_DROPS };
static const char *const top_by_names[] = {"conns", "cps", "pps", "drops"};

struct top_row {
	struct lb_addr prefix; /* family 0: free */
	uint64_t conns;
	double cps, pps, dps;
};

struct top {
	struct rpc_pending *pending;
	struct conn_scan *scan; /* NULL: no walk (rates only), rates_only fires instead */
	struct ev_timer rates_only;
	struct ev_loop *loop;
	enum top_by by;
	uint8_t len4, len6;
	bool with_conns; /* walk the tables even when ranking by a rate */
	uint32_t limit;
	uint32_t used;
	uint64_t untracked; /* connections of prefixes the full table could not take */
	struct top_row rows[TOP_MAX_PREFIXES];
};

static uint32_t prefix_hash(const struct lb_addr *a)
{
	const uint8_t *b = a->family == AF_INET ? (const uint8_t *)&a->v4 : a->v6;
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < (a->family == AF_INET ? 4u : 16u); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* The row of addr's prefix, created when new; NULL when the table is full. */
static struct top_row *top_row(struct top *t, struct lb_addr addr)
{
	lb_addr_mask_prefix(&addr, addr.family == AF_INET ? t->len4 : t->len6);
	for (uint32_t i = prefix_hash(&addr) % TOP_MAX_PREFIXES, n = 0; n < TOP_MAX_PREFIXES;
	     n++, i = (i + 1) % TOP_MAX_PREFIXES) {
		struct top_row *r = &t->rows[i];
		if (r->prefix.family == 0) {
			if (t->used * 4 >= TOP_MAX_PREFIXES * 3)
				return NULL; /* keep probes short: three quarters full is full */
			t->used++;
			r->prefix = addr;
			return r;
		}
		if (lb_addr_equal(&r->prefix, &addr))
			return r;
	}
	return NULL;
}

static void top_entry(void *arg, const struct conn_dump_entry *e, uint32_t worker)
{
	struct top *t = arg;
	struct lb_addr a = {0};

	(void)worker;
	a.family = e->key.family;
	memcpy(a.family == AF_INET ? (uint8_t *)&a.v4 : a.v6, e->key.src,
	       a.family == AF_INET ? 4 : 16);
	struct top_row *r = top_row(t, a);
	if (r != NULL)
		r->conns++;
	else
		t->untracked++;
}

static void top_rate(void *arg, const struct src_rate *rate)
{
	struct top *t = arg;
	struct top_row *r = top_row(t, rate->addr);

	if (r == NULL)
		return;
	r->pps += rate->pps;
	r->dps += rate->dps;
	r->cps += rate->cps;
}

static double top_key(const struct top *t, const struct top_row *r)
{
	switch (t->by) {
	case TOP_CPS:
		return r->cps;
	case TOP_PPS:
		return r->pps;
	case TOP_DROPS:
		return r->dps;
	default:
		return (double)r->conns;
	}
}

static void top_cancel(void *ctx)
{
	struct top *t = ctx;

	if (t->scan != NULL)
		conn_scan_cancel(t->scan);
	else
		ev_timer_stop(t->loop, &t->rates_only);
	free(t);
}

static const struct top *sort_ctx;

static int top_compare(const void *a, const void *b)
{
	const struct top_row *x = *(const struct top_row *const *)a;
	const struct top_row *y = *(const struct top_row *const *)b;
	double kx = top_key(sort_ctx, x), ky = top_key(sort_ctx, y);

	if (kx != ky)
		return kx > ky ? -1 : 1;
	if (x->conns != y->conns)
		return x->conns > y->conns ? -1 : 1;
	return lb_addr_compare(&x->prefix, &y->prefix);
}

static json_t *top_result(struct top *t)
{
	const struct top_row **order = malloc(t->used * sizeof(*order) + 1);
	json_t *list = json_array();
	uint32_t n = 0;
	char ab[LB_ADDR_STRLEN], text[LB_ADDR_STRLEN + 8];

	for (uint32_t i = 0; order != NULL && i < TOP_MAX_PREFIXES; i++)
		if (t->rows[i].prefix.family != 0 && top_key(t, &t->rows[i]) > 0)
			order[n++] = &t->rows[i];
	sort_ctx = t; /* the control lcore is single-threaded */
	if (order != NULL)
		qsort(order, n, sizeof(*order), top_compare);
	for (uint32_t i = 0; i < n && i < t->limit; i++) {
		const struct top_row *r = order[i];
		uint8_t len = r->prefix.family == AF_INET ? t->len4 : t->len6;
		snprintf(text, sizeof(text), "%s/%u", lb_addr_format(&r->prefix, ab, sizeof(ab)), len);
		json_t *row = json_pack("{s:s, s:f, s:f, s:f}", "source", text, "cps", r->cps,
					"pps", r->pps, "drops", r->dps);
		if (t->scan != NULL) /* connections only when the tables were walked */
			json_object_set_new(row, "conns", json_integer((json_int_t)r->conns));
		json_array_append_new(list, row);
	}
	free(order);
	return json_pack("{s:s, s:i, s:i, s:f, s:o, s:I, s:I}", "by", top_by_names[t->by],
			 "prefix", t->len4, "prefix6", t->len6, "interval", src_top_interval(),
			 "sources", list, "prefixes", (json_int_t)t->used, "untracked",
			 (json_int_t)t->untracked);
}

static void top_done(void *arg, const char *error)
{
	struct top *t = arg;
	struct rpc_pending *p = t->pending;
	struct rpc_error err = {0};
	json_t *result = NULL;

	if (error != NULL) {
		rpc_fail(&err, JSONRPC_INTERNAL_ERROR, "conn.top: %s", error);
	} else {
		src_top_foreach(top_rate, t);
		result = top_result(t);
	}
	free(t);
	rpc_pending_done(p, result, error ? &err : NULL);
}

static int parse_top(json_t *params, struct top *t, struct rpc_error *err)
{
	static const char *const keys[] = {"by", "prefix", "prefix6", "limit", "conns", NULL};
	json_t *conns = json_object_get(params, "conns");
	uint32_t len4 = 32, len6 = 128, limit = 10;
	json_t *by = json_object_get(params, "by");

	if (params != NULL && rpc_check_keys(params, keys, err) != 0)
		return -1;
	t->by = TOP_CONNS;
	if (by != NULL) {
		uint32_t i = 0;
		while (i < 4 && !(json_is_string(by) && strcmp(json_string_value(by), top_by_names[i]) == 0))
			i++;
		if (i == 4) {
			rpc_fail(err, JSONRPC_INVALID_PARAMS,
				 "params.by: must be \"conns\", \"cps\", \"pps\" or \"drops\"");
			return -1;
		}
		t->by = (enum top_by)i;
	}
	if (lb_json_get_uint(params, "prefix", "params", 0, 32, &len4, err->message,
			     sizeof(err->message)) != 0 ||
	    lb_json_get_uint(params, "prefix6", "params", 0, 128, &len6, err->message,
			     sizeof(err->message)) != 0 ||
	    lb_json_get_uint(params, "limit", "params", 1, TOP_LIMIT_MAX, &limit, err->message,
			     sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return -1;
	}
	if (conns != NULL && !json_is_boolean(conns)) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.conns: must be true or false");
		return -1;
	}
	t->with_conns = json_is_true(conns);
	t->len4 = (uint8_t)len4;
	t->len6 = (uint8_t)len6;
	t->limit = limit;
	return 0;
}

static void top_rates_only(struct ev_loop *loop, struct ev_timer *timer, uint64_t late_ns)
{
	(void)loop;
	(void)late_ns;
	top_done(timer->arg, NULL);
}

int conn_top_start(json_t *params, struct rpc_pending *p, struct rpc_error *err)
{
	static const struct conn_scan_ops ops = {top_entry, NULL, top_done};
	struct top *t = calloc(1, sizeof(*t));

	conn_dump_reap(false);
	if (t == NULL) {
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	if (parse_top(params, t, err) != 0) {
		free(t);
		return -1;
	}
	t->pending = p;
	t->loop = rpc_pending_loop(p);
	if (t->by != TOP_CONNS && !t->with_conns) {
		/* Rates alone: no walk of the flow tables; answered from the loop, not from here. */
		ev_timer_init(&t->rates_only, top_rates_only, t);
		if (ev_timer_start(t->loop, &t->rates_only, 0, 0) != 0) {
			free(t);
			rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
			return -1;
		}
		rpc_pending_set_cancel(p, top_cancel, t);
		return 0;
	}
	t->scan = conn_scan_start(t->loop, NULL, &ops, t);
	if (t->scan == NULL) {
		free(t);
		rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
		return -1;
	}
	rpc_pending_set_cancel(p, top_cancel, t);
	return 0;
}
