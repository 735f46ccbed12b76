/* stats.get */
#include <stddef.h>

#include "dataplane.h"
#include "config_store.h"
#include "control.h"
#include "conn_event_feed.h"
#include "health.h"
#include "rate_est.h"
#include "rate_estimator.h"
#include "rpc_methods.h"

static void put_traffic(json_t *o, const struct traffic_sum *t)
{
	json_object_set_new(o, "conns", json_integer((json_int_t)t->conns));
	json_object_set_new(o, "inpkts", json_integer((json_int_t)t->inpkts));
	json_object_set_new(o, "outpkts", json_integer((json_int_t)t->outpkts));
	json_object_set_new(o, "inbytes", json_integer((json_int_t)t->inbytes));
	json_object_set_new(o, "outbytes", json_integer((json_int_t)t->outbytes));
	json_object_set_new(o, "active", json_integer(t->active));
	json_object_set_new(o, "inactive", json_integer(t->inactive));
}

/* The estimator's rates as ipvsadm --rate shows them: integers, rounded the kernel's way. */
static void put_rates(json_t *o, const struct lb_rates *r)
{
	const double v[LB_RATE_COUNT] = {r->cps, r->inpps, r->outpps, r->inbps, r->outbps};
	static const char *const names[LB_RATE_COUNT] = {"cps", "inpps", "outpps", "inbps",
							 "outbps"};

	for (int c = 0; c < LB_RATE_COUNT; c++)
		json_object_set_new(o, names[c], json_integer((json_int_t)lb_rate_est_round_ipvs(
							 v[c], (enum lb_rate_counter)c)));
}

static void put_real(json_t *ro, uint32_t id, struct traffic_sum *r)
{
	struct lb_rates rates;

	stats_real(id, r);
	put_traffic(ro, r);
	rate_estimator_real(id, &rates);
	put_rates(ro, &rates);
}

static json_t *service_stats(const struct lb_service_cfg *s)
{
	json_t *o = lb_service_to_json(s, false), *reals = json_array();
	struct traffic_sum svc, r;
	int64_t active = 0, inactive = 0;

	for (uint32_t j = 0; j < s->n_reals; j++) {
		json_t *ro = lb_real_to_json(&s->reals[j]);
		put_real(ro, s->reals[j].id, &r);
		active += r.active;
		inactive += r.inactive;
		json_array_append_new(reals, ro);
	}
	if (s->has_fallback) {
		json_t *fo = lb_real_to_json(&s->fallback);
		put_real(fo, s->fallback.id, &r);
		active += r.active;
		inactive += r.inactive;
		json_object_set_new(o, "fallback", fo);
	}
	stats_service(s->id, &svc);
	svc.active = active;
	svc.inactive = inactive;
	put_traffic(o, &svc);
	struct lb_rates rates;
	rate_estimator_service(s->id, &rates);
	put_rates(o, &rates);
	json_object_set_new(o, "reals", reals);
	return o;
}

/* Every worker counter, by its name (counters.h defines the list once). */
#define COUNTER(field) {#field, offsetof(struct lb_worker_stats, field)},
static const struct {
	const char *name;
	size_t offset;
} dataplane_counters[] = {LB_WORKER_COUNTERS(COUNTER)};
#undef COUNTER

static json_t *stats_get(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"vip", "port", "proto", NULL};
	const struct lb_config *c = config_store_running();
	struct lb_worker_stats ws;
	json_t *services = json_array(), *drops = json_object();
	uint64_t dropped = 0;

	if (rpc_check_keys(params, keys, err) != 0)
		goto fail;
	if (json_object_size(params) > 0) {
		int idx = rpc_find_service(c, params, "params", err);
		if (idx < 0)
			goto fail;
		json_array_append_new(services, service_stats(&c->services[idx]));
	} else {
		for (uint32_t i = 0; i < c->n_services; i++)
			json_array_append_new(services, service_stats(&c->services[i]));
	}
	stats_workers(&ws);
	for (int r = 0; r < LB_DROP_REASON_COUNT; r++) {
		json_object_set_new(drops, lb_drop_reason_names[r], json_integer((json_int_t)ws.drops[r]));
		dropped += ws.drops[r];
	}
	json_t *dp = json_pack("{s:I, s:o}", "dropped", (json_int_t)dropped, "drop_reasons", drops);
	for (size_t i = 0; i < sizeof(dataplane_counters) / sizeof(dataplane_counters[0]); i++)
		json_object_set_new(dp, dataplane_counters[i].name,
				    json_integer((json_int_t) * (const uint64_t *)((const char *)&ws +
									     dataplane_counters[i].offset)));
	struct lb_rates g;
	rate_estimator_global(&g);
	json_object_set_new(dp, "rates",
			    json_pack("{s:f, s:f, s:f, s:f, s:f}", "cps", g.cps, "inpps", g.inpps,
				      "outpps", g.outpps, "inbps", g.inbps, "outbps", g.outbps));
	uint64_t ev[4];
	conn_event_feed_counts(ev);
	json_object_set_new(dp, "conn_events",
			    json_pack("{s:I, s:I, s:I, s:I}", "created", (json_int_t)ev[CONN_EV_CREATED],
				      "state_changed", (json_int_t)ev[CONN_EV_STATE], "ended",
				      (json_int_t)ev[CONN_EV_ENDED], "lost",
				      (json_int_t)ws.conn_events_lost));
	struct health_counters hc;
	health_counters_get(&hc);
	json_t *health = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "checks", (json_int_t)hc.checks,
		"checks_failed", (json_int_t)hc.checks_failed, "checks_not_run",
		(json_int_t)hc.checks_not_run, "agent_polls", (json_int_t)hc.agent_polls,
		"agent_failures", (json_int_t)hc.agent_failures, "state_changes",
		(json_int_t)hc.state_changes, "publications", (json_int_t)hc.publications, "targets",
		(json_int_t)hc.targets, "processes", (json_int_t)hc.processes);
	uint64_t p99, lmax;
	uint32_t nlate;
	health_lateness(&p99, &lmax, &nlate);
	json_object_set_new(health, "timer_lateness",
			    json_pack("{s:f, s:f, s:I}", "p99_ms", p99 / 1e6, "max_ms", lmax / 1e6,
				      "samples", (json_int_t)nlate));
	struct control_rates_cost rc;
	control_rates_cost(&rc);
	json_t *cost = json_pack("{s:f, s:f, s:f, s:f}", "estimator_last_us",
				 rc.estimator_last_ns / 1e3, "estimator_max_us", rc.estimator_max_ns / 1e3,
				 "history_last_us", rc.history_last_ns / 1e3, "history_max_us",
				 rc.history_max_ns / 1e3);
	return json_pack("{s:o, s:o, s:o, s:o}", "services", services, "dataplane", dp, "health",
			 health, "rates_cost", cost);
fail:
	json_decref(services);
	json_decref(drops);
	return NULL;
}

const struct rpc_method rpc_stats_methods[] = {
	{"stats.get", stats_get},
	{NULL, NULL},
};
