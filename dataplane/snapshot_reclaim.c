/*
 * Publication without waiting: the replaced snapshot and the objects only it used wait in a
 * FIFO, each with an RCU token, until every worker has passed a quiescent state.
 */
#include "snapshot_internal.h"

#include <stdlib.h>

#include <rte_rcu_qsbr.h>

struct pending_free {
	struct pending_free *next;
	uint64_t token;
	struct lb_snapshot *old; /* its arrays; its objects are in `garbage` when no longer used */
	struct snap_garbage *garbage;
	void (*after_grace)(void *arg);
	void *arg;
};

static struct pending_free *head, **tail = &head;
static uint32_t n_pending;

int snap_garbage_add(struct snap_garbage **g, void (*fn)(void *p), void *p)
{
	struct snap_garbage *l = *g;

	if (l == NULL && (l = *g = calloc(1, sizeof(*l))) == NULL)
		return -1;
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 16;
		void *items = realloc(l->items, cap * sizeof(*l->items));
		if (items == NULL)
			return -1;
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n].fn = fn;
	l->items[l->n].p = p;
	l->n++;
	return 0;
}

uint32_t snap_garbage_count(const struct snap_garbage *g)
{
	return g ? g->n : 0;
}

void snap_garbage_run(struct snap_garbage *g)
{
	if (g == NULL)
		return;
	for (uint32_t i = 0; i < g->n; i++)
		g->items[i].fn(g->items[i].p);
	snap_garbage_drop(g);
}

void snap_garbage_drop(struct snap_garbage *g)
{
	if (g == NULL)
		return;
	free(g->items);
	free(g);
}

/* Frees a snapshot's own arrays; its objects belong to whoever retires them. */
static void snapshot_free_shell(struct lb_snapshot *snap)
{
	if (snap == NULL)
		return;
	free(snap->services);
	free(snap->real_pages);
	snap_garbage_drop(snap->retired);
	free(snap);
}

void snapshot_publish(struct lb_snapshot *snap, void (*after_grace)(void *arg), void *arg)
{
	struct pending_free *pf = calloc(1, sizeof(*pf));
	struct lb_snapshot *old = lb_rt.snapshot;

	__atomic_store_n(&lb_rt.snapshot, snap, __ATOMIC_RELEASE);
	lb_rt.snapshot_generation = snap->generation;
	if (pf == NULL) {
		/* No room to defer: wait here instead, correct if slow. */
		rte_rcu_qsbr_synchronize(lb_rt.rcu, RTE_QSBR_THRID_INVALID);
		snap_garbage_run(snap->retired);
		snap->retired = NULL;
		snapshot_free_shell(old);
		if (after_grace != NULL)
			after_grace(arg);
		return;
	}
	/* The token is taken after the store: a worker past it can only see `snap`. */
	pf->token = rte_rcu_qsbr_start(lb_rt.rcu);
	pf->old = old;
	pf->garbage = snap->retired;
	snap->retired = NULL;
	pf->after_grace = after_grace;
	pf->arg = arg;
	*tail = pf;
	tail = &pf->next;
	n_pending++;
}

uint32_t snapshot_reclaim(void)
{
	/* FIFO: a later publication's grace period never ends before an earlier one's. */
	while (head != NULL && rte_rcu_qsbr_check(lb_rt.rcu, head->token, false) == 1) {
		struct pending_free *pf = head;
		head = pf->next;
		if (head == NULL)
			tail = &head;
		n_pending--;
		snap_garbage_run(pf->garbage);
		snapshot_free_shell(pf->old);
		if (pf->after_grace != NULL)
			pf->after_grace(pf->arg);
		free(pf);
	}
	return n_pending;
}

uint32_t snapshot_pending(void)
{
	return n_pending;
}

uint32_t snapshot_pending_objects(void)
{
	uint32_t n = 0;

	for (const struct pending_free *pf = head; pf != NULL; pf = pf->next)
		n += snap_garbage_count(pf->garbage) + (pf->old != NULL);
	return n;
}
