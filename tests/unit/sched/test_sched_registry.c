/* The scheduler table: every IPVS scheduler is there, with the load flag where it reads load. */
#include "sched_test.h"

static void test_registry_lists_every_ipvs_scheduler(void **unused)
{
	static const char *const all[] = {"rr",  "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
					  "sh",  "sed", "nq", "fo",  "ovf",  "mh",    "twos"};
	(void)unused;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const struct sched_ops *ops = sched_find(all[i]);
		assert_non_null(ops);
		assert_string_equal(ops->name, all[i]);
		assert_non_null(ops->schedule);
		/* init and release come in pairs: whatever init builds, release frees */
		assert_true((ops->init == NULL) == (ops->release == NULL));
	}
	assert_string_equal(sched_names(), "rr,wrr,lc,wlc,lblc,lblcr,dh,sh,sed,nq,fo,ovf,mh,twos");
	assert_null(sched_find("nope"));
	assert_null(sched_find(NULL));
	assert_null(sched_find(""));
}

static void test_registry_load_flag(void **unused)
{
	static const char *const with_load[] = {"lc", "wlc", "lblc", "lblcr", "sed", "nq", "ovf",
						"twos"};
	static const char *const without_load[] = {"rr", "wrr", "dh", "sh", "fo", "mh"};
	(void)unused;

	for (size_t i = 0; i < sizeof(with_load) / sizeof(with_load[0]); i++)
		assert_true(sched_find(with_load[i])->ops_flags & SCHED_OPS_NEEDS_LOAD);
	for (size_t i = 0; i < sizeof(without_load) / sizeof(without_load[0]); i++)
		assert_false(sched_find(without_load[i])->ops_flags & SCHED_OPS_NEEDS_LOAD);
}

static void test_registry_state_sizes(void **unused)
{
	(void)unused;
	/* The dataplane reserves these per service per worker lcore (rounded up to 8 bytes). */
	print_message("lcore_state_size: rr %zu, wrr %zu, lblc %zu, lblcr %zu\n",
		      sched_find("rr")->lcore_state_size, sched_find("wrr")->lcore_state_size,
		      sched_find("lblc")->lcore_state_size, sched_find("lblcr")->lcore_state_size);
	assert_true(sched_find("lblc")->lcore_state_size <= 32 * 1024 + 64);
	assert_true(sched_find("lblcr")->lcore_state_size <= 64 * 1024 + 64);
	assert_int_equal(sched_find("wlc")->lcore_state_size, 0);
	assert_int_equal(sched_find("mh")->lcore_state_size, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_lists_every_ipvs_scheduler),
		cmocka_unit_test(test_registry_load_flag),
		cmocka_unit_test(test_registry_state_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
