/* lib/rate_est.c: the IPVS estimator's arithmetic, checked against ip_vs_est.c's own formulas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rate_est.h"

/* ip_vs_est.c's estimation_timer and ip_vs_read_estimator for one counter, written as there. */
struct kernel_est {
	uint64_t last;
	int64_t avg;
};

static void kernel_update(struct kernel_est *k, uint64_t now, int shift)
{
	int64_t rate = (int64_t)((now - k->last) << shift);

	k->last = now;
	k->avg += (rate - k->avg) >> 2; /* GCC: arithmetic shift, as in the kernel */
}

static uint64_t kernel_read(const struct kernel_est *k, int bytes)
{
	return bytes ? (uint64_t)(k->avg + 0xF) >> 5 : (uint64_t)(k->avg + 0x1FF) >> 10;
}

static void fill(uint64_t c[LB_RATE_COUNT], uint64_t conns, uint64_t pkts, uint64_t bytes)
{
	c[LB_RATE_CONNS] = conns;
	c[LB_RATE_INPKTS] = pkts;
	c[LB_RATE_OUTPKTS] = pkts / 2;
	c[LB_RATE_INBYTES] = bytes;
	c[LB_RATE_OUTBYTES] = bytes / 3;
}

static void test_steady_rate_converges(void **state)
{
	struct lb_rate_est e;
	uint64_t c[LB_RATE_COUNT], r[LB_RATE_COUNT];
	double d[LB_RATE_COUNT];

	(void)state;
	fill(c, 0, 0, 0);
	lb_rate_est_start(&e, c);
	lb_rate_est_read_ipvs(&e, r);
	assert_int_equal(r[LB_RATE_CONNS], 0);
	/* 500 conn/s, 20000 pkt/s, 12 MB/s in, every 2 s */
	for (int i = 1; i <= 60; i++) {
		fill(c, 1000u * i, 40000u * i, 24000000u * i);
		lb_rate_est_update(&e, c);
	}
	lb_rate_est_read_ipvs(&e, r);
	assert_int_equal(r[LB_RATE_CONNS], 500);
	assert_int_equal(r[LB_RATE_INPKTS], 20000);
	assert_int_equal(r[LB_RATE_OUTPKTS], 10000);
	assert_int_equal(r[LB_RATE_INBYTES], 12000000);
	assert_int_equal(r[LB_RATE_OUTBYTES], 4000000);
	lb_rate_est_read(&e, d);
	assert_true(d[LB_RATE_CONNS] > 499.9 && d[LB_RATE_CONNS] <= 500.0);
	for (int k = 0; k < LB_RATE_COUNT; k++)
		assert_int_equal(lb_rate_est_round_ipvs(d[k], (enum lb_rate_counter)k), r[k]);
}

static void test_step_response_is_one_quarter(void **state)
{
	struct lb_rate_est e;
	uint64_t c[LB_RATE_COUNT];
	double d[LB_RATE_COUNT];

	(void)state;
	fill(c, 0, 0, 0);
	lb_rate_est_start(&e, c);
	fill(c, 800, 0, 0); /* 400/s for one period */
	lb_rate_est_update(&e, c);
	lb_rate_est_read(&e, d);
	assert_true(d[LB_RATE_CONNS] == 100.0); /* a quarter of the step */
	lb_rate_est_update(&e, c); /* nothing more: decays by a quarter */
	lb_rate_est_read(&e, d);
	assert_true(d[LB_RATE_CONNS] == 75.0);
}

/* Random growths, both directions of the average: equal to the kernel's numbers throughout. */
static void test_matches_kernel_formulas(void **state)
{
	struct lb_rate_est e;
	struct kernel_est k[LB_RATE_COUNT] = {{0, 0}};
	uint64_t c[LB_RATE_COUNT] = {0}, r[LB_RATE_COUNT];

	(void)state;
	srand(7);
	lb_rate_est_start(&e, c);
	for (int i = 0; i < 5000; i++) {
		for (int j = 0; j < LB_RATE_COUNT; j++) {
			uint64_t step = (uint64_t)rand() % (i % 100 < 50 ? 100000u : 7u);
			c[j] += j >= LB_RATE_INBYTES ? step * 1500 : step;
			kernel_update(&k[j], c[j], j >= LB_RATE_INBYTES ? 4 : 9);
		}
		lb_rate_est_update(&e, c);
		lb_rate_est_read_ipvs(&e, r);
		for (int j = 0; j < LB_RATE_COUNT; j++) {
			assert_int_equal(e.avg[j], k[j].avg);
			assert_int_equal(r[j], kernel_read(&k[j], j >= LB_RATE_INBYTES));
		}
	}
}

static void test_counter_restart_and_extremes(void **state)
{
	struct lb_rate_est e;
	uint64_t c[LB_RATE_COUNT], r[LB_RATE_COUNT];

	(void)state;
	fill(c, 1000000, 1000000, 1000000);
	lb_rate_est_start(&e, c);
	fill(c, 10, 10, 10); /* went backwards: no growth, a new baseline */
	lb_rate_est_update(&e, c);
	lb_rate_est_read_ipvs(&e, r);
	assert_int_equal(r[LB_RATE_CONNS], 0);
	assert_int_equal(e.last[LB_RATE_CONNS], 10);
	fill(c, UINT64_MAX, UINT64_MAX, UINT64_MAX); /* absurd growth: clamped, no overflow */
	lb_rate_est_update(&e, c);
	lb_rate_est_read_ipvs(&e, r);
	assert_true(r[LB_RATE_CONNS] > 0);
	assert_int_equal(lb_rate_est_round_ipvs(-5.0, LB_RATE_CONNS), 0);
	assert_int_equal(lb_rate_est_round_ipvs(0.0 / 0.0, LB_RATE_INBYTES), 0);
	assert_int_equal(lb_rate_est_round_ipvs(1e300, LB_RATE_CONNS), UINT64_MAX >> 10);
	/* the kernel's rounding adds 0x1FF/1024: a half rounds down, a half and 1/1024 up */
	assert_int_equal(lb_rate_est_round_ipvs(2.5, LB_RATE_CONNS), 2);
	assert_int_equal(lb_rate_est_round_ipvs(2.5 + 1.0 / 1024, LB_RATE_CONNS), 3);
	assert_int_equal(lb_rate_est_round_ipvs(2.5, LB_RATE_INBYTES), 2);
	assert_int_equal(lb_rate_est_round_ipvs(2.5 + 1.0 / 32, LB_RATE_INBYTES), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_rate_converges),
		cmocka_unit_test(test_step_response_is_one_quarter),
		cmocka_unit_test(test_matches_kernel_formulas),
		cmocka_unit_test(test_counter_restart_and_extremes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
