#include "block_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "jsonrpc.h"

#include "lb_log.h"

struct block_live block_live;

static struct rte_lpm *lpm4;   /* created on the first IPv4 entry, then kept */
static struct rte_lpm6 *lpm6;  /* likewise */
static uint32_t capacity;
static uint32_t *free_ids;     /* stack of free slot ids (1..capacity) */
static uint32_t n_free;
static uint64_t *base;         /* [capacity + 1]: hits summed when the slot was taken */
static uint8_t *fresh;         /* [capacity + 1]: given by the prepare not yet committed */
static uint32_t n4, n6;        /* entries in each table */

int block_table_init(uint32_t cap)
{
	/*
	 * Twice the entries: a change adds its new entries before the old ones go (they are
	 * removed after the publication), so a full list can still be replaced in one change.
	 */
	cap *= 2;
	capacity = cap;
	free_ids = calloc(cap, sizeof(*free_ids));
	base = calloc(cap + 1, sizeof(*base));
	fresh = calloc(cap + 1, 1);
	if (free_ids == NULL || base == NULL || fresh == NULL)
		return -1;
	for (uint32_t i = 0; i < cap; i++)
		free_ids[i] = cap - i; /* pops 1, 2, ... */
	n_free = cap;
	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		lb_rt.workers[w]->block_hits = rte_zmalloc("block_hits", (cap + 1) * sizeof(uint64_t),
							   RTE_CACHE_LINE_SIZE);
		if (lb_rt.workers[w]->block_hits == NULL)
			return -1;
	}
	return 0;
}

uint64_t block_table_hits(uint32_t id)
{
	uint64_t sum = 0;

	if (id == 0 || id > capacity)
		return 0;
	for (uint16_t w = 0; w < lb_rt.n_workers; w++)
		sum += LB_COUNTER_READ(lb_rt.workers[w]->block_hits[id]);
	return sum - base[id];
}

static int create_table(uint8_t family, char *err, size_t errlen)
{
	if (family == AF_INET && lpm4 == NULL) {
		struct rte_lpm_config c = {.max_rules = capacity,
					   .number_tbl8s = capacity < 65536 ? capacity : 65536};
		lpm4 = rte_lpm_create("dlb_block4", (int)rte_socket_id(), &c);
		if (lpm4 == NULL)
			return lb_err(err, errlen, "blocklist: no memory for the IPv4 LPM table "
					  "(about 64 MiB and 2 KiB per entry; raise EAL -m)");
		/* Freed tbl8 groups are reused only after every worker has passed a quiescent state. */
		struct rte_lpm_rcu_config rc = {.v = lb_rt.rcu, .mode = RTE_LPM_QSBR_MODE_DQ};
		if (rte_lpm_rcu_qsbr_add(lpm4, &rc) != 0)
			LB_LOG(WARNING, "blocklist: LPM without RCU reclamation: %s",
			       rte_strerror(rte_errno));
	} else if (family == AF_INET6 && lpm6 == NULL) {
		uint32_t groups = capacity * 4 < 65536 ? capacity * 4 : 65536;
		struct rte_lpm6_config c = {.max_rules = capacity, .number_tbl8s = groups};
		lpm6 = rte_lpm6_create("dlb_block6", (int)rte_socket_id(), &c);
		if (lpm6 == NULL)
			return lb_err(err, errlen, "blocklist: no memory for the IPv6 LPM table "
					  "(about 64 MiB and 8 KiB per entry; raise EAL -m)");
	}
	return 0;
}

static int table_add(const struct lb_block_entry *e)
{
	if (e->prefix.family == AF_INET)
		return rte_lpm_add(lpm4, rte_be_to_cpu_32(e->prefix.v4), e->len, e->id);
	return rte_lpm6_add(lpm6, e->prefix.v6, e->len, e->id);
}

static void table_del(const struct lb_block_entry *e)
{
	if (e->prefix.family == AF_INET)
		rte_lpm_delete(lpm4, rte_be_to_cpu_32(e->prefix.v4), e->len);
	else
		rte_lpm6_delete(lpm6, e->prefix.v6, e->len);
}

static void publish_live(void)
{
	__atomic_store_n(&block_live.lpm4, n4 ? lpm4 : NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&block_live.lpm6, n6 ? lpm6 : NULL, __ATOMIC_RELEASE);
}

int block_table_prepare(struct lb_config *cand, char *err, size_t errlen)
{
	char cidr[LB_ADDR_STRLEN + 8];

	if (errlen > 0)
		err[0] = '\0';
	for (uint32_t i = 0; i < cand->n_block; i++) {
		struct lb_block_entry *e = &cand->block[i];
		if (e->id != 0)
			continue;
		if (create_table(e->prefix.family, err, errlen) != 0 || n_free == 0 ||
		    (e->id = free_ids[--n_free], table_add(e)) != 0) {
			if (e->id != 0)
				free_ids[n_free++] = e->id;
			e->id = 0;
			if (err[0] == '\0' || n_free == 0)
				lb_err(err, errlen, "blocklist[%u]: %s does not fit the LPM table", i,
				       lb_block_format_cidr(e, cidr, sizeof(cidr)));
			block_table_abort(cand);
			return LB_RPC_CAPACITY;
		}
		fresh[e->id] = 1;
		base[e->id] = 0;
		base[e->id] = block_table_hits(e->id);
		if (e->prefix.family == AF_INET)
			n4++;
		else
			n6++;
	}
	publish_live();
	return 0;
}

void block_table_abort(struct lb_config *cand)
{
	for (uint32_t i = 0; i < cand->n_block; i++) {
		struct lb_block_entry *e = &cand->block[i];
		if (e->id == 0 || !fresh[e->id])
			continue;
		table_del(e);
		fresh[e->id] = 0;
		free_ids[n_free++] = e->id;
		e->id = 0;
		if (e->prefix.family == AF_INET)
			n4--;
		else
			n6--;
	}
	publish_live();
}

void block_table_commit(const struct lb_config *old, const struct lb_config *cand)
{
	uint8_t *kept = calloc(capacity + 1, 1);

	for (uint32_t i = 0; i < cand->n_block; i++) {
		fresh[cand->block[i].id] = 0;
		if (kept != NULL)
			kept[cand->block[i].id] = 1;
	}
	for (uint32_t i = 0; old != cand && kept != NULL && i < old->n_block; i++) {
		const struct lb_block_entry *e = &old->block[i];
		if (e->id == 0 || kept[e->id])
			continue;
		table_del(e);
		free_ids[n_free++] = e->id;
		if (e->prefix.family == AF_INET)
			n4--;
		else
			n6--;
	}
	free(kept);
	publish_live();
}
