/* Targets, check scheduling, state changes and their publication (see health.h). */
#include "health_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_state_file.h"
#include "config_store.h"
#include "lateness_window.h"
#include "lb_log.h"

#define AGENT_COALESCE_NS (50 * EV_NS_PER_MS) /* agent replies of one tick: one snapshot */

struct service_targets {
	uint32_t epoch;
	uint32_t n, cap;
	struct health_target **t;
};

static struct ev_loop *loop;
static uint32_t max_services, max_reals;
static struct health_target **by_real;        /* [max_reals + 1] */
static struct service_targets *by_service;    /* [max_services + 1] */
static uint8_t *dirty;                        /* [max_services + 1]: to republish */
static bool any_dirty;
static uint32_t epoch;
static struct ev_timer publish_timer;
static struct health_counters counters;

/* How late check and agent timers ran: the scale benchmark's check lateness (stats.get). */
static struct lateness_window lateness;

void health_lateness(uint64_t *p99_ns, uint64_t *max_ns, uint32_t *samples)
{
	lateness_summary(&lateness, p99_ns, max_ns, samples);
}

double health_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct health_target *health_target_get(uint32_t real_id)
{
	return real_id <= max_reals && by_real != NULL ? by_real[real_id] : NULL;
}

/* ---- publication of observations ---- */

static void publish_dirty(struct ev_loop *l, struct ev_timer *t, uint64_t late_ns)
{
	char err[LB_ERR_LEN];

	(void)l;
	(void)t;
	(void)late_ns;
	if (!any_dirty)
		return;
	any_dirty = false;
	int rc = config_store_refresh(dirty, max_services, err, sizeof(err));
	memset(dirty, 0, max_services + 1);
	if (rc != 0)
		LB_LOG(ERR, "health: publishing observed weights failed: %s", err);
	else
		counters.publications++;
}

/* The service of t must be republished: at once for a state change, batched for agents. */
static void mark_dirty(const struct health_target *t, uint64_t delay_ns)
{
	if (t->service_id > max_services)
		return;
	dirty[t->service_id] = 1;
	if (!any_dirty || (delay_ns == 0 && publish_timer.due_ns > ev_now_ns())) {
		any_dirty = true;
		ev_timer_start(loop, &publish_timer, delay_ns, 0);
	}
}

/* ---- state changes ---- */

/* Notify commands in flight, cancelled at shutdown (the loop must not outlive them). */
#define MAX_NOTIFY 64
static struct ev_op *notify_ops[MAX_NOTIFY];

static void notify_exited(struct ev_loop *l, pid_t pid, int status, bool timed_out, void *arg)
{
	(void)l;
	(void)pid;
	(void)status;
	(void)timed_out;
	notify_ops[(uintptr_t)arg] = NULL;
	check_processes_running--;
}

static void run_notify(const struct health_target *t, const char *why)
{
	char svc[64], real[64], nwhy[CHECK_RUN_WHY_LEN];
	struct ev_op *op;
	const char *cmd = t->plan->cfg.notify;

	if (cmd[0] == '\0')
		return;
	snprintf(svc, sizeof(svc), t->vip.family == AF_INET6 ? "[%s]:%u" : "%s:%u", t->vip_s, t->vport);
	snprintf(real, sizeof(real), t->rip.family == AF_INET6 ? "[%s]:%u" : "%s:%u", t->rip_s,
		 t->rport);
	const char *extra[] = {lb_health_state_name(t->state), svc, real, why, NULL};
	uintptr_t slot = 0;
	while (slot < MAX_NOTIFY && notify_ops[slot] != NULL)
		slot++;
	if (slot == MAX_NOTIFY) {
		LB_LOG(WARNING, "health: notify command not run: %d already running", MAX_NOTIFY);
		return;
	}
	/* Fire and forget: a mail alert must not hold a check; it is killed after 30 s. */
	if (check_spawn_words(loop, cmd, extra, 30000 * EV_NS_PER_MS, notify_exited, (void *)slot,
			      &op, nwhy, sizeof(nwhy)) != 0)
		LB_LOG(WARNING, "health: notify command: %s", nwhy);
	else
		notify_ops[slot] = op;
}

static void set_state(struct health_target *t, uint8_t state, const char *why)
{
	uint8_t was = t->state;

	t->state = state;
	t->since = health_wall_now();
	counters.state_changes++;
	LB_LOG(NOTICE, "health: %s %s%s%s:%u real %s%s%s:%u %s (was %s): %s",
	       t->l4proto == IPPROTO_UDP ? "UDP" : "TCP", t->vip.family == AF_INET6 ? "[" : "",
	       t->vip_s, t->vip.family == AF_INET6 ? "]" : "", t->vport,
	       t->rip.family == AF_INET6 ? "[" : "", t->rip_s, t->rip.family == AF_INET6 ? "]" : "",
	       t->rport, lb_health_state_name(state), lb_health_state_name(was), why);
	run_notify(t, why);
	/* unknown counts as up: only a change to or from down moves weights */
	if (was == LB_HEALTH_DOWN || state == LB_HEALTH_DOWN)
		mark_dirty(t, 0);
}

/* ---- checks ---- */

static void check_done(struct check_run *run, bool up, const char *why)
{
	struct health_target *t = run->arg;
	const struct lb_check_cfg *c = &t->plan->cfg;

	t->running = false;
	t->checks++;
	counters.checks++;
	t->last_check = health_wall_now();
	t->latency_ms = (double)(ev_now_ns() - t->run_started_ns) / 1e6;
	if (up) {
		t->successes++;
		t->failures = 0;
		if (t->state != LB_HEALTH_UP &&
		    (t->state == LB_HEALTH_UNKNOWN || t->successes >= c->successes))
			set_state(t, LB_HEALTH_UP, why);
		return;
	}
	counters.checks_failed++;
	snprintf(t->last_error, sizeof(t->last_error), "%s", why);
	t->failures++;
	t->successes = 0;
	if (t->state != LB_HEALTH_DOWN && t->failures >= c->failures)
		set_state(t, LB_HEALTH_DOWN, why);
}

static void fill_addr(struct sockaddr_storage *ss, socklen_t *len, const struct lb_addr *a,
		      uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->v6, 16);
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, &a->v4, 4);
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
	}
}

/* The runner and timeout of this round (type N: N connects, then one negotiate). */
static const struct check_runner *round_runner(struct health_target *t, uint64_t *timeout_ms)
{
	const struct lb_check_cfg *c = &t->plan->cfg;

	*timeout_ms = c->timeout_ms;
	switch (c->type) {
	case LB_CHECK_CONNECT:
		return &check_runner_connect;
	case LB_CHECK_PING:
		return &check_runner_ping;
	case LB_CHECK_EXTERNAL:
		return &check_runner_external;
	case LB_CHECK_NEGOTIATE:
		if (c->connects_first != 0 && t->cycle++ < c->connects_first)
			return &check_runner_connect;
		t->cycle = 0;
		*timeout_ms = c->negotiate_timeout_ms;
		return &check_runner_negotiate;
	default:
		return NULL;
	}
}

static void check_tick(struct ev_loop *l, struct ev_timer *tm, uint64_t late_ns)
{
	struct health_target *t = tm->arg;
	const struct lb_check_cfg *c = &t->plan->cfg;
	char why[CHECK_RUN_WHY_LEN];
	uint64_t timeout_ms;

	lateness_record(&lateness, late_ns);
	if (t->running) /* a timeout longer than the interval: this round is skipped */
		return;
	const struct check_runner *runner = round_runner(t, &timeout_ms);
	if (runner == NULL)
		return;
	memset(&t->run, 0, sizeof(t->run));
	t->run.loop = l;
	t->run.cfg = c;
	t->run.proto = lb_check_proto(c, t->rport);
	t->run.receive_re = t->plan->has_re ? &t->plan->re : NULL;
	fill_addr(&t->run.addr, &t->run.addrlen, &t->rip, c->port ? c->port : t->rport);
	t->run.l4proto = c->protocol ? c->protocol : t->l4proto;
	t->run.timeout_ns = timeout_ms * EV_NS_PER_MS;
	snprintf(t->run.vip, sizeof(t->run.vip), "%s", t->vip_s);
	snprintf(t->run.rip, sizeof(t->run.rip), "%s", t->rip_s);
	t->run.vport = t->vport;
	t->run.rport = c->port ? c->port : t->rport;
	t->run.done = check_done;
	t->run.arg = t;
	t->run_started_ns = ev_now_ns();
	if (runner == &check_runner_negotiate && t->run.proto == NULL)
		return; /* the validator refuses it; a check cannot be run without a protocol */
	if (check_run_start(&t->run, runner, why, sizeof(why)) != 0) {
		/* The appliance's own trouble (no fd, no room for a process): not the real's. */
		counters.checks_not_run++;
		snprintf(t->last_error, sizeof(t->last_error), "%s", why);
		return;
	}
	t->running = true;
}

/* A start somewhere in the first interval: thousands of checks spread, not fired at once. */
static uint64_t spread_ns(uint32_t interval_ms)
{
	return (uint64_t)((double)random() / RAND_MAX * interval_ms) * EV_NS_PER_MS;
}

static void stop_check(struct health_target *t)
{
	ev_timer_stop(loop, &t->check_timer);
	if (t->running)
		check_run_cancel(&t->run);
	t->running = false;
}

static void plan_put(struct health_plan *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	json_decref(p->base);
	json_decref(p->over);
	if (p->has_re)
		regfree(&p->re);
	free(p);
}

static struct health_plan *plan_new(json_t *base, json_t *over)
{
	struct health_plan *p = calloc(1, sizeof(*p));
	char err[LB_ERR_LEN];

	if (p == NULL)
		return NULL;
	if (lb_check_from_json(base, over, "check", &p->cfg, err, sizeof(err)) != 0) {
		LB_LOG(ERR, "health: internal: a validated check does not parse: %s", err);
		free(p);
		return NULL;
	}
	if (p->cfg.receive_regex[0] != '\0')
		p->has_re = regcomp(&p->re, p->cfg.receive_regex, REG_EXTENDED | REG_NOSUB) == 0;
	p->refs = 1;
	p->base = json_incref(base);
	p->over = json_incref(over);
	return p;
}

/* Gives t the check of svc and r (shared when r does not override it). */
static void sync_check(struct health_target *t, struct health_plan **svc_plan,
		       const struct lb_service_cfg *svc, const struct lb_real_cfg *r)
{
	struct health_plan *want = NULL;

	if (t->plan != NULL && t->plan->base == svc->check && t->plan->over == r->check) {
		if (r->check == NULL && *svc_plan == NULL)
			*svc_plan = t->plan;
		return;
	}
	if (svc->check != NULL || r->check != NULL) {
		if (r->check == NULL && *svc_plan != NULL) {
			want = *svc_plan;
			want->refs++;
		} else if ((want = plan_new(svc->check, r->check)) != NULL && r->check == NULL) {
			*svc_plan = want;
		}
	}
	stop_check(t);
	plan_put(t->plan);
	t->plan = want;
	t->cycle = 0;
	t->failures = t->successes = 0;
	if (want == NULL) {
		t->state = LB_HEALTH_UNKNOWN;
		return;
	}
	if (want->cfg.type == LB_CHECK_ON || want->cfg.type == LB_CHECK_OFF) {
		uint8_t st = want->cfg.type == LB_CHECK_ON ? LB_HEALTH_UP : LB_HEALTH_DOWN;
		if (t->state != st)
			set_state(t, st, want->cfg.type == LB_CHECK_ON ? "check on" : "check off");
		return;
	}
	ev_timer_start(loop, &t->check_timer, spread_ns(want->cfg.interval_ms),
		       (uint64_t)want->cfg.interval_ms * EV_NS_PER_MS);
}

/* ---- agents ---- */

static void agent_done(struct agent_poll *p, bool ok, const struct agent_reply *reply,
		       const char *line)
{
	struct health_target *t = p->arg;

	counters.agent_polls++;
	t->agent_last = health_wall_now();
	if (!ok) {
		/* An unreachable or confused agent changes nothing; it is counted and shown. */
		counters.agent_failures++;
		t->agent_failures++;
		snprintf(t->agent_error, sizeof(t->agent_error), "%s", line);
		return;
	}
	t->agent_error[0] = '\0';
	snprintf(t->agent_line, sizeof(t->agent_line), "%s", line);
	bool changed = !t->agent_valid || memcmp(&t->agent, reply, sizeof(*reply)) != 0;
	t->agent = *reply;
	t->agent_valid = true;
	if (changed)
		mark_dirty(t, AGENT_COALESCE_NS);
}

static void agent_tick(struct ev_loop *l, struct ev_timer *tm, uint64_t late_ns)
{
	struct health_target *t = tm->arg;
	char why[AGENT_WHY_LEN];

	lateness_record(&lateness, late_ns);
	if (t->poll.in_flight)
		return;
	t->poll.loop = l;
	t->poll.cfg = &t->agent_cfg;
	fill_addr(&t->poll.addr, &t->poll.addrlen, &t->rip, t->agent_cfg.port);
	snprintf(t->poll.host, sizeof(t->poll.host), "%s", t->rip_s);
	t->poll.done = agent_done;
	t->poll.arg = t;
	if (agent_poll_start(&t->poll, why, sizeof(why)) != 0) {
		counters.agent_failures++;
		snprintf(t->agent_error, sizeof(t->agent_error), "not run: %s", why);
	}
}

static void stop_agent(struct health_target *t)
{
	ev_timer_stop(loop, &t->agent_timer);
	agent_poll_cancel(&t->poll);
}

static void sync_agent(struct health_target *t, const struct lb_service_cfg *svc)
{
	char err[LB_ERR_LEN];

	if (t->agent_json == svc->agent)
		return;
	stop_agent(t);
	json_decref(t->agent_json);
	t->agent_json = json_incref(svc->agent);
	t->agent_valid = false;
	t->agent_failures = 0;
	t->agent_line[0] = t->agent_error[0] = '\0';
	if (svc->agent == NULL ||
	    lb_agent_from_json(svc->agent, "agent", &t->agent_cfg, err, sizeof(err)) != 0 ||
	    t->agent_cfg.type == LB_AGENT_NONE)
		return;
	/* The reals of a service are polled together, one tick for all: one snapshot a tick. The
	 * services' ticks are spread over the interval by the golden-ratio sequence of their ids:
	 * consecutive ids land far apart, however few services there are (id % 997 put 100
	 * services' 1,000 polls into the first tenth of each interval, a burst the exception
	 * path's rate limit cut into). */
	uint32_t frac = (uint32_t)svc->id * 2654435769u;
	uint64_t first = ((uint64_t)frac * t->agent_cfg.interval_ms >> 32) * EV_NS_PER_MS;
	ev_timer_start(loop, &t->agent_timer, first, (uint64_t)t->agent_cfg.interval_ms * EV_NS_PER_MS);
}

/* ---- targets ---- */

static struct health_target *target_new(uint32_t service_id, uint32_t real_id)
{
	struct service_targets *st = &by_service[service_id];
	struct health_target *t;

	if (st->n == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 8;
		struct health_target **n = realloc(st->t, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		st->t = n;
		st->cap = cap;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->real_id = real_id;
	t->service_id = service_id;
	t->since = health_wall_now();
	ev_timer_init(&t->check_timer, check_tick, t);
	ev_timer_init(&t->agent_timer, agent_tick, t);
	st->t[st->n++] = t;
	by_real[real_id] = t;
	counters.targets++;
	return t;
}

static void target_free(struct health_target *t)
{
	stop_check(t);
	stop_agent(t);
	plan_put(t->plan);
	json_decref(t->agent_json);
	if (by_real[t->real_id] == t)
		by_real[t->real_id] = NULL;
	counters.targets--;
	free(t);
}

/* Removes the targets of service_id not seen in this sync (all of them when it is gone). */
static void sweep_service(uint32_t service_id)
{
	struct service_targets *st = &by_service[service_id];
	uint32_t kept = 0;

	for (uint32_t i = 0; i < st->n; i++) {
		if (st->t[i]->seen_epoch == epoch)
			st->t[kept++] = st->t[i];
		else
			target_free(st->t[i]);
	}
	st->n = kept;
}

static void sync_target(struct health_target *t, struct health_plan **svc_plan,
			const struct lb_service_cfg *svc, const struct lb_real_cfg *r)
{
	t->seen_epoch = epoch;
	t->l4proto = svc->proto;
	t->vip = svc->vip;
	t->vport = svc->port;
	t->rip = r->ip;
	t->rport = r->port;
	lb_addr_format(&svc->vip, t->vip_s, sizeof(t->vip_s));
	lb_addr_format(&r->ip, t->rip_s, sizeof(t->rip_s));
	sync_check(t, svc_plan, svc, r);
	sync_agent(t, svc);
}

void health_sync(const struct lb_config *c, bool all)
{
	bool admin_changed = false;

	epoch++;
	for (uint32_t i = 0; i < c->n_services; i++) {
		const struct lb_service_cfg *svc = &c->services[i];
		struct health_plan *svc_plan = NULL;
		if (svc->id > max_services)
			continue;
		by_service[svc->id].epoch = epoch;
		if (!all && !svc->changed)
			continue;
		for (uint32_t j = 0; j < svc->n_reals; j++) {
			const struct lb_real_cfg *r = &svc->reals[j];
			struct health_target *t = r->id <= max_reals ? by_real[r->id] : NULL;
			if (t == NULL && (r->id > max_reals || (t = target_new(svc->id, r->id)) == NULL))
				continue; /* out of memory: this real is simply not checked */
			admin_changed |= t->admin_state != r->admin_state;
			t->admin_state = r->admin_state;
			sync_target(t, &svc_plan, svc, r);
		}
		sweep_service(svc->id);
	}
	for (uint32_t id = 1; id <= max_services; id++)
		if (by_service[id].n != 0 && by_service[id].epoch != epoch)
			sweep_service(id); /* the service is gone */
	if (admin_changed)
		admin_state_file_write(c);
}

struct lb_effective health_effective(const struct lb_service_cfg *svc, const struct lb_real_cfg *r)
{
	struct health_target *t = health_target_get(r->id);
	struct lb_observation obs = {.health = LB_HEALTH_UNKNOWN, .quiescent = true};

	/* Only what the candidate still checks counts: a check or agent just removed is gone. */
	if (t != NULL && t->plan != NULL && (svc->check != NULL || r->check != NULL)) {
		obs.health = t->state;
		obs.quiescent = t->plan->cfg.quiescent;
	}
	if (t != NULL && svc->agent != NULL && t->agent_valid) {
		obs.has_agent = true;
		obs.agent = t->agent;
	}
	return lb_effective_weight(r->weight, r->admin_state, &obs);
}

bool health_service_all_down(const struct lb_service_cfg *svc)
{
	for (uint32_t j = 0; j < svc->n_reals; j++)
		if (!svc->reals[j].eff_out && svc->reals[j].eff_weight > 0)
			return false;
	return true;
}

void health_counters_get(struct health_counters *c)
{
	*c = counters;
	c->processes = check_processes_running;
}

int health_init(struct ev_loop *l, uint32_t n_services, uint32_t n_reals, uint32_t max_processes,
		char *err, size_t errlen)
{
	loop = l;
	max_services = n_services;
	max_reals = n_reals;
	check_processes_max = max_processes;
	by_real = calloc(n_reals + 1, sizeof(*by_real));
	by_service = calloc(n_services + 1, sizeof(*by_service));
	dirty = calloc(n_services + 1, 1);
	if (by_real == NULL || by_service == NULL || dirty == NULL) {
		health_shutdown();
		return lb_err(err, errlen, "health: out of memory");
	}
	ev_timer_init(&publish_timer, publish_dirty, NULL);
	srandom((unsigned int)ev_now_ns());
	return 0;
}

void health_shutdown(void)
{
	if (by_service != NULL) {
		for (uint32_t id = 0; id <= max_services; id++) {
			for (uint32_t i = 0; i < by_service[id].n; i++)
				target_free(by_service[id].t[i]);
			free(by_service[id].t);
		}
	}
	for (int i = 0; loop != NULL && i < MAX_NOTIFY; i++)
		if (notify_ops[i] != NULL) {
			ev_op_cancel(loop, notify_ops[i]);
			notify_ops[i] = NULL;
			check_processes_running--;
		}
	if (loop != NULL)
		ev_timer_stop(loop, &publish_timer);
	free(by_real);
	free(by_service);
	free(dirty);
	by_real = NULL;
	by_service = NULL;
	dirty = NULL;
	loop = NULL;
}
