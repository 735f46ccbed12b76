#include "control.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "config_store.h"
#include "lb_runtime.h"
#include "neigh.h"
#include "rpc_server.h"
#include "stats.h"

#define LOAD_BOARD_PERIOD_MS 10
#define NEIGH_PERIOD_MS 100
#define RECLAIM_PERIOD_MS 1000

static struct rpc_server *rpc;

int control_init(char *err, size_t errlen)
{
	if (config_store_init(err, errlen) != 0)
		return -1;
	rpc = rpc_server_open(lb_rt.config->rpc_socket, lb_rt.config->rpc_max_clients,
			      lb_rt.config->rpc_max_request_bytes, err, errlen);
	return rpc ? 0 : -1;
}

/* ARP frames workers passed up feed the neighbour table. */
static void drain_worker_rings(uint64_t now)
{
	void *objs[32];

	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		unsigned int n = rte_ring_dequeue_burst(lb_rt.workers[w]->to_control, objs, 32, NULL);
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = objs[i];
			neigh_table_learn(lb_rt.neigh, rte_pktmbuf_mtod(m, const uint8_t *),
					  rte_pktmbuf_data_len(m), now);
			rte_pktmbuf_free(m);
		}
	}
}

void control_run(void)
{
	uint64_t hz = lb_rt.tsc_hz, ms = hz / 1000;
	uint64_t next_load = 0, next_neigh = 0, next_reclaim = 0;

	while (!__atomic_load_n(&lb_rt.quit, __ATOMIC_RELAXED)) {
		rpc_server_poll(rpc, 5);
		uint64_t now = rte_rdtsc();
		drain_worker_rings(now);
		config_store_poll();
		if (now >= next_load) {
			stats_update_load_board();
			next_load = now + LOAD_BOARD_PERIOD_MS * ms;
		}
		if (now >= next_neigh) {
			neigh_table_maintain(lb_rt.neigh, now, hz, lb_rt.config->neigh_refresh_s,
					     lb_rt.config->neigh_timeout_s);
			next_neigh = now + NEIGH_PERIOD_MS * ms;
		}
		if (now >= next_reclaim) {
			config_store_reclaim_ids();
			next_reclaim = now + RECLAIM_PERIOD_MS * ms;
		}
	}
}

void control_shutdown(void)
{
	rpc_server_close(rpc);
	rpc = NULL;
}
