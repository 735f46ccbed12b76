/*
 * lblcr: locality-based least connection with replication (IPVS ip_vs_lblcr). Each destination
 * address (the VIP the client asked for) owns a set of servers; a new connection goes to the
 * set's member with the least (active*256 + inactive) / weight. When that member is unavailable
 * or overloaded (active > weight while another server is under half of its weight), wlc over all
 * servers picks one and it joins the set. When a set of several members has not changed for
 * LBLCR_EXPIRE_S seconds (IPVS default: one day), its busiest member is dropped.
 *
 * Differences from IPVS, forced by the no-shared-writes rule: the map lives in each worker's
 * per-lcore state block, one map per lcore, empty again with each configuration snapshot. It is
 * a fixed table of LBLCR_ENTRIES entries, LBLCR_WAYS-way set associative, evicting the least
 * recently used entry of a full set; a set holds at most LBLCR_SET_MAX members, and a full set
 * that must grow replaces an unavailable member, else its busiest one. Aging needs
 * req->now_s; with now_s == 0 sets never shrink.
 */
#include "sched_addr_map.h"
#include "sched_util.h"

#define LBLCR_ENTRIES 1024u
#define LBLCR_WAYS 4u
#define LBLCR_SETS (LBLCR_ENTRIES / LBLCR_WAYS)
#define LBLCR_SET_MAX 8u
#define LBLCR_EXPIRE_S (24u * 60u * 60u)
#define LBLCR_SEED 0x6c626c63722d6d61ull

struct lblcr_entry {
	struct sched_addr_entry head;
	uint32_t last_mod; /* req->now_s when the member set last changed */
	uint32_t size;
	uint32_t member[LBLCR_SET_MAX]; /* dest indexes, newest first as IPVS adds at the head */
};

struct lblcr_state {
	uint32_t tick; /* counts schedule() calls on this lcore; wraps harmlessly (ages are differences) */
	struct lblcr_entry entry[LBLCR_ENTRIES];
};

/* Member with the least overhead / weight among available members, earlier first; -1 if none. */
static int lblcr_set_min(const struct lblcr_entry *e, const struct sched_dest *dests, uint32_t n,
			 const struct sched_request *req)
{
	int best = -1;
	uint64_t best_overhead = 0, best_weight = 0;

	for (uint32_t k = 0; k < e->size; k++) {
		uint32_t i = e->member[k];
		if (i >= n || !sched_dest_available(&dests[i]))
			continue;
		uint64_t overhead = sched_overhead(req, i), weight = dests[i].weight;
		if (best < 0 || overhead * best_weight < best_overhead * weight) {
			best = (int)i;
			best_overhead = overhead;
			best_weight = weight;
		}
	}
	return best;
}

/* Position in the set of the member with the most overhead / weight (weight > 0); -1 if none. */
static int lblcr_set_max_pos(const struct lblcr_entry *e, const struct sched_dest *dests,
			     uint32_t n, const struct sched_request *req)
{
	int most = -1;
	uint64_t most_overhead = 0, most_weight = 0;

	for (uint32_t k = 0; k < e->size; k++) {
		uint32_t i = e->member[k];
		if (i >= n || dests[i].weight == 0)
			continue;
		uint64_t overhead = sched_overhead(req, i), weight = dests[i].weight;
		if (most < 0 || overhead * most_weight > most_overhead * weight) {
			most = (int)k;
			most_overhead = overhead;
			most_weight = weight;
		}
	}
	return most;
}

static void lblcr_set_erase_pos(struct lblcr_entry *e, uint32_t pos, uint32_t now_s)
{
	for (uint32_t k = pos; k + 1 < e->size; k++)
		e->member[k] = e->member[k + 1];
	e->size--;
	e->last_mod = now_s;
}

/* Adds dest at the head of the set unless it is a member; a full set gives up one member first. */
static void lblcr_set_insert(struct lblcr_entry *e, uint32_t dest, const struct sched_dest *dests,
			     uint32_t n, const struct sched_request *req)
{
	for (uint32_t k = 0; k < e->size; k++)
		if (e->member[k] == dest)
			return;
	if (e->size == LBLCR_SET_MAX) {
		int pos = -1;
		for (uint32_t k = 0; k < e->size && pos < 0; k++)
			if (e->member[k] >= n || !sched_dest_available(&dests[e->member[k]]))
				pos = (int)k;
		if (pos < 0)
			pos = lblcr_set_max_pos(e, dests, n, req);
		lblcr_set_erase_pos(e, pos < 0 ? e->size - 1 : (uint32_t)pos, req->now_s);
	}
	for (uint32_t k = e->size; k > 0; k--)
		e->member[k] = e->member[k - 1];
	e->member[0] = dest;
	e->size++;
	e->last_mod = req->now_s;
}

static int lblcr_schedule(const void *shared, void *lcore_state, const struct sched_dest *dests,
			  uint32_t n, const struct sched_request *req)
{
	struct lblcr_state *st = lcore_state;
	bool found;
	(void)shared;

	st->tick++;
	struct lblcr_entry *e = sched_addr_map_slot(st->entry, sizeof(st->entry[0]), LBLCR_SETS,
						LBLCR_WAYS, st->tick, &req->vip, LBLCR_SEED, &found);
	if (found) {
		e->head.last_use = st->tick;
		int least = lblcr_set_min(e, dests, n, req);
		/* A set that has been stable for long gives up its busiest member (IPVS order: after
		 * the choice, so the chosen member may be the one dropped this once). */
		if (e->size > 1 && req->now_s != 0 && req->now_s - e->last_mod > LBLCR_EXPIRE_S) {
			int pos = lblcr_set_max_pos(e, dests, n, req);
			if (pos >= 0)
				lblcr_set_erase_pos(e, (uint32_t)pos, req->now_s);
		}
		if (least >= 0 && !sched_lblc_overloaded(dests, n, req, (uint32_t)least))
			return least;
		int d = sched_pick_wlc(dests, n, req);
		if (d < 0)
			return -1;
		lblcr_set_insert(e, (uint32_t)d, dests, n, req);
		return d;
	}
	int d = sched_pick_wlc(dests, n, req);
	if (d < 0)
		return -1;
	e->head.addr = req->vip;
	e->head.last_use = st->tick;
	e->size = 1;
	e->member[0] = (uint32_t)d;
	e->last_mod = req->now_s;
	return d;
}

const struct sched_ops sched_lblcr_ops = {
	.name = "lblcr",
	.ops_flags = SCHED_OPS_NEEDS_LOAD,
	.lcore_state_size = sizeof(struct lblcr_state),
	.schedule = lblcr_schedule,
};
