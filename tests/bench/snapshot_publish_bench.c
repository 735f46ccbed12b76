/*
 * Snapshot build + publish on the control lcore, without the RPC layer: 10,000 services x 10
 * reals (wrr), shared or distinct real addresses. Figures (median of REPEATS):
 *  - full: a whole snapshot built from scratch, as every change did before incremental
 *    publication (the baseline);
 *  - one real: one real's weight changed, incremental build + publish;
 *  - batch: 1,000 reals of 1,000 services changed in one configuration, one snapshot;
 *  - service removed: one service of 10,000 deleted (the lookup tables are rebuilt);
 *  - reclaim: freeing what a publication left behind once its grace period is over.
 * EAL runs with one lcore and no ports; no worker is registered with RCU, so a grace period is
 * over at once (publishing never waits for workers anyway). Prints figures only. With the
 * argument "one" it first publishes 2,000 one-real changes (for a profiler).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "config.h"
#include "lb_runtime.h"
#include "neigh.h"
#include "snapshot.h"

#define N_SERVICES 10000u
#define REALS_PER 10u
#define REPEATS 15

static int profile_one; /* argument "one": only one-real changes, many, for perf */

struct lb_runtime lb_rt;
int lb_logtype; /* neigh.c logs; RTE_LOGTYPE 0, never enabled here */

static double ms_since(uint64_t t0)
{
	return (double)(rte_rdtsc() - t0) * 1e3 / (double)lb_rt.tsc_hz;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void set_v4(struct lb_addr *a, uint32_t host_order)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->v4 = htonl(host_order);
}

/* 10.10.s/16 VIPs; reals 10.0.0.11.. (shared) or 172.16.0.0/12 (distinct); ids assigned. */
static void make_config(struct lb_config *c, int distinct)
{
	uint32_t real_id = 0;

	lb_config_init_defaults(c);
	c->n_services = N_SERVICES;
	c->services = calloc(N_SERVICES, sizeof(*c->services));
	for (uint32_t s = 0; s < N_SERVICES; s++) {
		struct lb_service_cfg *sc = &c->services[s];
		set_v4(&sc->vip, (10u << 24) | (10u << 16) | s);
		sc->port = 80;
		sc->proto = IPPROTO_TCP;
		snprintf(sc->scheduler, sizeof(sc->scheduler), "wrr");
		sc->expire_quiescent_template = -1;
		sc->id = s + 1;
		sc->n_reals = REALS_PER;
		sc->reals = calloc(REALS_PER, sizeof(*sc->reals));
		for (uint32_t r = 0; r < REALS_PER; r++) {
			struct lb_real_cfg *rc = &sc->reals[r];
			uint32_t k = s * REALS_PER + r;
			set_v4(&rc->ip, distinct ? (172u << 24) | (16u << 16) | k : (10u << 24) | (11 + r));
			rc->port = 80;
			rc->weight = 1;
			rc->id = ++real_id;
			rc->gen = 1;
		}
	}
}

/* Builds and publishes next on top of *running; next becomes the running configuration. */
static double commit(struct lb_config *running, struct lb_config *next, double *reclaim_ms)
{
	struct snapshot_diff diff;
	char err[256];
	uint64_t t0 = rte_rdtsc();
	struct lb_snapshot *snap = snapshot_build(next, running, &diff, err, sizeof(err));

	if (snap == NULL) {
		fprintf(stderr, "build failed: %s (%u -> %u services, published %u)\n", err, running->n_services, next->n_services, lb_rt.snapshot ? lb_rt.snapshot->n_services : 0);
		exit(1);
	}
	snapshot_publish(snap, NULL, NULL);
	double ms = ms_since(t0);
	t0 = rte_rdtsc();
	snapshot_reclaim();
	*reclaim_ms = ms_since(t0);
	snapshot_diff_free(&diff);
	lb_config_free(running);
	*running = *next;
	return ms;
}

static void run(int distinct)
{
	struct lb_config running, next;
	double full[REPEATS], one[REPEATS], batch[REPEATS], rec_one[REPEATS], rec_batch[REPEATS];
	double del[REPEATS], rec_del[REPEATS];
	double rec;
	char err[256];
	struct snapshot_diff diff;

	lb_config_init_defaults(&running); /* empty, as the previous scenario left it */
	make_config(&next, distinct);
	rec = commit(&running, &next, &rec); /* every service new */
	for (int i = 0; profile_one && i < 2000; i++) {
		lb_config_clone(&running, &next);
		next.services[1234].reals[3].weight = 2 + (uint32_t)i % 7;
		commit(&running, &next, &rec);
	}
	for (int i = 0; i < REPEATS; i++) {
		/* the baseline: everything built again, as before incremental publication */
		struct lb_snapshot *published = lb_rt.snapshot;
		uint64_t t0 = rte_rdtsc();
		lb_rt.snapshot = NULL;
		struct lb_snapshot *s = snapshot_build(&running, NULL, &diff, err, sizeof(err));
		full[i] = ms_since(t0);
		lb_rt.snapshot = published;
		snapshot_discard(s);
		snapshot_diff_free(&diff);

		lb_config_clone(&running, &next);
		next.services[1234].reals[3].weight = 2 + (uint32_t)i;
		one[i] = commit(&running, &next, &rec_one[i]);

		lb_config_clone(&running, &next);
		for (uint32_t k = 0; k < 1000; k++)
			next.services[k * 9 + (uint32_t)i % 9].reals[k % REALS_PER].weight += 1;
		batch[i] = commit(&running, &next, &rec_batch[i]);

		/* a service removed from the middle: the lookup tables are rebuilt */
		lb_config_clone(&running, &next);
		lb_config_remove_service(&next, 5000);
		del[i] = commit(&running, &next, &rec_del[i]);
	}
	printf("%s real addresses: full rebuild %.3f ms, one-real change build+publish %.3f ms "
	       "(reclaim %.3f ms), 1000-real batch build+publish %.3f ms (reclaim %.3f ms), "
	       "service removed build+publish %.3f ms (reclaim %.3f ms)\n",
	       distinct ? "distinct" : "shared", median(full, REPEATS), median(one, REPEATS),
	       median(rec_one, REPEATS), median(batch, REPEATS), median(rec_batch, REPEATS),
	       median(del, REPEATS), median(rec_del, REPEATS));
	lb_config_init_defaults(&next); /* no service left: everything is freed */
	commit(&running, &next, &rec);
	lb_config_free(&running);
}

int main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0",
		       "--log-level", "lib.eal:error"};
	profile_one = argc > 1 && strcmp(argv[1], "one") == 0;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	lb_rt.tsc_hz = rte_get_tsc_hz();
	lb_rt.n_workers = 1;
	lb_rt.max_services = N_SERVICES + 16;
	lb_rt.max_reals = N_SERVICES * REALS_PER + 64;
	lb_rt.n_ports = 2;
	lb_rt.ports[0].has_address = true;
	set_v4(&lb_rt.ports[0].address, (10u << 24) | 2);
	lb_rt.ports[0].prefix_len = 8;
	lb_rt.ports[1].has_address = true;
	set_v4(&lb_rt.ports[1].address, (172u << 24) | (16u << 16) | 2);
	lb_rt.ports[1].prefix_len = 12;
	lb_rt.neigh = neigh_table_create(lb_rt.max_reals + 16);
	lb_rt.rcu = rte_zmalloc("rcu", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	if (lb_rt.neigh == NULL || lb_rt.rcu == NULL || rte_rcu_qsbr_init(lb_rt.rcu, 1) != 0) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	run(0);
	run(1);
	return 0;
}
