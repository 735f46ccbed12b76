/* The failover pair's election (ha_election.h, docs/ha.md "Election"). */
#include "ha_election.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_MS 1000000ull

void ha_election_config_default(struct ha_election_config *c, uint32_t node_id)
{
	memset(c, 0, sizeof(*c));
	c->node_id = node_id;
	c->priority = 100;
	c->advert_interval_ms = HA_ADVERT_INTERVAL_DEFAULT_MS;
	c->preempt = true;
	c->garp_count = HA_GARP_COUNT_DEFAULT;
	c->garp_repeat_ms = HA_GARP_REPEAT_MS_DEFAULT;
}

int ha_election_init(struct ha_election *e, const struct ha_election_config *c, char *err,
		     size_t errlen)
{
	const char *why = NULL;

	if (c->node_id == 0)
		why = "node_id: must not be 0";
	else if (c->priority == 0)
		why = "priority: 1-255";
	else if (c->advert_interval_ms < HA_ADVERT_INTERVAL_MIN_MS ||
		 c->advert_interval_ms > HA_ADVERT_INTERVAL_MAX_MS)
		why = "advert_interval_ms: 10-40950";
	else if (c->garp_count == 0)
		why = "garp_count: 1-255";
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	memset(e, 0, sizeof(*e));
	e->cfg = *c;
	e->state = HA_STATE_INIT;
	e->ping_ok = true;
	return 0;
}

uint64_t ha_skew_ns(uint8_t priority, uint32_t interval_ms)
{
	return (uint64_t)(256 - priority) * interval_ms * NS_PER_MS / 256;
}

uint64_t ha_master_down_ns(uint8_t priority, uint32_t interval_ms)
{
	return 3ull * interval_ms * NS_PER_MS + ha_skew_ns(priority, interval_ms);
}

const char *ha_state_name(uint8_t state)
{
	static const char *const names[HA_STATE_COUNT] = {"INIT", "BACKUP", "MASTER", "FAULT"};

	return state < HA_STATE_COUNT ? names[state] : "?";
}

static void actions_begin(const struct ha_election *e, struct ha_actions *a)
{
	memset(a, 0, sizeof(*a));
	a->old_state = e->state;
}

static void actions_end(const struct ha_election *e, struct ha_actions *a)
{
	uint64_t wake = UINT64_MAX;

	if (e->state == HA_STATE_BACKUP) {
		wake = e->down_at_ns;
		/* held: the caller's next advert or tick looks again (no timer into the past) */
		if (e->preempt_at_ns != 0 && e->preempt_at_ns < wake && !e->preempt_hold)
			wake = e->preempt_at_ns;
	} else if (e->state == HA_STATE_MASTER) {
		wake = e->next_advert_ns;
		if (e->garp_repeat_ns != 0 && e->garp_repeat_ns < wake)
			wake = e->garp_repeat_ns;
	}
	a->new_state = e->state;
	a->next_wake_ns = wake;
}

static void set_state(struct ha_election *e, uint8_t state, uint64_t now)
{
	if (e->state != state)
		e->state_since_ns = now;
	e->state = state;
}

static void become_master(struct ha_election *e, uint64_t now, struct ha_actions *a)
{
	set_state(e, HA_STATE_MASTER, now);
	a->send_advert = true;
	a->take_vips = true;
	a->garp_burst = e->cfg.garp_count;
	e->next_advert_ns = now + e->cfg.advert_interval_ms * NS_PER_MS;
	e->garp_repeat_ns = e->cfg.garp_repeat_ms ? now + e->cfg.garp_repeat_ms * NS_PER_MS : 0;
	e->preempt_at_ns = 0;
	e->master_id = 0;
}

/* To BACKUP, expecting a master's advert within down_ns. */
static void become_backup(struct ha_election *e, uint64_t down_ns, uint64_t now,
			  struct ha_actions *a)
{
	if (e->state == HA_STATE_MASTER)
		a->release_vips = true;
	set_state(e, HA_STATE_BACKUP, now);
	e->down_at_ns = now + down_ns;
	e->preempt_at_ns = 0;
	e->garp_repeat_ns = 0;
}

static void become_fault(struct ha_election *e, uint64_t now, struct ha_actions *a)
{
	if (e->state == HA_STATE_MASTER) {
		a->release_vips = true;
		a->send_advert = true; /* tells the peer at once: it takes over after its skew */
	}
	set_state(e, HA_STATE_FAULT, now);
	e->preempt_at_ns = 0;
	e->garp_repeat_ns = 0;
	e->master_id = 0;
}

void ha_election_start(struct ha_election *e, uint64_t now, struct ha_actions *a)
{
	actions_begin(e, a);
	if (e->state == HA_STATE_INIT) {
		if (e->ping_ok)
			become_backup(e, ha_master_down_ns(e->cfg.priority, e->cfg.advert_interval_ms),
				      now, a);
		else
			become_fault(e, now, a);
	}
	actions_end(e, a);
}

static bool peer_outranks(const struct ha_election *e, const struct ha_peer_advert *p)
{
	return p->priority > e->cfg.priority ||
	       (p->priority == e->cfg.priority && p->node_id > e->cfg.node_id);
}

/* A BACKUP's reaction to a master's advert. */
static void backup_sees_master(struct ha_election *e, const struct ha_peer_advert *p,
			       uint64_t now, struct ha_actions *a)
{
	e->master_id = p->node_id;
	e->master_interval_ms = p->interval_ms;
	e->down_at_ns = now + ha_master_down_ns(e->cfg.priority, p->interval_ms);
	if (peer_outranks(e, p) || !e->cfg.preempt) {
		e->preempt_at_ns = 0;
		return;
	}
	/* we outrank it: preempt once the delay has run since we first saw it */
	if (e->preempt_at_ns == 0)
		e->preempt_at_ns = now + (uint64_t)e->cfg.preempt_delay_ms * NS_PER_MS;
	if (now >= e->preempt_at_ns && !e->preempt_hold)
		become_master(e, now, a);
}

void ha_election_advert(struct ha_election *e, const struct ha_peer_advert *p, uint64_t now,
			struct ha_actions *a)
{
	actions_begin(e, a);
	if (p->node_id == e->cfg.node_id) {
		e->own_id_adverts++;
	} else if (p->state != HA_STATE_MASTER) {
		/* the master we follow resigned (VRRP's priority 0): take over after the skew only */
		if (e->state == HA_STATE_BACKUP && e->master_id == p->node_id) {
			uint64_t at = now + ha_skew_ns(e->cfg.priority, e->master_interval_ms);
			if (at < e->down_at_ns)
				e->down_at_ns = at;
			e->master_id = 0;
			e->preempt_at_ns = 0;
		} else if (e->state == HA_STATE_MASTER) {
			/* A peer released the VIPs (only a node leaving MASTER advertises another
			 * state): the segment may still send their traffic to it, since after a split
			 * brain it can hear us before we hear it. Announce them again. */
			a->garp_burst = e->cfg.garp_count;
		}
	} else if (e->state == HA_STATE_MASTER) {
		e->last_advert_ns = now;
		if (peer_outranks(e, p)) {
			become_backup(e, ha_master_down_ns(e->cfg.priority, p->interval_ms), now, a);
			e->master_id = p->node_id;
			e->master_interval_ms = p->interval_ms;
			/* one advert saying BACKUP: the winner re-announces the VIPs (above) */
			a->send_advert = true;
		} else {
			/* A lower-ranked master (a healed split brain): it steps down when it sees our
			 * advert, and our gratuitous ARPs take the clients and switches back from it. */
			a->send_advert = true;
			a->garp_burst = e->cfg.garp_count;
		}
	} else if (e->state == HA_STATE_BACKUP) {
		e->last_advert_ns = now;
		backup_sees_master(e, p, now, a);
	}
	actions_end(e, a);
}

void ha_election_tick(struct ha_election *e, uint64_t now, struct ha_actions *a)
{
	actions_begin(e, a);
	if (e->state == HA_STATE_BACKUP) {
		if (now >= e->down_at_ns ||
		    (e->preempt_at_ns != 0 && now >= e->preempt_at_ns && !e->preempt_hold))
			become_master(e, now, a);
	} else if (e->state == HA_STATE_MASTER) {
		uint64_t period = e->cfg.advert_interval_ms * NS_PER_MS;
		if (now >= e->next_advert_ns) {
			a->send_advert = true;
			/* a fixed rate: one advert for the periods missed, not a burst */
			e->next_advert_ns += ((now - e->next_advert_ns) / period + 1) * period;
		}
		if (e->garp_repeat_ns != 0 && now >= e->garp_repeat_ns) {
			a->garp_burst = e->cfg.garp_count;
			e->garp_repeat_ns = 0;
		}
	}
	actions_end(e, a);
}

void ha_election_ping(struct ha_election *e, bool reachable, uint64_t now, struct ha_actions *a)
{
	actions_begin(e, a);
	e->ping_ok = reachable;
	if (!reachable && e->state != HA_STATE_INIT && e->state != HA_STATE_FAULT)
		become_fault(e, now, a);
	else if (reachable && e->state == HA_STATE_FAULT)
		become_backup(e, ha_master_down_ns(e->cfg.priority, e->cfg.advert_interval_ms), now,
			      a);
	actions_end(e, a);
}

void ha_election_set_priority(struct ha_election *e, uint8_t priority, uint64_t now,
			      struct ha_actions *a)
{
	(void)now;
	actions_begin(e, a);
	if (priority != 0 && priority != e->cfg.priority) {
		e->cfg.priority = priority;
		/* a master tells at once, so a peer that now outranks it can preempt */
		if (e->state == HA_STATE_MASTER)
			a->send_advert = true;
	}
	actions_end(e, a);
}

void ha_election_set_preempt(struct ha_election *e, bool on, uint32_t delay_ms, uint64_t now,
			     struct ha_actions *a)
{
	(void)now;
	actions_begin(e, a);
	e->cfg.preempt = on;
	e->cfg.preempt_delay_ms = delay_ms;
	e->preempt_at_ns = 0; /* restarts from the next advert of a lower-ranked master */
	actions_end(e, a);
}
