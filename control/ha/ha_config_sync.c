/* Configuration replication (ha_config_sync.h). */
#include "ha_config_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane.h"
#include "config_store.h"

/* Bytes of configuration per CONFIG message of HA_WIRE_MSG_DEFAULT bytes. */
#define CHUNK_LEN (HA_WIRE_MSG_DEFAULT - HA_WIRE_HEADER_LEN - HA_WIRE_HMAC_LEN - HA_CONFIG_HEAD_LEN)
/* Chunks per poll (every millisecond): paced so a large configuration does not overrun the
 * socket buffers, about 60 MB/s at most. */
#define CHUNKS_PER_POLL 48

/* What the master sends: the sections both nodes share. */
static const char *const replicated[] = {"services", "timeouts", "ipvs", NULL};

static struct {
	char *text;
	size_t len, off;
	uint64_t generation;
	uint16_t flags;
} tx;

static struct {
	uint8_t *buf;
	uint8_t *have; /* a bit per byte received */
	uint32_t total, received;
	uint64_t generation;
} rx;

static uint64_t applied_generation;
static uint64_t chunks_sent, chunks_received, configs_sent, configs_applied, apply_failures;
static char last_error[LB_ERR_LEN];

uint64_t ha_config_applied_generation(void)
{
	return applied_generation;
}

uint64_t ha_config_rx_generation(void)
{
	return rx.buf ? rx.generation : 0;
}

void ha_config_tx_start(uint16_t flags)
{
	json_t *all = lb_config_to_json(config_store_running()), *doc = json_object();

	free(tx.text);
	memset(&tx, 0, sizeof(tx));
	if (all == NULL || doc == NULL)
		goto out;
	for (int i = 0; replicated[i] != NULL; i++)
		json_object_set(doc, replicated[i], json_object_get(all, replicated[i]));
	tx.generation = config_store_generation();
	json_object_set_new(doc, "generation", json_integer((json_int_t)tx.generation));
	tx.text = json_dumps(doc, JSON_COMPACT);
	tx.len = tx.text ? strlen(tx.text) : 0;
	tx.flags = flags;
	if (tx.len > HA_CONFIG_TOTAL_MAX) {
		snprintf(last_error, sizeof(last_error), "configuration of %zu bytes is over the "
			 "16 MiB a pair replicates", tx.len);
		free(tx.text);
		memset(&tx, 0, sizeof(tx));
	}
out:
	json_decref(all);
	json_decref(doc);
}

void ha_config_tx_poll(ha_config_send_fn send)
{
	for (int k = 0; k < CHUNKS_PER_POLL && tx.text != NULL && tx.off < tx.len; k++) {
		struct ha_msg m = {.type = HA_MSG_CONFIG, .flags = tx.flags};
		size_t n = tx.len - tx.off < CHUNK_LEN ? tx.len - tx.off : CHUNK_LEN;
		m.config.generation = tx.generation;
		m.config.total_len = (uint32_t)tx.len;
		m.config.offset = (uint32_t)tx.off;
		m.config.len = (uint16_t)n;
		m.config.data = (const uint8_t *)tx.text + tx.off;
		if (send(&m) == 0)
			chunks_sent++;
		tx.off += n;
	}
	if (tx.text != NULL && tx.off >= tx.len) {
		configs_sent++;
		free(tx.text);
		memset(&tx, 0, sizeof(tx));
	}
}

static void rx_reset(void)
{
	free(rx.buf);
	free(rx.have);
	memset(&rx, 0, sizeof(rx));
}

/* Carries the ids of running's services and reals over to the same ones in c. */
static void keep_ids(const struct lb_config *running, struct lb_config *c)
{
	for (uint32_t i = 0; i < c->n_services; i++) {
		struct lb_service_cfg *s = &c->services[i];
		int k = lb_config_find_service(running, &s->vip, s->port, s->proto);
		if (k < 0)
			continue;
		const struct lb_service_cfg *old = &running->services[k];
		s->id = old->id;
		LB_SERVICE_FOREACH_DEST(s, r) {
			LB_SERVICE_FOREACH_DEST(old, o) {
				if (lb_addr_equal(&r->ip, &o->ip) && r->port == o->port &&
				    (r == &s->fallback) == (o == &old->fallback)) {
					r->id = o->id;
					r->gen = o->gen;
				}
			}
		}
	}
}

int ha_config_merge(const struct lb_config *running, const json_t *doc, struct lb_config *out,
		    char *err, size_t errlen)
{
	json_t *part = json_object();
	struct lb_config got;

	for (int i = 0; replicated[i] != NULL; i++) {
		json_t *v = json_object_get(doc, replicated[i]);
		if (v != NULL)
			json_object_set(part, replicated[i], v);
	}
	int rc = lb_config_from_json(part, &got, err, errlen);
	json_decref(part);
	if (rc != 0)
		return -1;
	if (lb_config_clone(running, out) != 0) {
		lb_config_free(&got);
		return lb_err(err, errlen, "out of memory");
	}
	for (uint32_t i = 0; i < out->n_services; i++)
		lb_service_free(&out->services[i]);
	free(out->services);
	out->services = got.services;
	out->n_services = got.n_services;
	got.services = NULL;
	got.n_services = 0;
	out->timeouts = got.timeouts;
	out->expire_nodest_conn = got.expire_nodest_conn;
	out->expire_quiescent_template = got.expire_quiescent_template;
	out->incremental = false;
	lb_config_free(&got);
	keep_ids(running, out);
	return 0;
}

static void apply_whole(void)
{
	json_error_t jerr;
	struct lb_config cand;
	char err[LB_ERR_LEN];
	json_t *doc = json_loadb((const char *)rx.buf, rx.total, JSON_REJECT_DUPLICATES, &jerr);
	uint64_t gen = rx.generation;

	rx_reset();
	if (doc == NULL) {
		snprintf(err, sizeof(err), "generation %llu: %s", (unsigned long long)gen, jerr.text);
		goto fail;
	}
	int rc = ha_config_merge(config_store_running(), doc, &cand, err, sizeof(err));
	json_decref(doc);
	if (rc != 0)
		goto fail;
	rc = config_store_commit(&cand, err, sizeof(err));
	lb_config_free(&cand);
	if (rc != 0)
		goto fail;
	applied_generation = gen;
	configs_applied++;
	LB_LOG(NOTICE, "ha: the master's configuration %llu applied (here generation %llu)",
	       (unsigned long long)gen, (unsigned long long)config_store_generation());
	return;
fail:
	apply_failures++;
	snprintf(last_error, sizeof(last_error), "%s", err);
	/* Not applied: the master's generation stays ahead, and the next request retries it. */
	LB_LOG(ERR, "ha: the master's configuration %llu refused: %s", (unsigned long long)gen, err);
}

void ha_config_on_chunk(const struct ha_msg *m)
{
	const struct ha_config_chunk *c = &m->config;

	chunks_received++;
	if (rx.buf == NULL || rx.generation != c->generation || rx.total != c->total_len) {
		rx_reset();
		rx.buf = malloc(c->total_len);
		rx.have = calloc((c->total_len + 7) / 8, 1);
		if (rx.buf == NULL || rx.have == NULL) {
			rx_reset();
			return;
		}
		rx.total = c->total_len;
		rx.generation = c->generation;
	}
	memcpy(rx.buf + c->offset, c->data, c->len);
	for (uint32_t i = c->offset; i < c->offset + c->len; i++) {
		if (!(rx.have[i / 8] & (1u << (i % 8)))) {
			rx.have[i / 8] |= (uint8_t)(1u << (i % 8));
			rx.received++;
		}
	}
	if (rx.received == rx.total)
		apply_whole();
}

json_t *ha_config_status_json(void)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "chunks_sent",
			 (json_int_t)chunks_sent, "chunks_received", (json_int_t)chunks_received,
			 "configs_sent", (json_int_t)configs_sent, "configs_applied",
			 (json_int_t)configs_applied, "apply_failures", (json_int_t)apply_failures,
			 "receiving_generation", (json_int_t)ha_config_rx_generation(), "last_error",
			 last_error);
}
