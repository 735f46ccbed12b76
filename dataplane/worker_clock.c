/* The worker-clock test hook (worker_clock.h). */
#include "worker_clock.h"

#include <time.h>

#include "worker_hold.h"

bool worker_clock_set(uint16_t index, uint64_t tsc)
{
	if (index >= lb_rt.n_workers)
		return false;
	struct lb_worker *w = lb_rt.workers[index];
	__atomic_store_n(&w->test_clock, tsc, __ATOMIC_SEQ_CST);
	if (tsc == 0 || worker_hold_get(index))
		return tsc == 0;
	/*
	 * A loop that counts past seen + 1 read the clock after this store; the one after it
	 * starts once that loop, expiry included, is over.
	 */
	uint32_t seen = __atomic_load_n(&w->test_clock_loops, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 10000; i++) {
		uint32_t now = __atomic_load_n(&w->test_clock_loops, __ATOMIC_SEQ_CST);
		if ((uint32_t)(now - seen) >= 3)
			return true;
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
	return false;
}

uint64_t worker_clock_get(uint16_t index)
{
	return index < lb_rt.n_workers ? __atomic_load_n(&lb_rt.workers[index]->test_clock,
							 __ATOMIC_SEQ_CST)
				       : 0;
}
