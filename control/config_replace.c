/* Whole-document configuration changes: reload, restore, replication (config_replace.h). */
#include <stdio.h>
#include <string.h>

#include "config_replace.h"
#include "config_store.h"
#include "dataplane.h"
#include "health/admin_state_file.h"
#include "jsonrpc.h"

json_t *config_restart_sections(const struct lb_config *a, const struct lb_config *b)
{
	json_t *ja = lb_config_to_json(a), *jb = lb_config_to_json(b), *out = json_array();
	const char *key;
	json_t *va;

	if (ja == NULL || jb == NULL || out == NULL) {
		json_decref(ja);
		json_decref(jb);
		json_decref(out);
		return NULL;
	}
	/* what changes at run time: the services and the blocklist */
	json_object_del(ja, "services");
	json_object_del(jb, "services");
	json_object_del(ja, "blocklist");
	json_object_del(jb, "blocklist");
	/* Keys only one side has count too: a section the document adds or drops changes it. */
	json_object_foreach(jb, key, va) {
		if (json_object_get(ja, key) == NULL)
			json_object_set(ja, key, json_null());
	}
	json_object_foreach(ja, key, va) {
		json_t *vb = json_object_get(jb, key);
		if (vb == NULL || !json_equal(va, vb))
			json_array_append_new(out, json_string(key));
	}
	json_decref(ja);
	json_decref(jb);
	return out;
}

/* Gives doc's real r the id of the same real (address and port) of the running service. */
static void carry_real_id(const struct lb_service_cfg *run, struct lb_real_cfg *r)
{
	int i = lb_service_find_real(run, &r->ip, r->port);

	if (i >= 0) {
		r->id = run->reals[i].id;
		r->gen = run->reals[i].gen;
	}
}

/* Services and reals the running configuration already has keep their ids (and so their flows). */
static void carry_ids(const struct lb_config *running, struct lb_config *doc)
{
	for (uint32_t s = 0; s < doc->n_services; s++) {
		struct lb_service_cfg *svc = &doc->services[s];
		int i = lb_config_find_service(running, &svc->vip, svc->port, svc->proto);

		if (i < 0)
			continue;
		const struct lb_service_cfg *run = &running->services[i];
		svc->id = run->id;
		for (uint32_t k = 0; k < svc->n_reals; k++)
			carry_real_id(run, &svc->reals[k]);
		if (svc->has_fallback && run->has_fallback &&
		    lb_addr_equal(&svc->fallback.ip, &run->fallback.ip) &&
		    svc->fallback.port == run->fallback.port) {
			svc->fallback.id = run->fallback.id;
			svc->fallback.gen = run->fallback.gen;
		}
	}
}

/* Whether a and b have the same services and blocklist, as config.get would show them. */
static bool same_services(const struct lb_config *a, const struct lb_config *b)
{
	json_t *ja = lb_config_to_json(a), *jb = lb_config_to_json(b);
	bool same = ja != NULL && jb != NULL &&
		    json_equal(json_object_get(ja, "services"), json_object_get(jb, "services")) &&
		    json_equal(json_object_get(ja, "blocklist"), json_object_get(jb, "blocklist"));

	json_decref(ja);
	json_decref(jb);
	return same;
}

/*
 * Blocklist entries that stay keep their dataplane slot: a new slot for the same prefix would be
 * added, then the old one's removal would take the prefix out of the LPM table.
 */
static void carry_block_ids(const struct lb_config *running, struct lb_config *doc)
{
	for (uint32_t i = 0; i < doc->n_block; i++) {
		int k = lb_blocklist_find(running->block, running->n_block, &doc->block[i]);
		doc->block[i].id = k >= 0 ? running->block[k].id : 0;
	}
}

/* Swaps the parts that change at run time (services, blocklist) between a and b. */
static void swap_runtime_parts(struct lb_config *a, struct lb_config *b)
{
	struct lb_service_cfg *svc = a->services;
	uint32_t n_svc = a->n_services, n_block = a->n_block;
	struct lb_block_entry *block = a->block;

	a->services = b->services;
	a->n_services = b->n_services;
	a->block = b->block;
	a->n_block = b->n_block;
	b->services = svc;
	b->n_services = n_svc;
	b->block = block;
	b->n_block = n_block;
}

int config_replace(struct lb_config *doc, unsigned int flags, char *err, size_t errlen)
{
	const struct lb_config *running = config_store_running();
	struct lb_config cand;
	char sections[256];

	if (!(flags & CONFIG_REPLACE_SERVICES_ONLY)) {
		json_t *differ = config_restart_sections(running, doc), *name;
		size_t i, used = 0;

		if (differ == NULL)
			return lb_err(err, errlen, "out of memory"), JSONRPC_INTERNAL_ERROR;
		sections[0] = '\0';
		json_array_foreach(differ, i, name) {
			int w = snprintf(sections + used, sizeof(sections) - used, "%s%s",
					 i ? ", " : "", json_string_value(name));
			if (w > 0 && used + (size_t)w < sizeof(sections))
				used += (size_t)w;
		}
		size_t n = json_array_size(differ);
		json_decref(differ);
		if (n > 0)
			return lb_err(err, errlen,
				      "changes to %s take a restart; only services and the blocklist "
				      "change at run time (nothing was changed)", sections),
			       JSONRPC_INVALID_PARAMS;
	}
	if (flags & CONFIG_REPLACE_ADMIN_STATE) {
		char serr[LB_ERR_LEN];
		if (admin_state_file_apply(doc, serr, sizeof(serr)) < 0)
			LB_LOG(ERR, "health: admin states not re-applied: %s", serr);
	}
	if (same_services(running, doc))
		return 0; /* a reload of an unchanged file is not a new generation */
	carry_ids(running, doc);
	carry_block_ids(running, doc);
	if (lb_config_clone(running, &cand) != 0)
		return lb_err(err, errlen, "out of memory"), JSONRPC_INTERNAL_ERROR;
	/* cand takes doc's services and blocklist; doc holds the running copies until freed */
	swap_runtime_parts(&cand, doc);
	cand.incremental = false;
	cand.block_changed = true;
	int rc = config_store_commit(&cand, err, errlen);
	if (rc != 0)
		swap_runtime_parts(&cand, doc); /* the document keeps its own: the caller frees it */
	lb_config_free(&cand);
	return rc;
}

int config_reload_file(const char *path, char *err, size_t errlen)
{
	struct lb_config doc;
	char lerr[LB_ERR_LEN];

	lb_config_init_defaults(&doc);
	if (lb_config_load_file(path, &doc, lerr, sizeof(lerr)) != 0) {
		lb_config_free(&doc);
		lb_err(err, errlen, "%s (nothing was changed)", lerr);
		return JSONRPC_INVALID_PARAMS;
	}
	int rc = config_replace(&doc, CONFIG_REPLACE_ADMIN_STATE, err, errlen);
	lb_config_free(&doc);
	return rc;
}
