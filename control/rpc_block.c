/*
 * block.add, block.del, block.list: the blocklist is configuration (lib/blocklist.h), edited
 * like services and reals (config.apply runs block.add / block.del too) and published to the
 * dataplane's LPM tables by the commit (block_table.h). Expired entries are removed by
 * block_expire(), once a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane.h"
#include "config_store.h"
#include "rpc_block.h"
#include "rpc_methods.h"

#define BLOCK_TTL_MAX (10u * 365 * 86400) /* ten years */

static json_t *entry_json(const struct lb_block_entry *e, uint64_t now)
{
	json_t *o = lb_block_entry_to_json(e);

	json_object_set_new(o, "ttl",
			    json_integer(e->expires == 0 ? 0
				: e->expires > now ? (json_int_t)(e->expires - now) : 0));
	json_object_set_new(o, "hits", json_integer((json_int_t)block_table_hits(e->id)));
	return o;
}

static int parse_cidr(json_t *params, struct lb_block_entry *e, struct rpc_error *err)
{
	char inner[LB_ERR_LEN];
	json_t *v = json_object_get(params, "cidr");

	if (v == NULL) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.cidr: required (ADDR or ADDR/LEN)");
		return -1;
	}
	memset(e, 0, sizeof(*e));
	if (lb_block_parse_cidr(json_string_value(v), e, inner, sizeof(inner)) != 0) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.cidr: %s", inner);
		return -1;
	}
	return 0;
}

static json_t *block_add_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"cidr", "ttl", "reason", NULL};
	struct lb_block_entry e;
	uint32_t ttl = 0;
	json_t *reason = json_object_get(params, "reason");
	uint64_t now = (uint64_t)time(NULL);

	if (rpc_check_keys(params, keys, err) != 0 || parse_cidr(params, &e, err) != 0)
		return NULL;
	if (lb_json_get_uint(params, "ttl", "params", 0, BLOCK_TTL_MAX, &ttl, err->message,
			     sizeof(err->message)) != 0) {
		err->code = JSONRPC_INVALID_PARAMS;
		return NULL;
	}
	if (reason != NULL &&
	    (!json_is_string(reason) || json_string_length(reason) >= LB_BLOCK_REASON_LEN ||
	     strlen(json_string_value(reason)) != json_string_length(reason)))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"params.reason: must be a string of at most %u bytes",
				LB_BLOCK_REASON_LEN - 1);
	e.added = now;
	e.expires = ttl ? now + ttl : 0;
	if (reason != NULL)
		snprintf(e.reason, sizeof(e.reason), "%s", json_string_value(reason));
	c->block_changed = true;
	int i = lb_blocklist_find(c->block, c->n_block, &e);
	if (i >= 0) { /* adding again renews: new ttl and reason, same slot and hits */
		struct lb_block_entry *old = &c->block[i];
		old->expires = e.expires;
		if (reason != NULL)
			memcpy(old->reason, e.reason, sizeof(e.reason));
		json_t *o = entry_json(old, now);
		json_object_set_new(o, "renewed", json_true());
		return o;
	}
	if (c->n_block >= c->blocklist_capacity)
		return rpc_fail(err, LB_RPC_CAPACITY,
				"blocklist full: dataplane.blocklist_capacity is %u entries",
				c->blocklist_capacity);
	struct lb_block_entry *grown = realloc(c->block, (c->n_block + 1) * sizeof(*grown));
	if (grown == NULL)
		return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "out of memory");
	c->block = grown;
	c->block[c->n_block++] = e;
	return entry_json(&e, now);
}

static json_t *block_del_edit(struct lb_config *c, json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"cidr", NULL};
	struct lb_block_entry e;
	char cidr[LB_ADDR_STRLEN + 8];

	if (rpc_check_keys(params, keys, err) != 0 || parse_cidr(params, &e, err) != 0)
		return NULL;
	int i = lb_blocklist_find(c->block, c->n_block, &e);
	if (i < 0)
		return rpc_fail(err, LB_RPC_NOT_FOUND, "%s is not in the blocklist",
				lb_block_format_cidr(&e, cidr, sizeof(cidr)));
	json_t *o = entry_json(&c->block[i], (uint64_t)time(NULL));
	memmove(&c->block[i], &c->block[i + 1], (c->n_block - (uint32_t)i - 1) * sizeof(e));
	c->n_block--;
	c->block_changed = true;
	json_object_set_new(o, "deleted", json_true());
	return o;
}

static json_t *block_add(json_t *params, struct rpc_error *err)
{
	return rpc_run_edit(block_add_edit, params, err);
}

static json_t *block_del(json_t *params, struct rpc_error *err)
{
	return rpc_run_edit(block_del_edit, params, err);
}

static json_t *block_list(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};
	const struct lb_config *c = config_store_running();
	uint64_t now = (uint64_t)time(NULL), blocked = 0;
	struct lb_worker_stats sums;
	json_t *list = json_array();

	if (params != NULL && rpc_check_keys(params, keys, err) != 0) {
		json_decref(list);
		return NULL;
	}
	for (uint32_t i = 0; i < c->n_block; i++)
		json_array_append_new(list, entry_json(&c->block[i], now));
	stats_workers(&sums);
	blocked = sums.drops[LB_DROP_BLOCKED];
	return json_pack("{s:o, s:I, s:I}", "entries", list, "capacity",
			 (json_int_t)c->blocklist_capacity, "blocked", (json_int_t)blocked);
}

void block_expire(void)
{
	const struct lb_config *run = config_store_running();
	uint64_t now = (uint64_t)time(NULL);
	struct lb_config cand;
	char err[LB_ERR_LEN];
	uint32_t kept = 0, i;

	for (i = 0; i < run->n_block; i++)
		if (run->block[i].expires != 0 && run->block[i].expires <= now)
			break;
	if (i == run->n_block || lb_config_clone(run, &cand) != 0)
		return;
	cand.incremental = true;
	for (i = 0; i < cand.n_block; i++)
		if (cand.block[i].expires == 0 || cand.block[i].expires > now)
			cand.block[kept++] = cand.block[i];
	LB_LOG(NOTICE, "blocklist: %u entries expired", cand.n_block - kept);
	cand.n_block = kept;
	cand.block_changed = true;
	if (config_store_commit(&cand, err, sizeof(err)) != 0)
		LB_LOG(ERR, "blocklist: expiry not applied: %s", err);
	lb_config_free(&cand);
}

const struct rpc_edit_method rpc_block_edits[] = {
	{"block.add", block_add_edit},
	{"block.del", block_del_edit},
	{NULL, NULL},
};

const struct rpc_method rpc_block_methods[] = {
	{"block.add", block_add},
	{"block.del", block_del},
	{"block.list", block_list},
	{NULL, NULL},
};
