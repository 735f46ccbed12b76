#include "rate_estimator.h"

#include <stdlib.h>
#include <string.h>

#include "dataplane.h"
#include "rate_est.h"

static struct lb_rate_est *services; /* [max_services + 1], by id */
static struct lb_rate_est *reals;    /* [max_reals + 1] */
static struct lb_rate_est global;
static uint32_t n_service_ids, n_real_ids;

static void traffic_counters(const struct traffic_sum *t, uint64_t c[LB_RATE_COUNT])
{
	c[LB_RATE_CONNS] = t->conns;
	c[LB_RATE_INPKTS] = t->inpkts;
	c[LB_RATE_OUTPKTS] = t->outpkts;
	c[LB_RATE_INBYTES] = t->inbytes;
	c[LB_RATE_OUTBYTES] = t->outbytes;
}

static void service_counters(uint32_t id, uint64_t c[LB_RATE_COUNT])
{
	struct traffic_sum t;

	stats_service(id, &t);
	traffic_counters(&t, c);
}

static void real_counters(uint32_t id, uint64_t c[LB_RATE_COUNT])
{
	struct traffic_sum t;

	stats_real(id, &t);
	traffic_counters(&t, c);
}

static void global_counters(uint64_t c[LB_RATE_COUNT])
{
	struct lb_worker_stats ws;

	stats_workers(&ws);
	c[LB_RATE_CONNS] = ws.flows_created;
	c[LB_RATE_INPKTS] = ws.rx_packets;
	c[LB_RATE_OUTPKTS] = ws.tx_packets;
	port_stats_bytes(&c[LB_RATE_INBYTES], &c[LB_RATE_OUTBYTES]);
}

int rate_estimator_init(uint32_t max_services, uint32_t max_reals)
{
	uint64_t c[LB_RATE_COUNT];

	rate_estimator_free();
	services = calloc((size_t)max_services + 1, sizeof(*services));
	reals = calloc((size_t)max_reals + 1, sizeof(*reals));
	if (services == NULL || reals == NULL) {
		rate_estimator_free();
		return -1;
	}
	n_service_ids = max_services;
	n_real_ids = max_reals;
	global_counters(c);
	lb_rate_est_start(&global, c);
	return 0;
}

void rate_estimator_free(void)
{
	free(services);
	free(reals);
	services = reals = NULL;
	n_service_ids = n_real_ids = 0;
	memset(&global, 0, sizeof(global));
}

void rate_estimator_sample(void)
{
	const struct lb_config *cfg = lb_rt.config;
	uint64_t c[LB_RATE_COUNT];

	if (services == NULL)
		return;
	global_counters(c);
	lb_rate_est_update(&global, c);
	for (uint32_t i = 0; cfg != NULL && i < cfg->n_services; i++) {
		const struct lb_service_cfg *s = &cfg->services[i];
		if (s->id == 0 || s->id > n_service_ids)
			continue;
		service_counters(s->id, c);
		lb_rate_est_update(&services[s->id], c);
		LB_SERVICE_FOREACH_DEST(s, r) {
			if (r->id == 0 || r->id > n_real_ids)
				continue;
			real_counters(r->id, c);
			lb_rate_est_update(&reals[r->id], c);
		}
	}
}

static void read_rates(const struct lb_rate_est *e, struct lb_rates *out)
{
	double r[LB_RATE_COUNT];

	lb_rate_est_read(e, r);
	out->cps = r[LB_RATE_CONNS];
	out->inpps = r[LB_RATE_INPKTS];
	out->outpps = r[LB_RATE_OUTPKTS];
	out->inbps = r[LB_RATE_INBYTES];
	out->outbps = r[LB_RATE_OUTBYTES];
}

void rate_estimator_service(uint32_t service_id, struct lb_rates *out)
{
	memset(out, 0, sizeof(*out));
	if (services != NULL && service_id != 0 && service_id <= n_service_ids)
		read_rates(&services[service_id], out);
}

void rate_estimator_real(uint32_t real_id, struct lb_rates *out)
{
	memset(out, 0, sizeof(*out));
	if (reals != NULL && real_id != 0 && real_id <= n_real_ids)
		read_rates(&reals[real_id], out);
}

void rate_estimator_global(struct lb_rates *out)
{
	memset(out, 0, sizeof(*out));
	if (services != NULL)
		read_rates(&global, out);
}

void rate_estimator_reset_service(uint32_t service_id)
{
	uint64_t c[LB_RATE_COUNT];

	if (services == NULL || service_id == 0 || service_id > n_service_ids)
		return;
	service_counters(service_id, c);
	lb_rate_est_start(&services[service_id], c);
}

void rate_estimator_reset_real(uint32_t real_id)
{
	uint64_t c[LB_RATE_COUNT];

	if (reals == NULL || real_id == 0 || real_id > n_real_ids)
		return;
	real_counters(real_id, c);
	lb_rate_est_start(&reals[real_id], c);
}
