/*
 * Connection sync (ha_conn_sync.h): the MASTER turns connection events into records and batches
 * them; the BACKUP installs what it receives on its own workers. Walks (periodic refresh, full
 * sync) are in ha_conn_sync_walk.c, ids <-> keys in ha_conn_sync_map.c.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "config_store.h"
#include "conn_event_feed.h"
#include "dataplane.h"
#include "flow_owner.h"
#include "ha_conn_record.h"
#include "ha_conn_sync_internal.h"

#define INSTALL_RING_SIZE 16384 /* requests per worker waiting to be applied */
#define WALK_RECORDS_PER_POLL 192 /* 16 full messages a millisecond: a sync socket keeps up */
#define CAPTURE_MAX 256 /* test hook: messages kept */

const char *const ha_conn_refuse_names[HA_REFUSE_COUNT] = {
	[HA_REFUSE_NOT_BACKUP] = "not_backup",
	[HA_REFUSE_NO_SERVICE] = "no_service",
	[HA_REFUSE_NO_REAL] = "no_real",
	[HA_REFUSE_WORKER] = "worker",
	[HA_REFUSE_FORWARD] = "forward",
	[HA_REFUSE_FNAT_PORT] = "fnat_port",
	[HA_REFUSE_RING_FULL] = "ring_full",
	[HA_REFUSE_TABLE_FULL] = "table_full",
	[HA_REFUSE_BAD_RECORD] = "bad_record",
	[HA_REFUSE_REPLY_IN_USE] = "reply_in_use",
};

static struct {
	bool initialized;
	ha_send_fn send;
	void *arg;
	uint8_t role;
	bool paired;
	struct ha_conn_sync_params params;
	struct ha_batcher live;      /* events as they come */
	struct ha_batcher full;      /* the full-sync stream */
	uint64_t now_ns;             /* of the last poll */
	uint64_t next_refresh_ns;    /* 0: set at the next poll */
	struct ha_conn_sync_stats st;
	/* test hook: copies of what was sent */
	struct ha_msg *captured;
	size_t n_captured;
} s;

static uint64_t mono_ns(void)
{
	return (uint64_t)((double)rte_rdtsc() * 1e9 / (double)lb_rt.tsc_hz);
}

static bool sending(void)
{
	return s.initialized && s.paired && s.role == HA_STATE_MASTER;
}

static void send_batch(struct ha_batcher *b, uint64_t now_ns)
{
	if (b->msg.batch.count == 0)
		return;
	if (s.captured != NULL && s.n_captured < CAPTURE_MAX)
		s.captured[s.n_captured++] = b->msg;
	uint64_t lag = now_ns > b->first_ns ? now_ns - b->first_ns : 0;
	if (s.send(&b->msg, s.arg) == 0) {
		s.st.records_sent += b->msg.batch.count;
		s.st.batches_sent++;
		s.st.lag_ns = lag;
		s.st.last_batch_ns = now_ns;
	} else {
		s.st.send_failures++;
	}
	ha_batcher_reset(b);
}

void hcs_queue(const struct ha_conn_record *r, bool full_sync, uint64_t now_ns)
{
	struct ha_batcher *b = full_sync ? &s.full : &s.live;

	if (r->event == HA_EV_REFRESH)
		s.st.refresh_records++;
	if (ha_batcher_add(b, r, now_ns))
		send_batch(b, now_ns);
}

void hcs_full_sync_finish(uint32_t records, uint64_t now_ns)
{
	struct ha_msg end = {.type = HA_MSG_FULL_SYNC_END};

	send_batch(&s.full, now_ns);
	end.full_sync.what = HA_SYNC_CONNS;
	end.full_sync.records = records;
	end.full_sync.generation = config_store_generation();
	if (s.captured != NULL && s.n_captured < CAPTURE_MAX)
		s.captured[s.n_captured++] = end;
	if (s.send(&end, s.arg) == 0)
		s.st.full_syncs_sent++;
	else
		s.st.send_failures++;
}

/* A persistent service's new connection: its template goes along (there is no template event). */
static void queue_template_of(const struct lb_snapshot *snap, const struct conn_event *ev,
			      uint64_t now_ns)
{
	const struct snap_service *ss = hcs_service_by_id(snap, ev->service_id);
	struct persist_key k;
	struct persist_template t;
	struct ha_conn_record r;
	uint32_t now_s = (uint32_t)(rte_rdtsc() / lb_rt.tsc_hz);
	uint8_t gen8;

	if (ss == NULL || ss->persistent_s == 0)
		return;
	struct lb_addr client = flow_key_addr(ev->key.family, ev->key.src);
	persist_key_make(&k, ss->id, &client, ss->netmask_len);
	if (!persist_table_lookup(lb_rt.persist, &k, now_s, &t.real_id, &gen8))
		return;
	t.service_id = ss->id;
	t.real_gen8 = gen8;
	t.family = k.client.family;
	flow_key_set_addr(t.client, &k.client);
	t.expires_s = now_s + ss->persistent_s;
	if (hcs_record_from_template(snap, &t, HA_EV_CREATED, now_s, &r))
		hcs_queue(&r, false, now_ns);
}

static void on_event(const struct conn_event *ev, void *arg)
{
	static const uint8_t event_of[4] = {0, HA_EV_CREATED, HA_EV_STATE, HA_EV_ENDED};
	const struct lb_snapshot *snap = lb_rt.snapshot;
	struct ha_conn_record r;

	(void)arg;
	if (!sending() || ev->type < CONN_EV_CREATED || ev->type > CONN_EV_ENDED || snap == NULL)
		return;
	struct hcs_conn c = {.event = event_of[ev->type], .state = ev->state, .forward = ev->forward,
			     .worker = ev->worker, .service_id = ev->service_id,
			     .has_reply = (ev->flags & CONN_EV_F_REPLY) != 0, .real_id = ev->real_id,
			     .real_gen = ev->real_gen, .timeout_s = ev->timeout_s, .key = ev->key,
			     .reply_key = ev->reply_key};
	uint64_t now_ns = s.now_ns ? s.now_ns : mono_ns();
	if (!hcs_record_from_conn(snap, &c, &r)) {
		s.st.events_unmapped++;
		return;
	}
	hcs_queue(&r, false, now_ns);
	if (ev->type == CONN_EV_CREATED)
		queue_template_of(snap, ev, now_ns);
}

int ha_conn_sync_init(ha_send_fn send, void *arg, char *err, size_t errlen)
{
	if (s.initialized) {
		/* a second caller (the test hook, then the transport) takes over sending */
		s.send = send;
		s.arg = arg;
		return 0;
	}
	if (lb_rt.config->conn_event_ring == 0) {
		lb_err(err, errlen, "connection sync needs dataplane.conn_event_ring > 0 (it is 0)");
		return -1;
	}
	if (conn_install_init(INSTALL_RING_SIZE) != 0) {
		lb_err(err, errlen, "connection sync: cannot create the install rings");
		return -1;
	}
	if (conn_event_feed_subscribe(on_event, NULL) != 0) {
		lb_err(err, errlen, "connection sync: no room for another connection event reader");
		return -1;
	}
	s.send = send;
	s.arg = arg;
	s.role = HA_STATE_INIT;
	s.paired = true;
	s.params = (struct ha_conn_sync_params){.period_s = HA_CONN_SYNC_PERIOD_S_DEFAULT,
						.flush_ms = HA_CONN_SYNC_FLUSH_MS_DEFAULT,
						.msg_size = HA_WIRE_MSG_DEFAULT};
	ha_batcher_init(&s.live, s.params.msg_size, 0);
	ha_batcher_init(&s.full, s.params.msg_size, HA_WIRE_F_FULL_SYNC);
	s.initialized = true;
	return 0;
}

void ha_conn_sync_set_params(const struct ha_conn_sync_params *p)
{
	s.params.period_s = p->period_s;
	if (p->flush_ms != 0)
		s.params.flush_ms = p->flush_ms;
	if (p->msg_size != 0 && p->msg_size != s.params.msg_size) {
		s.params.msg_size = p->msg_size;
		send_batch(&s.live, s.now_ns);
		ha_batcher_init(&s.live, s.params.msg_size, 0);
		if (!hcs_walk_running(NULL))
			ha_batcher_init(&s.full, s.params.msg_size, HA_WIRE_F_FULL_SYNC);
	}
	s.next_refresh_ns = 0;
}

void ha_conn_sync_set_role(uint8_t state)
{
	if (!s.initialized || state == s.role)
		return;
	if (s.role == HA_STATE_MASTER) {
		/* what was not sent yet is the new master's to know or not: drop it */
		ha_batcher_reset(&s.live);
		ha_batcher_reset(&s.full);
		hcs_walk_stop();
	}
	s.role = state;
	s.st.role = state;
	s.next_refresh_ns = 0;
}

void ha_conn_sync_set_paired(bool paired)
{
	s.paired = paired;
	if (!paired) {
		ha_batcher_reset(&s.live);
		ha_batcher_reset(&s.full);
		hcs_walk_stop();
	}
}

void ha_conn_sync_poll(uint64_t caller_ns)
{
	/* One clock inside (the TSC's): callers may pass another monotonic clock, and records
	 * queued by events between polls are stamped with this one. */
	uint64_t now_ns = mono_ns();

	(void)caller_ns;
	if (!s.initialized)
		return;
	s.now_ns = now_ns;
	if (!sending())
		return;
	if (ha_batcher_due(&s.live, now_ns, (uint64_t)s.params.flush_ms * 1000000u))
		send_batch(&s.live, now_ns);
	if (s.params.period_s != 0) {
		uint64_t period = (uint64_t)s.params.period_s * 1000000000u;
		if (s.next_refresh_ns == 0)
			s.next_refresh_ns = now_ns + period;
		if (now_ns >= s.next_refresh_ns && !hcs_walk_running(NULL)) {
			hcs_walk_start(false, now_ns);
			s.next_refresh_ns = now_ns + period;
		}
	}
	hcs_walk_poll(now_ns, WALK_RECORDS_PER_POLL);
	bool full = false;
	s.st.full_sync_running = hcs_walk_running(&full) && full;
	/* a refresh walk's last partial batch waits no longer than events do */
	if (ha_batcher_due(&s.full, now_ns, (uint64_t)s.params.flush_ms * 1000000u) &&
	    !(hcs_walk_running(&full) && full))
		send_batch(&s.full, now_ns);
}

static void refuse(enum ha_conn_refuse why)
{
	s.st.refused[why]++;
}

void ha_conn_sync_on_batch(const struct ha_msg *m)
{
	const struct lb_snapshot *snap = lb_rt.snapshot;
	uint32_t now_s = (uint32_t)(rte_rdtsc() / lb_rt.tsc_hz);

	if (!s.initialized || m->type != HA_MSG_CONN_BATCH)
		return;
	s.st.batches_received++;
	s.st.records_received += m->batch.count;
	s.st.last_batch_ns = s.now_ns ? s.now_ns : mono_ns();
	for (uint16_t i = 0; i < m->batch.count; i++) {
		const struct ha_conn_record *r = &m->batch.rec[i];
		struct conn_install_req req;
		uint16_t worker = 0;
		enum ha_conn_refuse why;

		if (!s.paired || s.role != HA_STATE_BACKUP || snap == NULL) {
			refuse(HA_REFUSE_NOT_BACKUP);
			continue;
		}
		if (r->kind == HA_REC_PERSIST) {
			why = hcs_template_store(snap, r, now_s);
			if (why != HA_REFUSE_COUNT)
				refuse(why);
			else
				s.st.templates_stored++;
			continue;
		}
		why = hcs_install_from_record(snap, r, &req, &worker);
		if (why != HA_REFUSE_COUNT)
			refuse(why);
		else if (!conn_install_post(worker, &req))
			refuse(HA_REFUSE_RING_FULL);
		else
			s.st.posted++;
	}
}

void ha_conn_sync_on_full_sync_end(const struct ha_msg *m)
{
	if (s.initialized && m->type == HA_MSG_FULL_SYNC_END && (m->full_sync.what & HA_SYNC_CONNS))
		s.st.full_syncs_received++;
}

void ha_conn_sync_full_start(void)
{
	if (!sending())
		return;
	ha_batcher_reset(&s.full);
	ha_batcher_init(&s.full, s.params.msg_size, HA_WIRE_F_FULL_SYNC);
	hcs_walk_start(true, s.now_ns ? s.now_ns : mono_ns());
	s.st.full_sync_running = true;
}

void ha_conn_sync_stats(struct ha_conn_sync_stats *out)
{
	struct conn_install_counts c;

	*out = s.st;
	out->role = s.role;
	out->paired = s.paired;
	out->events_lost = 0;
	for (uint16_t w = 0; w < lb_rt.n_workers; w++)
		out->events_lost += LB_COUNTER_READ(lb_rt.workers[w]->stats->conn_events_lost);
	conn_install_counts(&c);
	out->installed = c.installed;
	out->updated = c.updated + c.replaced;
	out->removed = c.removed;
	out->refused[HA_REFUSE_TABLE_FULL] += c.table_full;
	out->refused[HA_REFUSE_REPLY_IN_USE] += c.reply_in_use;
	out->hops_learned = c.hops_learned;
	out->synced = c.installed + c.updated + c.replaced + c.removed + out->templates_stored;
}

bool ha_conn_sync_pair_check(const struct ha_advert *peer, char *why, size_t whylen)
{
	return ha_pair_compatible(lb_rt.n_workers, lb_rt.fnat_port_min, lb_rt.fnat_port_max, peer,
				  why, whylen);
}

static int capture_only(struct ha_msg *m, void *arg)
{
	(void)m;
	(void)arg;
	return 0;
}

int ha_conn_sync_test_start(uint8_t role, char *err, size_t errlen)
{
	if (s.captured == NULL) {
		s.captured = calloc(CAPTURE_MAX, sizeof(*s.captured));
		if (s.captured == NULL) {
			lb_err(err, errlen, "out of memory");
			return -1;
		}
	}
	if (!s.initialized && ha_conn_sync_init(capture_only, NULL, err, errlen) != 0)
		return -1;
	ha_conn_sync_set_role(role);
	return 0;
}

size_t ha_conn_sync_test_take(const struct ha_msg **msgs)
{
	size_t n = s.n_captured;

	*msgs = s.captured;
	s.n_captured = 0; /* the caller reads them before the next poll */
	return n;
}
