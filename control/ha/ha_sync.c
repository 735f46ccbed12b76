/*
 * The sync socket on the control loop: connection batches, configuration chunks and full-sync
 * requests between the pair, all on the sync sequence channel. The MASTER answers requests and
 * sends each committed configuration; the BACKUP asks for a full sync when it starts following
 * a master, and for the configuration again when the master's adverts show a generation it has
 * not applied for three advert intervals (a lost chunk heals this way).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dataplane.h"
#include "config_store.h"
#include "event_loop.h"
#include "ha_config_sync.h"
#include "ha_internal.h"
#include "ha_conn_sync.h"

static int sync_fd = -1;
static struct ev_loop *sync_loop;
static struct ev_io sync_io;
static uint64_t sync_seq;
static struct ha_replay replay;
static uint8_t last_role = HA_STATE_INIT;
static uint64_t sent_generation;  /* MASTER: the last generation sent */
static uint32_t followed_master;  /* BACKUP: the master a full sync was asked of */
static uint64_t last_request_ns;
/*
 * MASTER: a backup that asked for connections. A backup sends no adverts (VRRP), so the
 * master's peer table never holds it; it asks for connections only after its own pair check
 * of the master's adverts passed, and the check is symmetric, so its request pairs them.
 */
static uint32_t conn_requester;
/* BACKUP: since when it follows its master, and whether that master's full sync has ended */
static uint64_t followed_since_ns;
static bool full_sync_done;
/* A backup whose master never ends a full sync (no connection sync there) preempts after this. */
#define PREEMPT_HOLD_MAX_NS (10ull * 1000000000ull)
bool ha_preempt_ready; /* false until a BACKUP has its master's connections */
static uint64_t msgs_sent, msgs_received, msgs_refused, send_errors, requests_sent,
	requests_received, batches_ignored;
static char last_refusal[HA_REASON_LEN];

static int send_msg(struct ha_msg *m)
{
	uint8_t buf[HA_WIRE_MSG_MAX];
	char err[HA_WIRE_ERR_LEN];
	int rc = 0;

	m->sender_id = ha_rt.cfg.node_id;
	m->seq = ++sync_seq;
	int len = ha_wire_encode(buf, sizeof(buf), &ha_rt.key, m, err, sizeof(err));
	if (len < 0) {
		LB_LOG(ERR, "ha: not sent: %s", err);
		send_errors++;
		return -1;
	}
	for (uint32_t i = 0; i < ha_rt.n_dest; i++) {
		if (sendto(sync_fd, buf, (size_t)len, 0, (const struct sockaddr *)&ha_rt.dest_sync[i],
			   ha_rt.dest_len) < 0) {
			send_errors++;
			rc = -1;
		}
	}
	msgs_sent++;
	return rc;
}

static int send_for_conn_sync(struct ha_msg *m, void *arg)
{
	(void)arg;
	return send_msg(m);
}

/* Connections are synced only with peers whose adverts passed the pair check. */
static void update_pairing(void)
{
	static int last = -1;
	bool paired = ha_rt.cfg.conn_sync, any = false;

	pthread_mutex_lock(&ha_sh.lock);
	for (int i = 0; i < LB_HA_MAX_PEERS; i++) {
		if (!ha_sh.peers[i].used)
			continue;
		any = true;
		paired &= ha_sh.peers[i].paired;
	}
	pthread_mutex_unlock(&ha_sh.lock);
	paired &= any || conn_requester != 0;
	if ((int)paired != last) {
		ha_conn_sync_set_paired(paired);
		last = paired;
	}
}

static void request_full_sync(uint32_t what, uint64_t now)
{
	struct ha_msg m = {.type = HA_MSG_FULL_SYNC_REQUEST};

	m.full_sync.what = what;
	m.full_sync.generation = ha_config_applied_generation();
	if (send_msg(&m) == 0)
		requests_sent++;
	last_request_ns = now;
	LB_LOG(INFO, "ha: full sync (%s%s) asked of the master", what & HA_SYNC_CONFIG ? "config" : "",
	       what & HA_SYNC_CONNS ? " conns" : "");
}

/*
 * Whether sender's adverts allow connection sync (same workers and fnat range); a sender whose
 * adverts were never seen (a backup) counts as paired when unknown_ok.
 */
static bool sender_paired(uint32_t sender, bool unknown_ok)
{
	bool paired = unknown_ok;

	pthread_mutex_lock(&ha_sh.lock);
	for (int i = 0; i < LB_HA_MAX_PEERS; i++)
		if (ha_sh.peers[i].used && ha_sh.peers[i].node_id == sender)
			paired = ha_sh.peers[i].paired;
	pthread_mutex_unlock(&ha_sh.lock);
	return paired;
}

static void dispatch(const struct ha_msg *m, uint8_t role)
{
	switch (m->type) {
	case HA_MSG_CONFIG:
		if (role != HA_STATE_MASTER)
			ha_config_on_chunk(m);
		break;
	case HA_MSG_FULL_SYNC_REQUEST:
		if (role != HA_STATE_MASTER)
			break;
		requests_received++;
		if (m->full_sync.what & HA_SYNC_CONFIG)
			ha_config_tx_start(HA_WIRE_F_FULL_SYNC);
		if ((m->full_sync.what & HA_SYNC_CONNS) && ha_rt.cfg.conn_sync &&
		    sender_paired(m->sender_id, true)) {
			conn_requester = m->sender_id;
			update_pairing();
			ha_conn_sync_full_start();
		}
		break;
	case HA_MSG_CONN_BATCH:
		if (role != HA_STATE_BACKUP || !ha_rt.cfg.conn_sync ||
		    !sender_paired(m->sender_id, false)) {
			batches_ignored++;
			break;
		}
		ha_conn_sync_on_batch(m);
		break;
	case HA_MSG_FULL_SYNC_END:
		if (role == HA_STATE_BACKUP) {
			ha_conn_sync_on_full_sync_end(m);
			if (m->sender_id == followed_master)
				full_sync_done = true;
		}
		break;
	default:
		msgs_refused++;
	}
}

static void on_readable(struct ev_loop *loop, struct ev_io *io, unsigned int events)
{
	static uint8_t buf[HA_WIRE_MSG_MAX + 1];
	static struct ha_msg m;
	char err[HA_WIRE_ERR_LEN];
	const char *why;

	(void)loop;
	(void)io;
	(void)events;
	uint8_t role = __atomic_load_n(&lb_rt.ha_state, __ATOMIC_ACQUIRE);
	/* Bounded per turn: a flood on the sync port cannot hold the control loop. */
	for (int k = 0; k < 256; k++) {
		ssize_t n = recv(sync_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return;
		if (ha_wire_decode(buf, (size_t)n, &ha_rt.key, &m, err, sizeof(err)) != 0) {
			msgs_refused++;
			snprintf(last_refusal, sizeof(last_refusal), "%s", err);
			continue;
		}
		if (m.sender_id == ha_rt.cfg.node_id || m.type == HA_MSG_ADVERT)
			continue;
		if (!ha_replay_accept(&replay, m.sender_id, HA_CH_SYNC, m.seq, &why)) {
			msgs_refused++;
			snprintf(last_refusal, sizeof(last_refusal), "node %u: %s", m.sender_id, why);
			continue;
		}
		msgs_received++;
		dispatch(&m, role);
	}
}

/* BACKUP: a full sync from each master it starts following; the configuration again when it
 * stays behind the master's adverts. */
static void backup_poll(uint64_t now)
{
	uint32_t master = 0;
	uint64_t master_gen = 0, interval_ns = (uint64_t)ha_rt.cfg.advert_interval_ms * 1000000u;
	bool paired = false;

	pthread_mutex_lock(&ha_sh.lock);
	for (int i = 0; i < LB_HA_MAX_PEERS; i++) {
		const struct ha_peer_info *p = &ha_sh.peers[i];
		if (p->used && p->node_id == ha_sh.master_id && p->advert.state == HA_STATE_MASTER) {
			master = p->node_id;
			master_gen = p->advert.config_generation;
			paired = p->paired;
			interval_ns = (uint64_t)p->advert.interval_ms * 1000000u;
		}
	}
	pthread_mutex_unlock(&ha_sh.lock);
	if (master == 0)
		return;
	if (master != followed_master) {
		followed_master = master;
		followed_since_ns = now;
		full_sync_done = !(paired && ha_rt.cfg.conn_sync);
		request_full_sync(HA_SYNC_CONFIG |
				  (paired && ha_rt.cfg.conn_sync ? HA_SYNC_CONNS : 0), now);
		return;
	}
	if (master_gen != ha_config_applied_generation() && now - last_request_ns > 3 * interval_ns)
		request_full_sync(HA_SYNC_CONFIG, now);
}

void ha_sync_poll(uint64_t now)
{
	uint8_t role = __atomic_load_n(&lb_rt.ha_state, __ATOMIC_ACQUIRE);
	uint64_t gen = config_store_generation();

	if (sync_fd < 0)
		return;
	__atomic_store_n(&ha_config_generation, gen, __ATOMIC_RELAXED);
	update_pairing();
	if (role != last_role) {
		if (role == HA_STATE_MASTER)
			sent_generation = gen; /* a backup asks for what it lacks */
		if (role != HA_STATE_BACKUP)
			followed_master = 0;
		if (role != HA_STATE_MASTER)
			conn_requester = 0;
		ha_conn_sync_set_role(role);
		last_role = role;
	}
	if (role == HA_STATE_MASTER && gen != sent_generation) {
		sent_generation = gen;
		ha_config_tx_start(0);
	}
	if (role == HA_STATE_MASTER)
		ha_config_tx_poll(send_msg);
	else if (role == HA_STATE_BACKUP)
		backup_poll(now);
	/* Failback waits for the connections: preempting before they are installed breaks them. */
	/* Only a BACKUP preempts; it may once it follows a master whose full sync ended (or
	 * needs none). The heartbeat thread acts on adverts before this loop sees its role change,
	 * so every other state reads "not ready" rather than a stale "ready". */
	bool ready = role == HA_STATE_BACKUP && followed_master != 0 &&
		     (full_sync_done || now - followed_since_ns > PREEMPT_HOLD_MAX_NS);
	__atomic_store_n(&ha_preempt_ready, ready, __ATOMIC_RELEASE);
}

int ha_sync_init(struct ev_loop *loop, char *err, size_t errlen)
{
	int sndbuf = 4 << 20;

	ha_replay_init(&replay);
	sync_seq = ha_wall_us();
	sync_fd = ha_socket_open((uint16_t)ha_rt.cfg.sync_port, err, errlen);
	if (sync_fd < 0)
		return -1;
	(void)setsockopt(sync_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	(void)setsockopt(sync_fd, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	if (ev_io_start(loop, &sync_io, sync_fd, EV_READ, on_readable, NULL) != 0) {
		close(sync_fd);
		sync_fd = -1;
		return lb_err(err, errlen, "ha: sync socket: %s", strerror(errno));
	}
	sync_loop = loop;
	if (ha_conn_sync_init(send_for_conn_sync, NULL, err, errlen) != 0)
		return -1;
	struct ha_conn_sync_params params = {.period_s = ha_rt.cfg.sync_period_s};
	ha_conn_sync_set_params(&params);
	ha_conn_sync_set_paired(false); /* until a peer's advert passes the pair check */
	return 0;
}

void ha_sync_close(void)
{
	if (sync_fd < 0)
		return;
	ev_io_stop(sync_loop, &sync_io);
	close(sync_fd);
	sync_fd = -1;
}

uint64_t ha_sync_applied_generation(void)
{
	return ha_config_applied_generation();
}

json_t *ha_sync_status_json(void)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "messages_sent",
			      (json_int_t)msgs_sent, "messages_received", (json_int_t)msgs_received,
			      "messages_refused", (json_int_t)msgs_refused, "send_errors",
			      (json_int_t)send_errors, "full_sync_requests_sent",
			      (json_int_t)requests_sent, "full_sync_requests_received",
			      (json_int_t)requests_received, "batches_ignored",
			      (json_int_t)batches_ignored, "last_refusal", last_refusal);
	json_object_set_new(o, "config", ha_config_status_json());
	return o;
}
