/*
 * Cost of the one validator on the control lcore: lb_config_validate() over 10k services x 10
 * reals, with shared real addresses (every service on the same 10 reals) and distinct ones.
 * Every commit pays it, so it bounds how fast a one-weight change can be. Prints figures only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "config_validate.h"

#define REPEATS 7

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* n_services services of n_reals reals each in 10.0.0.0/8; distinct: every real its own. */
static int make_config(struct lb_config *c, uint32_t n_services, uint32_t n_reals, int distinct)
{
	lb_config_init_defaults(c);
	c->max_services = n_services;
	c->max_reals = n_services * n_reals;
	c->n_ports = 1;
	c->ports = calloc(1, sizeof(*c->ports));
	c->services = calloc(n_services, sizeof(*c->services));
	if (c->ports == NULL || c->services == NULL)
		return -1;
	c->ports[0].address = lb_addr_from_v4(htonl(0x0a000002u));
	c->ports[0].prefix_len = 8;
	c->ports[0].mtu = 1500;
	for (uint32_t i = 0; i < n_services; i++) {
		struct lb_service_cfg *s = &c->services[i];
		s->vip = lb_addr_from_v4(htonl(0x0a800000u + i));
		s->port = 80;
		s->proto = IPPROTO_TCP;
		s->netmask_len = 32;
		snprintf(s->scheduler, sizeof(s->scheduler), "wlc");
		s->reals = calloc(n_reals, sizeof(*s->reals));
		if (s->reals == NULL)
			return -1;
		s->n_reals = n_reals;
		for (uint32_t j = 0; j < n_reals; j++) {
			uint32_t host = distinct ? 0x0a100000u + i * n_reals + j : 0x0a000010u + j;
			s->reals[j].ip = lb_addr_from_v4(htonl(host));
			s->reals[j].port = 80;
			s->reals[j].weight = 1;
		}
		c->n_services = i + 1;
	}
	return 0;
}

/* incremental: an RPC edit's candidate with that many services marked changed (0: whole). */
static void bench(uint32_t n_services, uint32_t n_reals, int distinct, uint32_t incremental)
{
	struct lb_config c;
	char err[LB_ERR_LEN];
	double best = 1e9, total = 0;

	if (make_config(&c, n_services, n_reals, distinct) != 0) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	c.incremental = incremental != 0;
	for (uint32_t i = 0; i < incremental; i++)
		c.services[(n_services / 2 + i * 7) % n_services].changed = true;
	for (int r = 0; r < REPEATS; r++) {
		double t0 = now_ms();
		if (lb_config_validate(&c, err, sizeof(err)) != LB_VALID) {
			fprintf(stderr, "refused: %s\n", err);
			exit(1);
		}
		double dt = now_ms() - t0;
		total += dt;
		if (dt < best)
			best = dt;
	}
	printf("validate %u services x %u reals (%s addresses, %u changed%s): best %.3f ms, "
	       "mean %.3f ms\n", n_services, n_reals, distinct ? "distinct" : "shared", incremental,
	       incremental ? "" : ": whole config", best, total / REPEATS);
	lb_config_free(&c);
}

int main(void)
{
	bench(10000, 10, 0, 0);
	bench(10000, 10, 1, 0);
	bench(1000, 10, 0, 0);
	bench(10000, 10, 0, 1);
	bench(10000, 10, 1, 1);
	bench(10000, 10, 0, 8);
	bench(10000, 10, 0, 1000);
	return 0;
}
