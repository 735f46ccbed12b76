/*
 * lblc: locality-based least connection (IPVS ip_vs_lblc). Each destination address (the VIP the
 * client asked for) sticks to one server, chosen by wlc, until that server is unavailable or
 * overloaded (active > weight while another server is under half of its weight); then wlc picks
 * again and the mapping moves.
 *
 * Differences from IPVS, forced by the no-shared-writes rule: the map lives in each worker's
 * per-lcore state block, so every lcore keeps its own map (lcores may map one address to
 * different servers), and it starts empty with each configuration snapshot. It is a fixed table
 * of LBLC_ENTRIES entries, LBLC_WAYS-way set associative; a full set evicts its least recently
 * used entry instead of IPVS's 24-hour expiry timer.
 */
#include "sched_util.h"

#define LBLC_ENTRIES 1024u
#define LBLC_WAYS 4u
#define LBLC_SETS (LBLC_ENTRIES / LBLC_WAYS)
#define LBLC_SEED 0x6c626c632d6d6170ull

struct lblc_entry {
	struct lb_addr addr; /* family 0: empty */
	uint32_t dest;       /* index into dests of this snapshot */
	uint32_t last_use;   /* lcore tick of the last lookup: LRU eviction */
};

struct lblc_state {
	uint32_t tick; /* counts schedule() calls on this lcore; wraps harmlessly (ages are differences) */
	struct lblc_entry entry[LBLC_ENTRIES];
};

/* The entry for addr, or the slot to (re)use for it: an empty way, else the least recently used. */
static struct lblc_entry *lblc_slot(struct lblc_state *st, const struct lb_addr *addr, bool *found)
{
	uint32_t set = (uint32_t)sched_hash_addr(addr, 0, false, 0, LBLC_SEED) & (LBLC_SETS - 1);
	struct lblc_entry *ways = &st->entry[set * LBLC_WAYS], *victim = NULL;

	for (uint32_t w = 0; w < LBLC_WAYS; w++) {
		struct lblc_entry *e = &ways[w];
		if (e->addr.family == 0) {
			if (victim == NULL || victim->addr.family != 0)
				victim = e; /* the first empty way beats any occupied one */
			continue;
		}
		if (lb_addr_equal(&e->addr, addr)) {
			*found = true;
			return e;
		}
		if (victim == NULL ||
		    (victim->addr.family != 0 && st->tick - e->last_use > st->tick - victim->last_use))
			victim = e;
	}
	*found = false;
	return victim;
}

static int lblc_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			 uint32_t n, const struct sched_request *req)
{
	struct lblc_state *st = lcore_state;
	bool found;
	(void)shared;

	st->tick++;
	struct lblc_entry *e = lblc_slot(st, &req->vip, &found);
	if (found && e->dest < n && sched_dest_available(&dests[e->dest]) &&
	    !sched_lblc_overloaded(dests, n, req, e->dest)) {
		e->last_use = st->tick;
		return (int)e->dest;
	}
	int d = sched_pick_wlc(dests, n, req);
	if (d < 0)
		return -1;
	e->addr = req->vip;
	e->dest = (uint32_t)d;
	e->last_use = st->tick;
	return d;
}

const struct sched_ops sched_lblc_ops = {
	.name = "lblc",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.lcore_state_size = sizeof(struct lblc_state),
	.schedule = lblc_schedule,
};
