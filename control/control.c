#include "control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "dataplane.h"
#include "config_store.h"
#include "conn_event_feed.h"
#include "ha_conn_sync.h"
#include "event_loop.h"
#include "health.h"
#include "ha.h"
#include "lateness_window.h"
#include "holding_page.h"
#include "rpc_server.h"

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

static struct ev_loop *loop;
static struct rpc_server *rpc;
static struct ev_timer load_timer, neigh_timer, reclaim_timer, drain_timer, probe_timer;
static struct lateness_window loop_lateness; /* the last ~400 s */

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
	loop = ev_loop_new(err, errlen);
	if (loop == NULL)
		return -1;
	/* The checker first: the boot configuration's commit gives it its targets. */
	if (health_init(loop, lb_rt.max_services, lb_rt.max_reals, lb_rt.config->health_max_processes,
			err, errlen) != 0 ||
	    config_store_init(err, errlen) != 0)
		goto fail;
	rpc = rpc_server_open(loop, lb_rt.config->rpc_socket, lb_rt.config->rpc_max_clients,
			      lb_rt.config->rpc_max_request_bytes, lb_rt.config->rpc_idle_timeout_s,
			      err, errlen);
	if (rpc == NULL)
		goto fail;
	holding_page_init(loop, lb_rt.config);
	if (ha_init(loop, err, errlen) != 0)
		goto fail;
	if (start_periodic(&drain_timer, RING_DRAIN_PERIOD_MS) != 0 ||
	    start_periodic(&load_timer, LOAD_BOARD_PERIOD_MS) != 0 ||
	    start_periodic(&neigh_timer, NEIGH_PERIOD_MS) != 0 ||
	    start_periodic(&reclaim_timer, RECLAIM_PERIOD_MS) != 0 ||
	    start_periodic(&probe_timer, LATENESS_PROBE_PERIOD_MS) != 0) {
		lb_err(err, errlen, "control: out of memory");
		goto fail;
	}
	return 0;
fail:
	control_shutdown();
	return -1;
}

void control_run(void)
{
	/* Re-armed from here, so that the wait between init and the first turn is not counted
	 * as lateness (re-arming an armed timer needs no memory). */
	ev_timer_start(loop, &probe_timer, LATENESS_PROBE_PERIOD_MS * EV_NS_PER_MS,
		       LATENESS_PROBE_PERIOD_MS * EV_NS_PER_MS);
	while (!__atomic_load_n(&lb_rt.quit, __ATOMIC_RELAXED)) {
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
	if (loop != NULL) {
		ev_timer_stop(loop, &drain_timer);
		ev_timer_stop(loop, &load_timer);
		ev_timer_stop(loop, &neigh_timer);
		ev_timer_stop(loop, &reclaim_timer);
		ev_timer_stop(loop, &probe_timer);
	}
	ev_loop_free(loop);
	loop = NULL;
	conn_dump_reap(true); /* the workers have stopped */
}
