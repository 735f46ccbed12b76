/*
 * dpdk-lb daemon entry: configuration, EAL, ports and worker lcores; then the main lcore
 * becomes the control lcore (control/control.c) until SIGINT or SIGTERM.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include "control.h"
#include "lb_log.h"
#include "lb_runtime.h"
#include "mbuf_pool.h"
#include "neigh.h"
#include "persist_table.h"
#include "port.h"
#include "worker.h"
#include "worker_hold.h"

struct lb_runtime lb_rt;
RTE_LOG_REGISTER_DEFAULT(lb_logtype, NOTICE);

static void on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&lb_rt.quit, true, __ATOMIC_RELAXED);
}

/* `systemctl reload`: the control loop reloads the file on its next turn (config_replace.h). */
static void on_sighup(int sig)
{
	(void)sig;
	__atomic_store_n(&lb_rt.reload, true, __ATOMIC_RELAXED);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: dpdk-lb -c CONFIG.json [-- EAL-ARGS...]\n"
		     "  -c, --config FILE   configuration file (docs/config.md)\n"
		     "  -h, --help          this text\n"
		     "EAL arguments come from the config's \"eal\" array unless given after --.\n");
}

static int alloc_load_board(void)
{
	size_t n = lb_rt.max_reals + 1;
	struct lb_load_board *b = &lb_rt.load;

	b->total_active = rte_zmalloc("load", n * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
	b->total_inactive = rte_zmalloc("load", n * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
	b->overloaded = rte_zmalloc("load", n, RTE_CACHE_LINE_SIZE);
	if (b->total_active == NULL || b->total_inactive == NULL || b->overloaded == NULL)
		return -1;
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		b->worker_active[w] = rte_zmalloc("load", n * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
		b->worker_inactive[w] = rte_zmalloc("load", n * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
		if (b->worker_active[w] == NULL || b->worker_inactive[w] == NULL)
			return -1;
	}
	return 0;
}

static int setup_workers(const struct lb_config *cfg)
{
	unsigned int lcore;
	uint16_t n = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (n == LB_MAX_WORKERS) {
			fprintf(stderr, "dpdk-lb: at most %d worker lcores\n", LB_MAX_WORKERS);
			return -1;
		}
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "dpdk-lb: no worker lcore: give EAL at least two lcores (-l 0-1); "
				"the main lcore is the control lcore\n");
		return -1;
	}
	lb_rt.n_workers = n;
	if (cfg->fnat_port_max - cfg->fnat_port_min + 1 < n) {
		fprintf(stderr, "dpdk-lb: dataplane.fnat_port_min..fnat_port_max holds fewer ports "
				"than there are workers (%u)\n", n);
		return -1;
	}
	size_t rcu_size = rte_rcu_qsbr_get_memsize(n);
	lb_rt.rcu = rte_zmalloc("rcu", rcu_size, RTE_CACHE_LINE_SIZE);
	if (lb_rt.rcu == NULL || rte_rcu_qsbr_init(lb_rt.rcu, n) != 0)
		return -1;
	n = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		lb_rt.workers[n] = worker_create(n, lcore, cfg->flow_capacity, cfg->flow_capacity_v6);
		if (lb_rt.workers[n] == NULL) {
			fprintf(stderr, "dpdk-lb: worker %u: cannot allocate its flow table (%u flows) "
					"or rings: %s\n",
				n, cfg->flow_capacity, rte_strerror(rte_errno));
			return -1;
		}
		rte_rcu_qsbr_thread_register(lb_rt.rcu, n);
		n++;
	}
	return alloc_load_board();
}

/* The parsed config file, or NULL after saying why on stderr. */
static struct lb_config *load_config(const char *path)
{
	struct lb_config *cfg = calloc(1, sizeof(*cfg));
	char err[LB_ERR_LEN];

	if (cfg == NULL) {
		fprintf(stderr, "dpdk-lb: out of memory\n");
		return NULL;
	}
	if (lb_config_load_file(path, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dpdk-lb: %s\n", err);
		free(cfg);
		return NULL;
	}
	return cfg;
}

/*
 * EAL argument vector (argv[0] first, NULL-terminated; the strings are borrowed): those after
 * "--" win over the config's. NULL when out of memory.
 */
static char **eal_args(int argc, char **argv, const struct lb_config *cfg, int *eal_argc)
{
	bool from_cli = optind < argc && strcmp(argv[optind - 1], "--") == 0;
	int n = from_cli ? argc - optind : (int)cfg->eal_argc;
	char **eal_argv = calloc((size_t)n + 2, sizeof(char *));

	if (eal_argv == NULL)
		return NULL;
	eal_argv[0] = argv[0];
	for (int i = 0; i < n; i++)
		eal_argv[i + 1] = from_cli ? argv[optind + i] : cfg->eal_argv[i];
	*eal_argc = n + 1;
	return eal_argv;
}

/* The runtime settings workers and control read, from cfg; after rte_eal_init (lcore count). */
static void init_runtime(struct lb_config *cfg, const char *config_path)
{
	lb_rt.config = cfg;
	lb_rt.config_path = config_path;
	lb_rt.tsc_hz = rte_get_tsc_hz();
	lb_rt.start_tsc = rte_rdtsc();
	lb_rt.max_reals = cfg->max_reals;
	lb_rt.max_services = cfg->max_services;
	lb_rt.idle_sleep_us = cfg->idle_sleep_us;
	/*
	 * Fragments waiting for the rest of their datagram hold mbufs: never let them take more
	 * than a quarter of the pool, or incomplete datagrams could starve reception.
	 */
	uint32_t n_lcores_workers = rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
	uint32_t frag_cap = cfg->mbufs / (4u * RTE_LIBRTE_IP_FRAG_MAX_FRAG * n_lcores_workers);
	lb_rt.frag_datagrams = cfg->frag_datagrams < frag_cap ? cfg->frag_datagrams : frag_cap;
	if (lb_rt.frag_datagrams < 16)
		lb_rt.frag_datagrams = 16;
	if (lb_rt.frag_datagrams < cfg->frag_datagrams)
		LB_LOG(NOTICE, "dataplane.frag_datagrams %u lowered to %u per worker: the fragments "
			       "held must stay under a quarter of dataplane.mbufs (%u)",
		       cfg->frag_datagrams, lb_rt.frag_datagrams, cfg->mbufs);
	lb_rt.frag_timeout_ms = cfg->frag_timeout_ms;
	lb_rt.fnat_port_min = (uint16_t)cfg->fnat_port_min;
	lb_rt.fnat_port_max = (uint16_t)cfg->fnat_port_max;
}

/* Reads the options into *config_path; -1 to go on, else the exit status (help, usage error). */
static int parse_args(int argc, char **argv, const char **config_path)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int opt;

	*config_path = NULL;
	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			*config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (*config_path == NULL) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* What follows EAL's start: leftovers of an interrupted save, dpdk-dumpcap, signals; whether
 * rte_pdump is on (to be uninitialised at exit). */
static bool after_eal_init(const char *config_path)
{
	int stale = lb_config_remove_stale_tmp(config_path);

	if (stale > 0)
		LB_LOG(NOTICE, "removed %d temporary file(s) of %s left by an interrupted save",
		       stale, config_path);
	/* dpdk-dumpcap (a secondary process) captures through it; it needs shared memory, so
	 * it works with hugepages and not with --no-huge or --in-memory. */
	bool pdump = rte_pdump_init() == 0;
	if (!pdump)
		LB_LOG(NOTICE, "rte_pdump_init: %s: dpdk-dumpcap cannot attach (capture.start still works)",
		       rte_strerror(rte_errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, on_sighup);
	return pdump;
}

int main(int argc, char **argv)
{
	const char *config_path;
	char err[LB_ERR_LEN];
	struct lb_config *cfg;
	int eal_argc, status = parse_args(argc, argv, &config_path);
	char **eal_argv;

	if (status >= 0)
		return status;
	cfg = load_config(config_path);
	if (cfg == NULL)
		return 1;
	eal_argv = eal_args(argc, argv, cfg, &eal_argc);
	if (eal_argv == NULL || rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "dpdk-lb: EAL init failed: %s\n",
			eal_argv ? rte_strerror(rte_errno) : "out of memory");
		free(eal_argv);
		lb_config_free(cfg);
		free(cfg);
		return 1;
	}
	bool pdump = after_eal_init(config_path);

	init_runtime(cfg, config_path);

	int rc = 1;
	if (setup_workers(cfg) != 0)
		goto out;
	lb_rt.pool = mbuf_pool_create("lb_mbufs", cfg->mbufs, 256,
				      (uint16_t)(cfg->mbuf_data_room + RTE_PKTMBUF_HEADROOM),
				      (int)rte_socket_id());
	if (lb_rt.pool == NULL) {
		fprintf(stderr, "dpdk-lb: mbuf pool of %u: %s (raise EAL -m or lower dataplane.mbufs)\n",
			cfg->mbufs, rte_strerror(rte_errno));
		goto out;
	}
	if (ports_init(cfg, lb_rt.n_workers, err, sizeof(err)) != 0) {
		fprintf(stderr, "dpdk-lb: %s\n", err);
		goto out;
	}
	const char *bad_hold;
	if (worker_hold_from_env(&bad_hold) != 0) {
		fprintf(stderr, "dpdk-lb: DPDK_LB_TEST_HOLD_WORKERS: '%s' is not a worker index\n",
			bad_hold);
		goto out_ports;
	}
	lb_rt.neigh = neigh_table_create(cfg->max_reals + cfg->n_static_neigh + 16);
	lb_rt.persist = persist_table_create(cfg->persistence_capacity);
	if (lb_rt.neigh == NULL || lb_rt.persist == NULL || control_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "dpdk-lb: %s\n",
			lb_rt.neigh && lb_rt.persist ? err : "out of memory (neighbours, persistence)");
		goto out_ports;
	}
	for (uint16_t w = 0; w < lb_rt.n_workers; w++)
		rte_eal_remote_launch(worker_main, lb_rt.workers[w], lb_rt.workers[w]->lcore_id);
	LB_LOG(NOTICE, "%s: %u worker(s), %u port(s), control on lcore %u, RPC on %s",
	       DPDK_LB_VERSION, lb_rt.n_workers, lb_rt.n_ports, rte_lcore_id(), cfg->rpc_socket);

	control_run();

	__atomic_store_n(&lb_rt.quit, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	control_shutdown();
	rc = 0;
	LB_LOG(NOTICE, "stopped");
out_ports:
	ports_close();
out:
	if (pdump)
		rte_pdump_uninit();
	rte_eal_cleanup();
	lb_config_free(cfg);
	free(cfg);
	free(eal_argv);
	return rc;
}
