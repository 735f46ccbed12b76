#include "rate_history.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane.h"

/* The counters a series turns into per-second values, and its connection count. */
struct series_sample {
	uint64_t conns, inpkts, outpkts, inbytes, outbytes, drops;
	uint64_t current; /* connections now (active + inactive) */
};

struct series {
	struct rate_ring ring;
	struct series_sample last; /* at the last tick */
	uint32_t service_id;       /* 0: free slot (the global series is not a slot) */
	uint64_t seen_tick;        /* the last tick its service was configured */
};

static struct series *global;
static struct series *slots; /* [n_slots] */
static uint32_t *slot_of;    /* [max_services + 1]: slot index + 1, 0 = none */
static uint32_t n_slots, n_service_ids;
static uint32_t n_used; /* slots given to a service */
static uint64_t ticks;          /* calls of rate_history_tick */
static uint64_t start_ns;       /* CLOCK_MONOTONIC at init */
static uint64_t last_second;    /* seconds since start_ns at the last recorded tick */
static uint64_t newest_unix;    /* Unix time of the newest recorded second */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int rate_history_init(uint32_t max_services, uint32_t service_slots)
{
	rate_history_free();
	if (service_slots > max_services)
		service_slots = max_services;
	global = calloc(1, sizeof(*global));
	slots = calloc(service_slots ? service_slots : 1, sizeof(*slots));
	slot_of = calloc((size_t)max_services + 1, sizeof(*slot_of));
	if (global == NULL || slots == NULL || slot_of == NULL) {
		rate_history_free();
		return -1;
	}
	n_slots = service_slots;
	n_used = 0;
	n_service_ids = max_services;
	start_ns = clock_ns(CLOCK_MONOTONIC);
	last_second = 0;
	ticks = 0;
	newest_unix = clock_ns(CLOCK_REALTIME) / 1000000000u;
	return 0;
}

void rate_history_free(void)
{
	free(global);
	free(slots);
	free(slot_of);
	global = NULL;
	slots = NULL;
	slot_of = NULL;
	n_slots = n_service_ids = 0;
}

/* Connections of service s now, from the load board (refreshed every 10 ms). */
static uint64_t service_connections(const struct lb_service_cfg *s)
{
	uint64_t n = 0;

	LB_SERVICE_FOREACH_DEST(s, r) {
		if (r->id != 0 && r->id <= lb_rt.max_reals)
			n += (uint64_t)__atomic_load_n(&lb_rt.load.total_active[r->id], __ATOMIC_RELAXED) +
			     __atomic_load_n(&lb_rt.load.total_inactive[r->id], __ATOMIC_RELAXED);
	}
	return n;
}

static void service_sample(const struct lb_service_cfg *s, struct series_sample *out)
{
	struct traffic_sum t;

	stats_service(s->id, &t);
	out->conns = t.conns;
	out->inpkts = t.inpkts;
	out->outpkts = t.outpkts;
	out->inbytes = t.inbytes;
	out->outbytes = t.outbytes;
	out->drops = 0;
	out->current = service_connections(s);
}

static void global_sample(const struct lb_config *cfg, struct series_sample *out)
{
	struct lb_worker_stats ws;

	stats_workers(&ws);
	out->conns = ws.flows_created;
	out->inpkts = ws.rx_packets;
	out->outpkts = ws.tx_packets;
	port_stats_bytes(&out->inbytes, &out->outbytes);
	out->drops = 0;
	for (int r = 0; r < LB_DROP_REASON_COUNT; r++)
		out->drops += ws.drops[r];
	out->current = 0;
	for (uint32_t i = 0; cfg != NULL && i < cfg->n_services; i++)
		out->current += service_connections(&cfg->services[i]);
}

static float per_second(uint64_t now, uint64_t before, uint64_t seconds)
{
	return now >= before ? (float)((double)(now - before) / (double)seconds) : 0.0f;
}

/* Records `seconds` seconds of series se, which now has counters now. */
static void record(struct series *se, const struct series_sample *now, uint64_t seconds)
{
	const struct series_sample *b = &se->last;
	struct rate_ring_values v;

	v.v[RATE_RING_CONNS] = (float)now->current;
	v.v[RATE_RING_CPS] = per_second(now->conns, b->conns, seconds);
	v.v[RATE_RING_INPPS] = per_second(now->inpkts, b->inpkts, seconds);
	v.v[RATE_RING_OUTPPS] = per_second(now->outpkts, b->outpkts, seconds);
	v.v[RATE_RING_INBPS] = per_second(now->inbytes, b->inbytes, seconds);
	v.v[RATE_RING_OUTBPS] = per_second(now->outbytes, b->outbytes, seconds);
	v.v[RATE_RING_DROPS] = per_second(now->drops, b->drops, seconds);
	rate_ring_push(&se->ring, &v, seconds);
	se->last = *now;
}

/* The slot of service id, taking a free one (cleared) when it has none; NULL when all taken. */
static struct series *service_slot(uint32_t id, const struct series_sample *now, bool *fresh)
{
	*fresh = false;
	if (slot_of[id] != 0)
		return &slots[slot_of[id] - 1];
	for (uint32_t i = 0; i < n_slots; i++) {
		if (slots[i].service_id != 0)
			continue;
		rate_ring_clear(&slots[i].ring);
		slots[i].service_id = id;
		slots[i].last = *now;
		slot_of[id] = i + 1;
		n_used++;
		*fresh = true;
		return &slots[i];
	}
	return NULL;
}

void rate_history_tick(void)
{
	const struct lb_config *cfg = lb_rt.config;
	uint64_t second = (clock_ns(CLOCK_MONOTONIC) - start_ns) / 1000000000u, n;
	struct series_sample now;

	if (global == NULL || second <= last_second)
		return;
	n = second - last_second;
	last_second = second;
	ticks++;
	newest_unix = clock_ns(CLOCK_REALTIME) / 1000000000u;
	global_sample(cfg, &now);
	record(global, &now, n);
	for (uint32_t i = 0; cfg != NULL && i < cfg->n_services; i++) {
		const struct lb_service_cfg *s = &cfg->services[i];
		bool fresh;
		if (s->id == 0 || s->id > n_service_ids)
			continue;
		if (slot_of[s->id] == 0 && n_used == n_slots)
			continue; /* no history for it: spare the counters' summing */
		service_sample(s, &now);
		struct series *se = service_slot(s->id, &now, &fresh);
		if (se == NULL)
			continue;
		se->seen_tick = ticks;
		if (!fresh)
			record(se, &now, n);
	}
	/* a service removed since the last tick frees its slot */
	for (uint32_t i = 0; i < n_slots; i++) {
		if (slots[i].service_id != 0 && slots[i].seen_tick != ticks) {
			slot_of[slots[i].service_id] = 0;
			slots[i].service_id = 0;
			n_used--;
		}
	}
}

size_t rate_history_read(int scope, unsigned resolution_s, struct rate_history_point *out,
			 size_t max)
{
	const struct series *se;

	if (global == NULL)
		return 0;
	if (scope == -1) {
		se = global;
	} else {
		if (scope <= 0 || (uint32_t)scope > n_service_ids || slot_of[scope] == 0)
			return 0;
		se = &slots[slot_of[scope] - 1];
	}
	return rate_ring_read(&se->ring, resolution_s, newest_unix, out, max);
}
