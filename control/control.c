#include "control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "bond.h"
#include "ha_internal.h"
#include "ha_role.h"
#include "dataplane.h"
#include "config_replace.h"
#include "config_store.h"
#include "capture_ctl.h"
#include "conn_event_feed.h"
#include "ha_conn_sync.h"
#include "event_loop.h"
#include "health.h"
#include "ha.h"
#include "lateness_window.h"
#include "holding_page.h"
#include "metrics.h"
#include "metrics_http.h"
#include "rpc_server.h"
#include "rate_estimator.h"
#include "rate_history.h"
#include "rpc_block.h"
#include "src_top.h"

#define LOAD_BOARD_PERIOD_MS 10
#define NEIGH_PERIOD_MS 100
#define RECLAIM_PERIOD_MS 1000
/* Connection events read per worker and turn: a burst of new connections cannot stall the loop. */
#define CONN_EVENTS_PER_TURN 4096
/* ARP frames from the workers are drained this often (a burst per worker each time). */
#define RING_DRAIN_PERIOD_MS 1
/* The longest the loop sleeps before it looks at lb_rt.quit again. */
#define QUIT_CHECK_MS 5
/* A timer that does nothing but measure how late the loop runs it (system.info). */
#define LATENESS_PROBE_PERIOD_MS 100
/* The IPVS estimator samples every 2 s (its fixed-point scaling assumes it); history every 1 s. */
#define RATE_SAMPLE_PERIOD_MS 2000
#define HISTORY_PERIOD_MS 1000
/* Services with a history of their own (the global one is always kept): 141 KiB each. */
#define HISTORY_SERVICE_SLOTS 64
/* Source rates for conn.top are sampled, and blocklist entries expire, this often. */
#define OBSERVE_PERIOD_MS 1000
/* Members' links of active-backup bonds are read this often (bond.h): the failover delay. */
#define BOND_WATCH_PERIOD_MS 10

static struct ev_loop *loop;
static struct rpc_server *rpc;
static struct ev_timer load_timer, neigh_timer, reclaim_timer, drain_timer, probe_timer;
static struct ev_timer rate_timer, history_timer;
static struct ev_timer observe_timer;
static struct ev_timer bond_timer;
static struct lateness_window loop_lateness; /* the last ~400 s */
static struct control_rates_cost rates_cost;

/* Every millisecond: ARP/ND frames from the workers feed the neighbour table (and the kernel),
 * connection events go to their readers, and the exception path moves frames both ways. */
static void drain_worker_rings(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	uint64_t now = rte_rdtsc();

	(void)l;
	(void)t;
	(void)late_ns;
	exception_neighbour_poll(now);
	(void)conn_event_feed_poll(CONN_EVENTS_PER_TURN);
	/* Connection sync batches what the feed gave it, walks and installs (a no-op until started). */
	ha_conn_sync_poll(0);
	/* The exception path both ways: frames for the kernel out of the workers' rings, and what
	 * the kernel sent on its interfaces (at most a millisecond late). */
	exception_poll(now);
	/* Frees what replaced snapshots used once their grace period passed; never waits. */
	config_store_poll();
	/* Writes the workers' capture copies; ends a capture at its count or duration. */
	capture_ctl_poll(now);
	/* The pair: role changes, configuration sends, connection batches (after the feed). */
	ha_poll(ev_now_ns());
}

static void update_load_board(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	(void)l;
	(void)t;
	(void)late_ns;
	stats_update_load_board();
}

static void maintain_neighbours(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	(void)l;
	(void)t;
	(void)late_ns;
	neigh_table_maintain(lb_rt.neigh, rte_rdtsc(), lb_rt.tsc_hz, lb_rt.config->neigh_refresh_s,
			     lb_rt.config->neigh_timeout_s);
}

static void reclaim_ids(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	(void)l;
	(void)t;
	(void)late_ns;
	config_store_reclaim_ids();
}

/* Nanoseconds since cycle counter value start. */
static uint64_t ns_since(uint64_t start)
{
	return (rte_rdtsc() - start) * 1000000000u / lb_rt.tsc_hz;
}

static void sample_rates(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	uint64_t start = rte_rdtsc();

	(void)l;
	(void)t;
	(void)late_ns;
	rate_estimator_sample();
	rates_cost.estimator_last_ns = ns_since(start);
	if (rates_cost.estimator_last_ns > rates_cost.estimator_max_ns)
		rates_cost.estimator_max_ns = rates_cost.estimator_last_ns;
}

static void record_history(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	uint64_t start = rte_rdtsc();

	(void)l;
	(void)t;
	(void)late_ns;
	rate_history_tick();
	rates_cost.history_last_ns = ns_since(start);
	if (rates_cost.history_last_ns > rates_cost.history_max_ns)
		rates_cost.history_max_ns = rates_cost.history_last_ns;
}

void control_rates_cost(struct control_rates_cost *out)
{
	*out = rates_cost;
}

static void probe_lateness(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	(void)l;
	(void)t;
	lateness_record(&loop_lateness, late_ns);
}

void control_loop_lateness(struct control_lateness *out)
{
	memset(out, 0, sizeof(*out));
	out->period_ms = LATENESS_PROBE_PERIOD_MS;
	lateness_summary(&loop_lateness, &out->p99_ns, &out->max_ns, &out->samples);
}

/* Each periodic job runs at once, then every period_ms. */
static void observe(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	(void)l;
	(void)t;
	(void)late_ns;
	src_top_sample();
	block_expire();
}

static void watch_bonds(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	(void)l;
	(void)t;
	(void)late_ns;
	/* as Linux bonding's num_grat_arp: switches learn the bond's MAC on its new member now */
	if (bond_watch() > 0 && ha_owns_vips())
		ha_garp_send(1);
}

static int start_periodic(struct ev_timer *t, uint64_t period_ms)
{
	return ev_timer_start(loop, t, 0, period_ms * EV_NS_PER_MS);
}

int control_init(char *err, size_t errlen)
{
	ev_timer_init(&drain_timer, drain_worker_rings, NULL);
	ev_timer_init(&load_timer, update_load_board, NULL);
	ev_timer_init(&neigh_timer, maintain_neighbours, NULL);
	ev_timer_init(&reclaim_timer, reclaim_ids, NULL);
	ev_timer_init(&probe_timer, probe_lateness, NULL);
	ev_timer_init(&rate_timer, sample_rates, NULL);
	ev_timer_init(&history_timer, record_history, NULL);
	ev_timer_init(&observe_timer, observe, NULL);
	ev_timer_init(&bond_timer, watch_bonds, NULL);
	loop = ev_loop_new(err, errlen);
	if (loop == NULL)
		return -1;
	/* Before the boot configuration's commit, which starts its ids' estimators. */
	if (rate_estimator_init(lb_rt.max_services, lb_rt.max_reals) != 0 ||
	    rate_history_init(lb_rt.max_services, HISTORY_SERVICE_SLOTS) != 0) {
		lb_err(err, errlen, "control: out of memory for rate estimators and history");
		goto fail;
	}
	/* The checker first: the boot configuration's commit gives it its targets. */
	if (health_init(loop, lb_rt.max_services, lb_rt.max_reals, lb_rt.config->health_max_processes,
			err, errlen) != 0 ||
	    config_store_init(err, errlen) != 0)
		goto fail;
	if (src_top_init() != 0) {
		lb_err(err, errlen, "control: out of memory (source rates)");
		goto fail;
	}
	rpc = rpc_server_open(loop, lb_rt.config->rpc_socket, lb_rt.config->rpc_max_clients,
			      lb_rt.config->rpc_max_request_bytes, lb_rt.config->rpc_idle_timeout_s,
			      err, errlen);
	if (rpc == NULL)
		goto fail;
	holding_page_init(loop, lb_rt.config);
	metrics_http_init(loop, lb_rt.config);
	if (metrics_telemetry_init(loop) != 0) {
		lb_err(err, errlen, "control: cannot register the /dpdk_lb telemetry commands");
		goto fail;
	}
	if (ha_init(loop, err, errlen) != 0)
		goto fail;
	if (start_periodic(&drain_timer, RING_DRAIN_PERIOD_MS) != 0 ||
	    start_periodic(&load_timer, LOAD_BOARD_PERIOD_MS) != 0 ||
	    start_periodic(&neigh_timer, NEIGH_PERIOD_MS) != 0 ||
	    start_periodic(&reclaim_timer, RECLAIM_PERIOD_MS) != 0 ||
	    start_periodic(&probe_timer, LATENESS_PROBE_PERIOD_MS) != 0 ||
	    ev_timer_start(loop, &rate_timer, RATE_SAMPLE_PERIOD_MS * EV_NS_PER_MS,
			   RATE_SAMPLE_PERIOD_MS * EV_NS_PER_MS) != 0 ||
	    ev_timer_start(loop, &history_timer, HISTORY_PERIOD_MS * EV_NS_PER_MS,
			   HISTORY_PERIOD_MS * EV_NS_PER_MS) != 0 ||
	    start_periodic(&observe_timer, OBSERVE_PERIOD_MS) != 0 ||
	    start_periodic(&bond_timer, BOND_WATCH_PERIOD_MS) != 0) {
		lb_err(err, errlen, "control: out of memory");
		goto fail;
	}
	return 0;
fail:
	control_shutdown();
	return -1;
}

/* SIGHUP: an invalid file leaves the running configuration as it is, and says why. */
static void reload_config_file(void)
{
	char err[LB_ERR_LEN];

	LB_LOG(NOTICE, "reload: reading %s (SIGHUP)", lb_rt.config_path);
	if (config_reload_file(lb_rt.config_path, err, sizeof(err)) != 0)
		LB_LOG(ERR, "reload refused: %s", err);
	else
		LB_LOG(NOTICE, "reload: %s applied, configuration generation %llu", lb_rt.config_path,
		       (unsigned long long)config_store_generation());
}

void control_run(void)
{
	/* Re-armed from here, so that the wait between init and the first turn is not counted
	 * as lateness (re-arming an armed timer needs no memory). */
	ev_timer_start(loop, &probe_timer, LATENESS_PROBE_PERIOD_MS * EV_NS_PER_MS,
		       LATENESS_PROBE_PERIOD_MS * EV_NS_PER_MS);
	while (!__atomic_load_n(&lb_rt.quit, __ATOMIC_RELAXED)) {
		if (__atomic_exchange_n(&lb_rt.reload, false, __ATOMIC_RELAXED))
			reload_config_file();
		if (ev_loop_run_once(loop, QUIT_CHECK_MS) < 0) {
			LB_LOG(ERR, "control loop: %s", strerror(errno));
			break;
		}
	}
}

void control_shutdown(void)
{
	ha_shutdown();
	rpc_server_close(rpc);
	rpc = NULL;
	health_shutdown();
	holding_page_close();
	metrics_http_close();
	metrics_telemetry_close();
	if (loop != NULL) {
		ev_timer_stop(loop, &drain_timer);
		ev_timer_stop(loop, &load_timer);
		ev_timer_stop(loop, &neigh_timer);
		ev_timer_stop(loop, &reclaim_timer);
		ev_timer_stop(loop, &probe_timer);
		ev_timer_stop(loop, &rate_timer);
		ev_timer_stop(loop, &history_timer);
		ev_timer_stop(loop, &observe_timer);
		ev_timer_stop(loop, &bond_timer);
	}
	rate_estimator_free();
	rate_history_free();
	ev_loop_free(loop);
	loop = NULL;
	conn_dump_reap(true); /* the workers have stopped */
	capture_ctl_shutdown();
}
