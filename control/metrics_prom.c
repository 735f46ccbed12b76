/*
 * /metrics in the Prometheus text format 0.0.4. Per-service and per-real series carry the
 * names and labels of node_exporter's IPVS collector (node_ipvs_* -> dpdk_lb_*), so IPVS
 * dashboards work after a rename; the dataplane's counters, drop reasons, health states and
 * ports follow. Each family's samples are written together, as the format requires: counters
 * are gathered once into arrays, then written family by family.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_store.h"
#include "dataplane.h"
#include "effective_weight.h"
#include "health.h"
#include "metrics.h"
#include "metrics_http.h"

#define P METRICS_PREFIX

static void family(struct text_buf *b, const char *name, const char *type, const char *help)
{
	text_buf_printf(b, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

/* local_address, local_port, proto of svc (no braces). */
static void service_labels(struct text_buf *b, const struct lb_service_cfg *svc)
{
	char ab[LB_ADDR_STRLEN], proto[4] = {0};
	const char *pn = lb_proto_name(svc->proto);

	for (size_t i = 0; i < sizeof(proto) - 1 && pn[i] != '\0'; i++)
		proto[i] = (char)toupper((unsigned char)pn[i]); /* "TCP", as IPVS writes it */
	text_buf_printf(b, "local_address=\"%s\",local_port=\"%u\",proto=\"%s\"",
			lb_addr_format(&svc->vip, ab, sizeof(ab)), svc->port, proto);
}

static void real_labels(struct text_buf *b, const struct lb_service_cfg *svc,
			const struct lb_real_cfg *r)
{
	char ab[LB_ADDR_STRLEN];

	service_labels(b, svc);
	text_buf_printf(b, ",remote_address=\"%s\",remote_port=\"%u\"",
			lb_addr_format(&r->ip, ab, sizeof(ab)), r->port);
}

/* The counters of every service and real (fallbacks included), read once per render. */
struct gathered {
	const struct lb_config *cfg;
	struct traffic_sum *svc;   /* [n_services] */
	struct traffic_sum **real; /* [n_services][n_reals + fallback] */
};

static uint32_t n_reals_of(const struct lb_service_cfg *s)
{
	return s->n_reals + (s->has_fallback ? 1 : 0);
}

static const struct lb_real_cfg *real_at(const struct lb_service_cfg *s, uint32_t j)
{
	return j < s->n_reals ? &s->reals[j] : &s->fallback;
}

static int gather(struct gathered *g)
{
	g->cfg = config_store_running();
	uint32_t n = g->cfg->n_services;
	g->svc = calloc(n + 1, sizeof(*g->svc));
	g->real = calloc(n + 1, sizeof(*g->real));
	if (g->svc == NULL || g->real == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const struct lb_service_cfg *s = &g->cfg->services[i];
		stats_service(s->id, &g->svc[i]);
		g->real[i] = calloc(n_reals_of(s) + 1, sizeof(**g->real));
		if (g->real[i] == NULL)
			return -1;
		for (uint32_t j = 0; j < n_reals_of(s); j++)
			stats_real(real_at(s, j)->id, &g->real[i][j]);
	}
	return 0;
}

static void gathered_free(struct gathered *g)
{
	for (uint32_t i = 0; g->real != NULL && i < g->cfg->n_services; i++)
		free(g->real[i]);
	free(g->real);
	free(g->svc);
}

static const struct {
	const char *name, *help;
	size_t offset;
} traffic_fields[] = {
	{"connections_total", "Connections scheduled.", offsetof(struct traffic_sum, conns)},
	{"incoming_packets_total", "Packets from clients.", offsetof(struct traffic_sum, inpkts)},
	{"outgoing_packets_total", "Packets to clients (nat, fnat).",
	 offsetof(struct traffic_sum, outpkts)},
	{"incoming_bytes_total", "Bytes from clients.", offsetof(struct traffic_sum, inbytes)},
	{"outgoing_bytes_total", "Bytes to clients (nat, fnat).",
	 offsetof(struct traffic_sum, outbytes)},
};
#define N_TRAFFIC_FIELDS (sizeof(traffic_fields) / sizeof(traffic_fields[0]))

static uint64_t field_of(const struct traffic_sum *t, size_t f)
{
	return *(const uint64_t *)((const char *)t + traffic_fields[f].offset);
}

static void render_services(struct text_buf *b, const struct gathered *g)
{
	const struct lb_config *c = g->cfg;

	for (size_t f = 0; f < N_TRAFFIC_FIELDS; f++) {
		family(b, traffic_fields[f].name, "counter", traffic_fields[f].help);
		for (uint32_t i = 0; i < c->n_services; i++) {
			text_buf_printf(b, P "%s{", traffic_fields[f].name);
			service_labels(b, &c->services[i]);
			text_buf_printf(b, "} %lu\n", (unsigned long)field_of(&g->svc[i], f));
		}
	}
	for (size_t f = 0; f < N_TRAFFIC_FIELDS; f++) {
		char name[64];
		snprintf(name, sizeof(name), "backend_%s", traffic_fields[f].name);
		family(b, name, "counter", traffic_fields[f].help);
		for (uint32_t i = 0; i < c->n_services; i++)
			for (uint32_t j = 0; j < n_reals_of(&c->services[i]); j++) {
				text_buf_printf(b, P "%s{", name);
				real_labels(b, &c->services[i], real_at(&c->services[i], j));
				text_buf_printf(b, "} %lu\n", (unsigned long)field_of(&g->real[i][j], f));
			}
	}
}

enum backend_gauge { ACTIVE, INACTIVE, WEIGHT, IN_SERVICE, N_BACKEND_GAUGES };

static void render_backends(struct text_buf *b, const struct gathered *g)
{
	static const char *const names[N_BACKEND_GAUGES][2] = {
		{"backend_connections_active", "Connections in ESTABLISHED (as IPVS counts active)."},
		{"backend_connections_inactive", "Connections in any other state."},
		{"backend_weight", "Effective weight (configured, health and agents applied)."},
		{"backend_in_service", "1 when the real may be given new connections."},
	};
	const struct lb_config *c = g->cfg;

	for (int k = 0; k < N_BACKEND_GAUGES; k++) {
		family(b, names[k][0], "gauge", names[k][1]);
		for (uint32_t i = 0; i < c->n_services; i++)
			for (uint32_t j = 0; j < n_reals_of(&c->services[i]); j++) {
				const struct lb_real_cfg *r = real_at(&c->services[i], j);
				const struct traffic_sum *t = &g->real[i][j];
				long v = k == ACTIVE ? (long)t->active : k == INACTIVE ? (long)t->inactive :
					 k == WEIGHT ? (long)r->eff_weight : (long)!r->eff_out;
				text_buf_printf(b, P "%s{", names[k][0]);
				real_labels(b, &c->services[i], r);
				text_buf_printf(b, "} %ld\n", v);
			}
	}
	/* One sample per state, 1 for the current one (the enum-as-labels convention). */
	family(b, "backend_health_state", "gauge", "Health check state of the real (1: current).");
	for (uint32_t i = 0; i < c->n_services; i++)
		for (uint32_t j = 0; j < c->services[i].n_reals; j++) {
			static const char *const states[] = {"up", "down", "unknown"};
			const struct lb_real_cfg *r = &c->services[i].reals[j];
			json_t *o = json_object();
			health_real_summary(r, o);
			const char *now = json_string_value(json_object_get(o, "health"));
			for (size_t s = 0; s < 3; s++) {
				text_buf_printf(b, P "backend_health_state{");
				real_labels(b, &c->services[i], r);
				text_buf_printf(b, ",state=\"%s\"} %d\n", states[s],
						now != NULL && strcmp(now, states[s]) == 0);
			}
			json_decref(o);
		}
}

/* Every worker counter by its name (counters.h defines the list once). */
#define COUNTER(field) {#field, offsetof(struct lb_worker_stats, field)},
static const struct {
	const char *name;
	size_t offset;
} dataplane_counters[] = {LB_WORKER_COUNTERS(COUNTER)};
#undef COUNTER

static void render_dataplane(struct text_buf *b)
{
	struct lb_worker_stats ws;

	stats_workers(&ws);
	for (size_t i = 0; i < sizeof(dataplane_counters) / sizeof(dataplane_counters[0]); i++) {
		uint64_t v = *(const uint64_t *)((const char *)&ws + dataplane_counters[i].offset);
		/* `flows` is the one level among the counters: flows in the tables now. */
		bool gauge = strcmp(dataplane_counters[i].name, "flows") == 0;
		char name[80];
		snprintf(name, sizeof(name), "dataplane_%s%s", dataplane_counters[i].name,
			 gauge ? "" : "_total");
		family(b, name, gauge ? "gauge" : "counter", "Dataplane counter (stats.get dataplane).");
		text_buf_printf(b, P "%s %lu\n", name, (unsigned long)v);
	}
	family(b, "dataplane_dropped_packets_total", "counter", "Packets dropped, by reason.");
	for (int r = 0; r < LB_DROP_REASON_COUNT; r++)
		text_buf_printf(b, P "dataplane_dropped_packets_total{reason=\"%s\"} %lu\n",
				lb_drop_reason_names[r], (unsigned long)ws.drops[r]);
}

static void port_sample(struct text_buf *b, const char *name, uint16_t pid, const char *pname,
			uint64_t v)
{
	text_buf_printf(b, P "%s{port=\"%u\",name=\"", name, pid);
	text_buf_prom_label(b, pname);
	text_buf_printf(b, "\"} %lu\n", (unsigned long)v);
}

static void render_ports(struct text_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t offset;
	} fields[] = {
		{"port_receive_packets_total", "Packets received (rte_eth_stats ipackets).",
		 offsetof(struct lb_port_stats, rx_packets)},
		{"port_transmit_packets_total", "Packets sent.", offsetof(struct lb_port_stats, tx_packets)},
		{"port_receive_bytes_total", "Bytes received.", offsetof(struct lb_port_stats, rx_bytes)},
		{"port_transmit_bytes_total", "Bytes sent.", offsetof(struct lb_port_stats, tx_bytes)},
		{"port_receive_missed_total", "Packets the port dropped: no free receive descriptor.",
		 offsetof(struct lb_port_stats, rx_missed)},
		{"port_receive_errors_total", "Erroneous packets received.",
		 offsetof(struct lb_port_stats, rx_errors)},
		{"port_transmit_errors_total", "Packets that failed to send.",
		 offsetof(struct lb_port_stats, tx_errors)},
		{"port_receive_nombuf_total", "Receive failures: no mbuf.",
		 offsetof(struct lb_port_stats, rx_no_mbuf)},
	};
	struct lb_port_stats st[LB_MAX_PORTS];

	for (uint16_t p = 0; p < lb_rt.n_ports; p++)
		if (port_stats_get(p, &st[p]) != 0)
			memset(&st[p], 0, sizeof(st[p]));
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		family(b, fields[f].name, "counter", fields[f].help);
		for (uint16_t p = 0; p < lb_rt.n_ports; p++)
			port_sample(b, fields[f].name, p, lb_rt.ports[p].name,
				    *(const uint64_t *)((const char *)&st[p] + fields[f].offset));
	}
	family(b, "port_link_up", "gauge", "1 when the port's link is up.");
	for (uint16_t p = 0; p < lb_rt.n_ports; p++)
		port_sample(b, "port_link_up", p, lb_rt.ports[p].name, st[p].link_up);
	family(b, "port_link_speed_mbps", "gauge", "Link speed in Mbit/s (0: unknown).");
	for (uint16_t p = 0; p < lb_rt.n_ports; p++)
		port_sample(b, "port_link_speed_mbps", p, lb_rt.ports[p].name, st[p].link_speed_mbps);
}

static void render_control(struct text_buf *b)
{
	struct health_counters hc;
	struct metrics_http_counters mc;

	health_counters_get(&hc);
	family(b, "health_checks_total", "counter", "Health checks run.");
	text_buf_printf(b, P "health_checks_total %lu\n", (unsigned long)hc.checks);
	family(b, "health_checks_failed_total", "counter", "Health checks that failed.");
	text_buf_printf(b, P "health_checks_failed_total %lu\n", (unsigned long)hc.checks_failed);
	family(b, "health_state_changes_total", "counter", "Reals that changed health state.");
	text_buf_printf(b, P "health_state_changes_total %lu\n", (unsigned long)hc.state_changes);
	family(b, "config_generation", "gauge", "Generation of the running configuration.");
	text_buf_printf(b, P "config_generation %lu\n", (unsigned long)config_store_generation());
	metrics_http_counters_get(&mc);
	family(b, "metrics_http_requests_total", "counter", "Metrics listener answers, by code class.");
	text_buf_printf(b, P "metrics_http_requests_total{code=\"200\"} %lu\n",
			(unsigned long)mc.requests);
	text_buf_printf(b, P "metrics_http_requests_total{code=\"error\"} %lu\n",
			(unsigned long)mc.errors);
	family(b, "metrics_http_closed_total", "counter", "Metrics connections closed by the listener.");
	text_buf_printf(b, P "metrics_http_closed_total{why=\"evicted\"} %lu\n",
			(unsigned long)mc.evicted);
	text_buf_printf(b, P "metrics_http_closed_total{why=\"deadline\"} %lu\n",
			(unsigned long)mc.timed_out);
	family(b, "metrics_http_renders_total", "counter", "Pages rendered (not served from the cache).");
	text_buf_printf(b, P "metrics_http_renders_total %lu\n", (unsigned long)mc.renders);
	family(b, "metrics_http_render_seconds_total", "counter", "Time spent rendering pages.");
	text_buf_printf(b, P "metrics_http_render_seconds_total %.6f\n", mc.render_ns / 1e9);
}

void metrics_prom_render(struct text_buf *b)
{
	struct gathered g = {0};

	if (gather(&g) != 0) {
		b->failed = true;
	} else {
		render_services(b, &g);
		render_backends(b, &g);
	}
	gathered_free(&g);
	render_dataplane(b);
	render_ports(b);
	render_control(b);
}
