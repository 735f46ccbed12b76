/* Lateness percentiles of a periodic job (see lateness_window.h). */
#include "lateness_window.h"

#include <stdlib.h>
#include <string.h>

void lateness_record(struct lateness_window *w, uint64_t late_ns)
{
	w->samples[w->n++ % LATENESS_WINDOW] = late_ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void lateness_summary(const struct lateness_window *w, uint64_t *p99_ns, uint64_t *max_ns,
		      uint32_t *samples)
{
	static uint64_t sorted[LATENESS_WINDOW]; /* control lcore only */
	uint32_t n = w->n < LATENESS_WINDOW ? (uint32_t)w->n : LATENESS_WINDOW;

	*p99_ns = *max_ns = 0;
	*samples = n;
	if (n == 0)
		return;
	memcpy(sorted, w->samples, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	*p99_ns = sorted[(n * 99 + 99) / 100 - 1];
	*max_ns = sorted[n - 1];
}
