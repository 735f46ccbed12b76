#include "conn_scan.h"

#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>

#include "event_loop.h"

#define SCAN_DUMP_ENTRIES 4096
#define SCAN_TIMEOUT_MS 1000
#define SCAN_POLL_NS (100 * 1000)
#define SCAN_TEMPLATES_PER_TURN 65536

struct conn_scan {
	struct ev_loop *loop;
	struct ev_timer tick;
	struct conn_scan_ops ops;
	void *arg;
	struct conn_dump_request *req;
	bool posted;
	uint64_t deadline_tsc;
	uint32_t worker, pos;
	uint32_t tpl_pos; /* templates walked so far */
	uint32_t now_s;
};

static void scan_free(struct conn_scan *s)
{
	ev_timer_stop(s->loop, &s->tick);
	if (s->posted)
		conn_dump_abandon(s->req);
	else
		conn_dump_request_free(s->req);
	free(s);
}

void conn_scan_cancel(struct conn_scan *s)
{
	scan_free(s);
}

static void scan_end(struct conn_scan *s, const char *error)
{
	void (*done)(void *, const char *) = s->ops.done;
	void *arg = s->arg;

	scan_free(s);
	done(arg, error);
}

/* Templates, a bounded number per turn; true when all are walked. */
static bool walk_templates(struct conn_scan *s)
{
	uint32_t end = persist_table_positions(lb_rt.persist);
	uint32_t stop = end - s->tpl_pos > SCAN_TEMPLATES_PER_TURN ? s->tpl_pos + SCAN_TEMPLATES_PER_TURN
								   : end;

	for (; s->tpl_pos < stop; s->tpl_pos++) {
		struct persist_template t;
		if (persist_table_read(lb_rt.persist, s->tpl_pos, s->now_s, &t))
			s->ops.template(s->arg, &t);
	}
	return s->tpl_pos >= end;
}

static void scan_step(struct ev_loop *loop, struct ev_timer *t, uint64_t late_ns)
{
	struct conn_scan *s = t->arg;
	char why[96];

	(void)loop;
	(void)late_ns;
	if (s->posted) {
		if (!conn_dump_done(s->req)) {
			if (rte_rdtsc() > s->deadline_tsc) {
				snprintf(why, sizeof(why), "worker %u did not answer within %u ms",
					 s->worker, SCAN_TIMEOUT_MS);
				scan_end(s, why);
				return;
			}
			ev_timer_start(s->loop, &s->tick, SCAN_POLL_NS, 0);
			return;
		}
		s->posted = false;
		for (uint32_t i = 0; i < s->req->count; i++)
			s->ops.entry(s->arg, &s->req->out[i], s->worker);
		s->pos = s->req->cursor;
	}
	while (s->worker < lb_rt.n_workers &&
	       s->pos >= conn_dump_positions(lb_rt.workers[s->worker])) {
		s->worker++;
		s->pos = 0;
	}
	if (s->worker < lb_rt.n_workers) {
		s->req->max = SCAN_DUMP_ENTRIES;
		s->req->cursor = s->pos;
		s->req->end = UINT32_MAX;
		if (conn_dump_post(lb_rt.workers[s->worker], s->req) != 0) {
			snprintf(why, sizeof(why), "worker %u is busy with earlier dumps; try again",
				 s->worker);
			scan_end(s, why);
			return;
		}
		s->posted = true;
		s->deadline_tsc = rte_rdtsc() + lb_rt.tsc_hz / 1000 * SCAN_TIMEOUT_MS;
		ev_timer_start(s->loop, &s->tick, SCAN_POLL_NS, 0);
		return;
	}
	if (s->ops.template != NULL && !walk_templates(s)) {
		ev_timer_start(s->loop, &s->tick, 0, 0);
		return;
	}
	scan_end(s, NULL);
}

struct conn_scan *conn_scan_start(struct ev_loop *loop, const struct conn_dump_filter *filter,
				  const struct conn_scan_ops *ops, void *arg)
{
	struct conn_scan *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->req = conn_dump_request_new(SCAN_DUMP_ENTRIES)) == NULL) {
		free(s);
		return NULL;
	}
	s->loop = loop;
	s->ops = *ops;
	s->arg = arg;
	s->now_s = (uint32_t)(rte_rdtsc() / lb_rt.tsc_hz);
	if (filter != NULL)
		s->req->filter = *filter;
	ev_timer_init(&s->tick, scan_step, s);
	if (ev_timer_start(loop, &s->tick, 0, 0) != 0) {
		conn_dump_request_free(s->req);
		free(s);
		return NULL;
	}
	return s;
}
