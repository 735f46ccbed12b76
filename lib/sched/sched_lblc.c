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
#include "sched_addr_map.h"
#include "sched_util.h"

#define LBLC_ENTRIES 1024u
#define LBLC_WAYS 4u
#define LBLC_SETS (LBLC_ENTRIES / LBLC_WAYS)
#define LBLC_SEED 0x6c626c632d6d6170ull

struct lblc_entry {
	struct sched_addr_entry head;
	uint32_t dest; /* index into dests of this snapshot */
};

struct lblc_state {
	uint32_t tick; /* counts schedule() calls on this lcore; wraps harmlessly (ages are differences) */
	struct lblc_entry entry[LBLC_ENTRIES];
};

static int lblc_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			 uint32_t n, const struct sched_request *req)
{
	struct lblc_state *st = lcore_state;
	bool found;
	(void)shared;

	st->tick++;
	struct lblc_entry *e = sched_addr_map_slot(st->entry, sizeof(st->entry[0]), LBLC_SETS,
					       LBLC_WAYS, st->tick, &req->vip, LBLC_SEED, &found);
	if (found && e->dest < n && sched_dest_available(&dests[e->dest]) &&
	    !sched_lblc_overloaded(dests, n, req, e->dest)) {
		e->head.last_use = st->tick;
		return (int)e->dest;
	}
	int d = sched_pick_wlc(dests, n, req);
	if (d < 0)
		return -1;
	e->head.addr = req->vip;
	e->dest = (uint32_t)d;
	e->head.last_use = st->tick;
	return d;
}

const struct sched_ops sched_lblc_ops = {
	.name = "lblc",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.lcore_state_size = sizeof(struct lblc_state),
	.schedule = lblc_schedule,
};
