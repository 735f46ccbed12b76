#include "worker_hold.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_rcu_qsbr.h>

int worker_hold_set(uint16_t index, bool held)
{
	if (index >= lb_rt.n_workers)
		return -1;
	__atomic_store_n(&lb_rt.workers[index]->test_held, held, __ATOMIC_RELEASE);
	return 0;
}

bool worker_hold_get(uint16_t index)
{
	return index < lb_rt.n_workers &&
	       __atomic_load_n(&lb_rt.workers[index]->test_held, __ATOMIC_ACQUIRE);
}

int worker_hold_from_env(const char **bad)
{
	const char *hooks = getenv("DPDK_LB_TEST_HOOKS");
	const char *list = getenv("DPDK_LB_TEST_HOLD_WORKERS");

	if (hooks == NULL || strcmp(hooks, "1") != 0 || list == NULL)
		return 0;
	for (const char *p = list; *p != '\0';) {
		char *end;
		unsigned long index = strtoul(p, &end, 10);

		if (end == p || (*end != ',' && *end != '\0') || index > UINT16_MAX ||
		    worker_hold_set((uint16_t)index, true) != 0) {
			*bad = p;
			return -1;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

void worker_hold_wait(struct lb_worker *w)
{
	/* Offline so configuration publication never waits for a held worker. */
	rte_rcu_qsbr_thread_offline(lb_rt.rcu, w->index);
	while (__atomic_load_n(&w->test_held, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&lb_rt.quit, __ATOMIC_RELAXED)) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	rte_rcu_qsbr_thread_online(lb_rt.rcu, w->index);
}
