/* Whole-document configuration changes: reload, restore, replication (config_replace.h). */
#include <stdio.h>
#include <string.h>

#include "config_replace.h"
#include "config_store.h"
#include "dataplane.h"
#include "health/admin_state_file.h"
#include "jsonrpc.h"

int config_restart_sections(const struct lb_config *a, const struct lb_config *b, char *out,
			    size_t outlen)
{
	json_t *ja = lb_config_to_json(a), *jb = lb_config_to_json(b);
	const char *key;
	json_t *va;
	int n = 0;
	size_t used = 0;

	if (outlen > 0)
		out[0] = '\0';
	if (ja == NULL || jb == NULL) {
		json_decref(ja);
		json_decref(jb);
		return -1;
	}
	json_object_del(ja, "services");
	json_object_del(jb, "services");
	/* Keys only one side has count too: a section the document adds or drops changes it. */
	json_object_foreach(jb, key, va) {
		if (json_object_get(ja, key) == NULL)
			json_object_set(ja, key, json_null());
	}
	json_object_foreach(ja, key, va) {
		json_t *vb = json_object_get(jb, key);
		if (vb != NULL && json_equal(va, vb))
			continue;
		int w = snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s",
				 n ? ", " : "", key);
		if (w > 0 && used + (size_t)w < outlen)
			used += (size_t)w;
		n++;
	}
	json_decref(ja);
	json_decref(jb);
	return n;
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

/* Whether a and b have the same services, as config.get would show them. */
static bool same_services(const struct lb_config *a, const struct lb_config *b)
{
	json_t *ja = lb_config_to_json(a), *jb = lb_config_to_json(b);
	bool same = ja != NULL && jb != NULL &&
		    json_equal(json_object_get(ja, "services"), json_object_get(jb, "services"));

	json_decref(ja);
	json_decref(jb);
	return same;
}

int config_replace(struct lb_config *doc, unsigned int flags, char *err, size_t errlen)
{
	const struct lb_config *running = config_store_running();
	struct lb_config cand;
	char sections[256];

	if (!(flags & CONFIG_REPLACE_SERVICES_ONLY)) {
		int n = config_restart_sections(running, doc, sections, sizeof(sections));
		if (n < 0)
			return lb_err(err, errlen, "out of memory"), JSONRPC_INTERNAL_ERROR;
		if (n > 0)
			return lb_err(err, errlen,
				      "changes to %s take a restart; only services change at run "
				      "time (nothing was changed)", sections),
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
	if (lb_config_clone(running, &cand) != 0)
		return lb_err(err, errlen, "out of memory"), JSONRPC_INTERNAL_ERROR;
	for (uint32_t i = 0; i < cand.n_services; i++)
		lb_service_free(&cand.services[i]);
	free(cand.services);
	cand.services = doc->services;
	cand.n_services = doc->n_services;
	cand.incremental = false;
	doc->services = NULL;
	doc->n_services = 0;
	int rc = config_store_commit(&cand, err, errlen);
	if (rc != 0) {
		/* The document keeps its services: the caller frees both as usual. */
		doc->services = cand.services;
		doc->n_services = cand.n_services;
		cand.services = NULL;
		cand.n_services = 0;
	}
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
