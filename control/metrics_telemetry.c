/*
 * The metrics for DPDK telemetry (dpdk-telemetry.py): /dpdk_lb/stats, /dpdk_lb/drops,
 * /dpdk_lb/services, /dpdk_lb/ports and /dpdk_lb/health. Telemetry callbacks run on DPDK's
 * telemetry thread, which must not touch the control side's objects (the running configuration
 * is freed after a commit): the worker and port counters are read directly (relaxed loads of
 * single-writer counters, as the control lcore reads them), and everything else from a copy the
 * control loop refreshes every second. The copy is swapped under a mutex the control loop only
 * ever try-locks, so the telemetry thread can never hold the loop up.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "config_store.h"
#include "dataplane.h"
#include "health.h"
#include "metrics.h"
#include "rate_estimator.h"

#define REFRESH_MS 1000

struct service_copy {
	char vip[LB_ADDR_STRLEN];
	uint16_t port;
	uint8_t proto;
	struct traffic_sum t;
	struct lb_rates r;
};

struct telemetry_copy {
	uint32_t n_services;
	struct health_counters health;
	uint64_t generation;
	struct service_copy services[];
};

static pthread_mutex_t copy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct telemetry_copy *current; /* under copy_lock */
static struct ev_loop *loop;
static struct ev_timer refresh_timer;

static struct telemetry_copy *copy_new(void)
{
	const struct lb_config *c = config_store_running();
	struct telemetry_copy *t =
		calloc(1, sizeof(*t) + c->n_services * sizeof(struct service_copy));
	if (t == NULL)
		return NULL;
	t->n_services = c->n_services;
	t->generation = config_store_generation();
	health_counters_get(&t->health);
	for (uint32_t i = 0; i < c->n_services; i++) {
		const struct lb_service_cfg *s = &c->services[i];
		struct service_copy *sc = &t->services[i];
		lb_addr_format(&s->vip, sc->vip, sizeof(sc->vip));
		sc->port = s->port;
		sc->proto = s->proto;
		stats_service(s->id, &sc->t);
		int64_t active = 0, inactive = 0;
		for (uint32_t j = 0; j < s->n_reals; j++) {
			struct traffic_sum r;
			stats_real(s->reals[j].id, &r);
			active += r.active;
			inactive += r.inactive;
		}
		sc->t.active = active;
		sc->t.inactive = inactive;
		rate_estimator_service(s->id, &sc->r);
	}
	return t;
}

static void refresh(struct ev_loop *l, struct ev_timer *tm, uint64_t late_ns)
{
	(void)l;
	(void)tm;
	(void)late_ns;
	struct telemetry_copy *t = copy_new();
	if (t == NULL)
		return;
	if (pthread_mutex_trylock(&copy_lock) != 0) { /* being read: next second */
		free(t);
		return;
	}
	struct telemetry_copy *old = current;
	current = t;
	pthread_mutex_unlock(&copy_lock);
	free(old);
}

#define COUNTER(field) {#field, offsetof(struct lb_worker_stats, field)},
static const struct {
	const char *name;
	size_t offset;
} worker_counters[] = {LB_WORKER_COUNTERS(COUNTER)};
#undef COUNTER

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct lb_worker_stats ws;
	uint64_t dropped = 0;

	(void)cmd;
	(void)params;
	stats_workers(&ws);
	rte_tel_data_start_dict(d);
	for (size_t i = 0; i < sizeof(worker_counters) / sizeof(worker_counters[0]); i++)
		rte_tel_data_add_dict_u64(d, worker_counters[i].name,
					  *(const uint64_t *)((const char *)&ws + worker_counters[i].offset));
	for (int r = 0; r < LB_DROP_REASON_COUNT; r++)
		dropped += ws.drops[r];
	rte_tel_data_add_dict_u64(d, "dropped", dropped);
	return 0;
}

static int cmd_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct lb_worker_stats ws;

	(void)cmd;
	(void)params;
	stats_workers(&ws);
	rte_tel_data_start_dict(d);
	for (int r = 0; r < LB_DROP_REASON_COUNT; r++)
		rte_tel_data_add_dict_u64(d, lb_drop_reason_names[r], ws.drops[r]);
	return 0;
}

static struct rte_tel_data *service_dict(const struct service_copy *sc)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	if (c == NULL)
		return NULL;
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_string(c, "proto", lb_proto_name(sc->proto));
	rte_tel_data_add_dict_string(c, "vip", sc->vip);
	rte_tel_data_add_dict_u64(c, "port", sc->port);
	rte_tel_data_add_dict_u64(c, "conns", sc->t.conns);
	rte_tel_data_add_dict_u64(c, "inpkts", sc->t.inpkts);
	rte_tel_data_add_dict_u64(c, "outpkts", sc->t.outpkts);
	rte_tel_data_add_dict_u64(c, "inbytes", sc->t.inbytes);
	rte_tel_data_add_dict_u64(c, "outbytes", sc->t.outbytes);
	rte_tel_data_add_dict_u64(c, "active", (uint64_t)sc->t.active);
	rte_tel_data_add_dict_u64(c, "inactive", (uint64_t)sc->t.inactive);
	rte_tel_data_add_dict_u64(c, "cps", (uint64_t)(sc->r.cps + 0.5));
	rte_tel_data_add_dict_u64(c, "inpps", (uint64_t)(sc->r.inpps + 0.5));
	rte_tel_data_add_dict_u64(c, "outpps", (uint64_t)(sc->r.outpps + 0.5));
	rte_tel_data_add_dict_u64(c, "inbps", (uint64_t)(sc->r.inbps + 0.5));
	rte_tel_data_add_dict_u64(c, "outbps", (uint64_t)(sc->r.outbps + 0.5));
	return c;
}

/*
 * Services by their position in the configuration ("0", "1" ...), each a dict with its proto,
 * vip and port: telemetry names allow only letters, digits, '_' and '/', so an address cannot
 * be a key, and arrays hold no dicts. The first RTE_TEL_MAX_DICT_ENTRIES, a telemetry limit.
 */
static int cmd_services(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&copy_lock);
	for (uint32_t i = 0; current != NULL && i < current->n_services &&
			     i < RTE_TEL_MAX_DICT_ENTRIES; i++) {
		struct rte_tel_data *c = service_dict(&current->services[i]);
		char name[16];
		snprintf(name, sizeof(name), "%u", i);
		if (c != NULL && rte_tel_data_add_dict_container(d, name, c, 0) != 0)
			rte_tel_data_free(c);
	}
	pthread_mutex_unlock(&copy_lock);
	return 0;
}

static int cmd_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
		struct lb_port_stats st;
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[16];
		if (c == NULL || port_stats_get(p, &st) != 0) {
			rte_tel_data_free(c);
			continue;
		}
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "name", lb_rt.ports[p].name);
		rte_tel_data_add_dict_u64(c, "rx_packets", st.rx_packets);
		rte_tel_data_add_dict_u64(c, "tx_packets", st.tx_packets);
		rte_tel_data_add_dict_u64(c, "rx_bytes", st.rx_bytes);
		rte_tel_data_add_dict_u64(c, "tx_bytes", st.tx_bytes);
		rte_tel_data_add_dict_u64(c, "rx_errors", st.rx_errors);
		rte_tel_data_add_dict_u64(c, "tx_errors", st.tx_errors);
		rte_tel_data_add_dict_u64(c, "rx_missed", st.rx_missed);
		rte_tel_data_add_dict_u64(c, "rx_no_mbuf", st.rx_no_mbuf);
		rte_tel_data_add_dict_u64(c, "link_up", st.link_up);
		rte_tel_data_add_dict_u64(c, "link_speed_mbps", st.link_speed_mbps);
		snprintf(name, sizeof(name), "%u", p);
		if (rte_tel_data_add_dict_container(d, name, c, 0) != 0)
			rte_tel_data_free(c);
	}
	return 0;
}

static int cmd_health(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&copy_lock);
	if (current != NULL) {
		const struct health_counters *h = &current->health;
		rte_tel_data_add_dict_u64(d, "checks", h->checks);
		rte_tel_data_add_dict_u64(d, "checks_failed", h->checks_failed);
		rte_tel_data_add_dict_u64(d, "checks_not_run", h->checks_not_run);
		rte_tel_data_add_dict_u64(d, "agent_polls", h->agent_polls);
		rte_tel_data_add_dict_u64(d, "agent_failures", h->agent_failures);
		rte_tel_data_add_dict_u64(d, "state_changes", h->state_changes);
		rte_tel_data_add_dict_u64(d, "targets", h->targets);
		rte_tel_data_add_dict_u64(d, "config_generation", current->generation);
	}
	pthread_mutex_unlock(&copy_lock);
	return 0;
}

int metrics_telemetry_init(struct ev_loop *l)
{
	static const struct {
		const char *cmd, *help;
		telemetry_cb fn;
	} cmds[] = {
		{"/dpdk_lb/stats", "Dataplane counters (as stats.get's dataplane). No parameters",
		 cmd_stats},
		{"/dpdk_lb/drops", "Dropped packets by reason. No parameters", cmd_drops},
		{"/dpdk_lb/services", "Per service counters and rates (refreshed every second). No "
		 "parameters", cmd_services},
		{"/dpdk_lb/ports", "Per port counters and link. No parameters", cmd_ports},
		{"/dpdk_lb/health", "Health check totals. No parameters", cmd_health},
	};
	static bool registered; /* commands cannot be unregistered: once per process */

	loop = l;
	refresh(loop, NULL, 0);
	ev_timer_init(&refresh_timer, refresh, NULL);
	if (ev_timer_start(loop, &refresh_timer, REFRESH_MS * EV_NS_PER_MS,
			   REFRESH_MS * EV_NS_PER_MS) != 0)
		return -1;
	for (size_t i = 0; !registered && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help) != 0)
			return -1;
	registered = true;
	return 0;
}

void metrics_telemetry_close(void)
{
	if (loop == NULL)
		return;
	ev_timer_stop(loop, &refresh_timer);
	loop = NULL;
	/* The commands stay registered: they answer from the last copy, or nothing once freed. */
	pthread_mutex_lock(&copy_lock);
	free(current);
	current = NULL;
	pthread_mutex_unlock(&copy_lock);
}
