/*
 * The heartbeat thread: adverts out and in on their own socket, the election, the ping node.
 * A dedicated thread so that nothing the control loop does (RPC, checks, a large commit) can
 * delay an advert; it touches the dataplane only through lb_rt.ha_state and hands everything
 * else (gratuitous ARPs, sync) to the control lcore through ha_wake_fd.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "dataplane.h"
#include "ha_conn_record.h"
#include "ha_internal.h"
#include "ha_ping.h"
#include "lateness_window.h"

static pthread_t thread;
static bool running;
static int stop_fd = -1, hb_fd = -1;
static struct ha_election election;
static struct ha_replay replay;
static uint64_t seq;
static struct lateness_window advert_lateness;
static uint64_t next_wake = UINT64_MAX; /* when the election wants its tick */

#define MAX_WAIT_NS 1000000000ull /* the longest wait without a timer (stop and ping are fds) */

/* An advert saying `state` (the election's, or FAULT when the node stops). */
static void send_advert_as(uint8_t state, uint64_t now)
{
	struct ha_msg m = {.type = HA_MSG_ADVERT, .sender_id = ha_rt.cfg.node_id, .seq = ++seq};
	uint8_t buf[HA_WIRE_MSG_DEFAULT];
	char err[HA_WIRE_ERR_LEN];

	m.advert.priority = election.cfg.priority;
	m.advert.state = state;
	m.advert.flags = election.cfg.preempt ? HA_ADVERT_F_PREEMPT : 0;
	m.advert.interval_ms = election.cfg.advert_interval_ms;
	m.advert.config_generation = __atomic_load_n(&ha_config_generation, __ATOMIC_RELAXED);
	m.advert.workers = lb_rt.n_workers;
	m.advert.fnat_port_min = lb_rt.fnat_port_min;
	m.advert.fnat_port_max = lb_rt.fnat_port_max;
	m.advert.capabilities = HA_CAP_CONFIG_SYNC | (ha_rt.cfg.conn_sync ? HA_CAP_CONN_SYNC : 0);
	int len = ha_wire_encode(buf, sizeof(buf), &ha_rt.key, &m, err, sizeof(err));
	uint64_t errors = 0;
	if (len < 0) {
		errors = 1;
	} else {
		for (uint32_t i = 0; i < ha_rt.n_dest; i++)
			if (sendto(hb_fd, buf, (size_t)len, 0, (const struct sockaddr *)&ha_rt.dest_hb[i],
				   ha_rt.dest_len) < 0)
				errors++;
	}
	pthread_mutex_lock(&ha_sh.lock);
	ha_sh.adverts_sent++;
	ha_sh.send_errors += errors;
	ha_sh.last_advert_sent_ns = now;
	pthread_mutex_unlock(&ha_sh.lock);
}

static void send_advert(uint64_t now)
{
	send_advert_as(election.state, now);
}

/* Does what the election asked for. */
static void apply(const struct ha_actions *a, uint64_t now)
{
	next_wake = a->next_wake_ns;
	if (a->new_state != a->old_state) {
		/* Workers start or stop answering for the VIPs on their next loop turn. */
		__atomic_store_n(&lb_rt.ha_state, a->new_state, __ATOMIC_RELEASE);
		pthread_mutex_lock(&ha_sh.lock);
		ha_sh.state = a->new_state;
		ha_sh.state_since_ns = now;
		ha_sh.transitions++;
		ha_sh.master_id = a->new_state == HA_STATE_MASTER ? ha_rt.cfg.node_id
								   : election.master_id;
		pthread_mutex_unlock(&ha_sh.lock);
		LB_LOG(NOTICE, "ha: %s -> %s", ha_state_name(a->old_state),
		       ha_state_name(a->new_state));
	}
	if (a->send_advert)
		send_advert(now);
	if (a->garp_burst) {
		__atomic_store_n(&ha_pending_garp, a->garp_burst, __ATOMIC_RELEASE);
	}
	if (a->new_state != a->old_state || a->garp_burst)
		ha_wake_control();
}

static struct ha_peer_info *peer_slot(uint32_t node_id)
{
	struct ha_peer_info *free_slot = NULL;

	for (int i = 0; i < LB_HA_MAX_PEERS; i++) {
		if (ha_sh.peers[i].used && ha_sh.peers[i].node_id == node_id)
			return &ha_sh.peers[i];
		if (!ha_sh.peers[i].used && free_slot == NULL)
			free_slot = &ha_sh.peers[i];
	}
	return free_slot;
}

/* Connection ownership needs the same worker count and fnat port slices on both sides. */
static bool pair_check(const struct ha_advert *a, char *why, size_t len)
{
	char reason[HA_REASON_LEN - 16];

	if (ha_pair_compatible(lb_rt.n_workers, lb_rt.fnat_port_min, lb_rt.fnat_port_max, a,
			       reason, sizeof(reason))) {
		why[0] = '\0';
		return true;
	}
	snprintf(why, len, "refused: %s", reason);
	return false;
}

static void refused(const char *what, const char *why)
{
	pthread_mutex_lock(&ha_sh.lock);
	ha_sh.adverts_refused++;
	size_t n = strlen(what);
	if (n > sizeof(ha_sh.last_refusal) / 2)
		n = sizeof(ha_sh.last_refusal) / 2;
	memcpy(ha_sh.last_refusal, what, n);
	snprintf(ha_sh.last_refusal + n, sizeof(ha_sh.last_refusal) - n, ": %.*s",
		 (int)(sizeof(ha_sh.last_refusal) / 2 - 4), why);
	pthread_mutex_unlock(&ha_sh.lock);
}

/* Records the peer's advert for ha.status and the pair check. */
static void note_peer(const struct ha_msg *m, const struct sockaddr_storage *from, uint64_t now)
{
	pthread_mutex_lock(&ha_sh.lock);
	ha_sh.adverts_received++;
	struct ha_peer_info *p = peer_slot(m->sender_id);
	if (p != NULL) {
		bool was_paired = p->used ? p->paired : true;
		p->used = true;
		p->node_id = m->sender_id;
		p->from = *from;
		p->advert = m->advert;
		p->last_advert_ns = now;
		p->adverts++;
		p->paired = pair_check(&m->advert, p->refusal, sizeof(p->refusal));
		if (was_paired && !p->paired)
			LB_LOG(ERR, "ha: peer %u %s: connections are not synced", p->node_id, p->refusal);
	}
	pthread_mutex_unlock(&ha_sh.lock);
}

static void receive_one(const uint8_t *buf, size_t len, const struct sockaddr_storage *from,
			uint64_t now)
{
	struct ha_msg m;
	struct ha_actions a;
	char err[HA_WIRE_ERR_LEN];
	const char *why;

	if (ha_wire_decode(buf, len, &ha_rt.key, &m, err, sizeof(err)) != 0)
		return refused("undecodable", err);
	if (m.type != HA_MSG_ADVERT)
		return refused("not an advert", "on the heartbeat port");
	if (!ha_replay_accept(&replay, m.sender_id, HA_CH_HEARTBEAT, m.seq, &why)) {
		pthread_mutex_lock(&ha_sh.lock);
		ha_sh.replays++;
		pthread_mutex_unlock(&ha_sh.lock);
		return;
	}
	if (m.sender_id != ha_rt.cfg.node_id)
		note_peer(&m, from, now);
	struct ha_peer_advert pa = {.node_id = m.sender_id, .priority = m.advert.priority,
				    .state = m.advert.state, .interval_ms = m.advert.interval_ms};
	election.preempt_hold = !__atomic_load_n(&ha_preempt_ready, __ATOMIC_ACQUIRE);
	ha_election_advert(&election, &pa, now, &a);
	apply(&a, now);
	pthread_mutex_lock(&ha_sh.lock);
	ha_sh.own_id_adverts = election.own_id_adverts;
	if (ha_sh.state == HA_STATE_BACKUP)
		ha_sh.master_id = election.master_id;
	pthread_mutex_unlock(&ha_sh.lock);
}

static void drain_socket(uint64_t now)
{
	uint8_t buf[HA_WIRE_MSG_MAX + 1];

	for (int k = 0; k < 64; k++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(hb_fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &flen);
		if (n < 0)
			return;
		receive_one(buf, (size_t)n, &from, now);
	}
}

static void tick(uint64_t now)
{
	struct ha_actions a;

	/* How late this advert goes out against its schedule: the "never delayed" figure. */
	if (election.state == HA_STATE_MASTER && now >= election.next_advert_ns) {
		lateness_record(&advert_lateness, now - election.next_advert_ns);
		pthread_mutex_lock(&ha_sh.lock);
		lateness_summary(&advert_lateness, &ha_sh.late_p99_ns, &ha_sh.late_max_ns,
				 &ha_sh.late_samples);
		pthread_mutex_unlock(&ha_sh.lock);
	}
	election.preempt_hold = !__atomic_load_n(&ha_preempt_ready, __ATOMIC_ACQUIRE);
	ha_election_tick(&election, now, &a);
	apply(&a, now);
}

static void *heartbeat_main(void *arg)
{
	struct ha_actions a;
	uint64_t now = ha_now_ns();

	(void)arg;
	ha_election_start(&election, now, &a);
	apply(&a, now);
	for (;;) {
		struct pollfd fds[3] = {{.fd = stop_fd, .events = POLLIN},
					{.fd = hb_fd, .events = POLLIN},
					{.fd = ha_ping_fd(), .events = POLLIN}};
		now = ha_now_ns();
		uint64_t until = next_wake;
		uint64_t ping_due = ha_ping_next_ns();
		if (ping_due < until)
			until = ping_due;
		/* Nanosecond waits (ppoll): an advert leaves when it is due, not at the next ms. */
		uint64_t wait = until <= now ? 0 : until - now;
		if (wait > MAX_WAIT_NS)
			wait = MAX_WAIT_NS;
		struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u),
				      .tv_nsec = (long)(wait % 1000000000u)};
		if (ppoll(fds, fds[2].fd >= 0 ? 3 : 2, &ts, NULL) < 0 && errno != EINTR)
			break;
		if (fds[0].revents) {
			/* Stopping (the workers have stopped): tell the backup at once, so it takes
			 * over after its skew instead of three missed adverts (VRRP's priority 0). */
			if (election.state == HA_STATE_MASTER)
				send_advert_as(HA_STATE_FAULT, ha_now_ns());
			break;
		}
		now = ha_now_ns();
		if (fds[1].revents & POLLIN)
			drain_socket(now);
		int ping = ha_ping_poll(now, (fds[2].revents & POLLIN) != 0);
		if (ping >= 0) {
			ha_election_ping(&election, ping == 1, now, &a);
			apply(&a, now);
			pthread_mutex_lock(&ha_sh.lock);
			ha_sh.ping_ok = ping == 1;
			pthread_mutex_unlock(&ha_sh.lock);
		}
		if (now >= next_wake)
			tick(now);
	}
	return NULL;
}

int ha_heartbeat_start(char *err, size_t errlen)
{
	struct ha_election_config ec;

	ha_election_config_default(&ec, ha_rt.cfg.node_id);
	ec.priority = (uint8_t)ha_rt.cfg.priority;
	ec.advert_interval_ms = ha_rt.cfg.advert_interval_ms;
	ec.preempt = ha_rt.cfg.preempt;
	ec.preempt_delay_ms = ha_rt.cfg.preempt_delay_ms;
	ec.garp_count = (uint8_t)ha_rt.cfg.garp_count;
	ec.garp_repeat_ms = ha_rt.cfg.garp_repeat_ms;
	if (ha_election_init(&election, &ec, err, errlen) != 0)
		return -1;
	ha_replay_init(&replay);
	/* Never reuse a sequence number, even across restarts: start at the wall clock in us. */
	seq = ha_wall_us();
	hb_fd = ha_socket_open((uint16_t)ha_rt.cfg.heartbeat_port, err, errlen);
	if (hb_fd < 0)
		return -1;
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_fd < 0) {
		snprintf(err, errlen, "ha: eventfd: %s", strerror(errno));
		goto fail;
	}
	if (ha_ping_open(err, errlen) != 0)
		goto fail;
	/* A control thread: off the worker lcores' CPUs, like DPDK's own service threads. */
	int rc = rte_ctrl_thread_create(&thread, "dlb-heartbeat", NULL, heartbeat_main, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "ha: heartbeat thread: %s", strerror(rc < 0 ? -rc : rc));
		goto fail;
	}
	running = true;
	return 0;
fail:
	ha_heartbeat_stop();
	return -1;
}

void ha_heartbeat_stop(void)
{
	if (running) {
		uint64_t one = 1;
		if (write(stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			LB_LOG(ERR, "ha: could not stop the heartbeat thread");
		pthread_join(thread, NULL);
		running = false;
	}
	ha_ping_close();
	if (hb_fd >= 0)
		close(hb_fd);
	if (stop_fd >= 0)
		close(stop_fd);
	hb_fd = stop_fd = -1;
	/* Without a heartbeat nobody may think this node owns the VIPs. */
	__atomic_store_n(&lb_rt.ha_state, HA_STATE_INIT, __ATOMIC_RELEASE);
}
