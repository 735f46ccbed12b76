/*
 * Maglev (mh) table build time on the control lcore: M = 65537 with N = 1000 and N = 100 real
 * servers, equal and mixed weights. Prints figures only; nothing here asserts on time, since
 * the machine it runs on decides them.
 *
 * Build by hand: cc -std=c11 -O2 -D_GNU_SOURCE -Ilib -Ilib/sched tests/bench/maglev_build_bench.c
 * plus every lib/sched .c file and lib/inet_addr.c (or link lb_lib in meson).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler.h"

#define REPEATS 5

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Times REPEATS builds of the mh table for n servers; prints best and mean in milliseconds. */
static int bench(const struct sched_ops *mh, uint32_t n, uint32_t table_size, int mixed_weights)
{
	struct sched_dest *dests = calloc(n, sizeof(*dests));
	struct sched_params params = {.table_size = table_size};
	double best = 0, total = 0;

	if (dests == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		dests[i].addr = lb_addr_from_v4(htonl(0x0a000000u + i + 1));
		dests[i].port = 80;
		dests[i].weight = mixed_weights ? i % 4 + 1 : 1;
	}
	for (int r = 0; r < REPEATS; r++) {
		void *shared = NULL;
		double start = now_ms();
		int rc = mh->init(&shared, dests, n, &params);
		double took = now_ms() - start;

		if (rc != 0) {
			fprintf(stderr, "mh init failed: %d\n", rc);
			free(dests);
			return -1;
		}
		mh->release(shared);
		total += took;
		if (r == 0 || took < best)
			best = took;
	}
	printf("maglev build M=%u N=%u weights=%s: best %.2f ms, mean %.2f ms (%d runs)\n",
	       table_size, n, mixed_weights ? "1..4" : "equal", best, total / REPEATS, REPEATS);
	free(dests);
	return 0;
}

int main(void)
{
	const struct sched_ops *mh = sched_find("mh");

	if (mh == NULL) {
		fprintf(stderr, "no mh scheduler\n");
		return 1;
	}
	if (bench(mh, 1000, 65537, 0) || bench(mh, 100, 65537, 0) || bench(mh, 1000, 65537, 1) ||
	    bench(mh, 100, 65537, 1))
		return 1;
	return 0;
}
