/* lib/ha_conn_record.h: the pair check and the CONN_BATCH batcher of connection sync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ha_conn_record.h"

static struct ha_advert advert(uint16_t workers, uint16_t min, uint16_t max)
{
	return (struct ha_advert){.priority = 100, .state = HA_STATE_MASTER, .interval_ms = 1000,
				  .workers = workers, .fnat_port_min = min, .fnat_port_max = max};
}

static void test_pair_check(void **state)
{
	char why[128];
	struct ha_advert a = advert(2, 1024, 65535);

	(void)state;
	strcpy(why, "junk");
	assert_true(ha_pair_compatible(2, 1024, 65535, &a, why, sizeof(why)));
	assert_string_equal(why, "");
	assert_false(ha_pair_compatible(1, 1024, 65535, &a, why, sizeof(why)));
	assert_non_null(strstr(why, "workers 1 here, 2 on peer"));
	a = advert(2, 2048, 65535);
	assert_false(ha_pair_compatible(2, 1024, 65535, &a, why, sizeof(why)));
	assert_non_null(strstr(why, "fnat local ports 1024-65535 here, 2048-65535 on peer"));
	a = advert(2, 1024, 60000);
	assert_false(ha_pair_compatible(2, 1024, 65535, &a, why, sizeof(why)));
	/* a zero-length buffer is never written */
	assert_false(ha_pair_compatible(2, 1024, 65535, &a, NULL, 0));
}

static void test_batcher_fills_to_capacity(void **state)
{
	struct ha_batcher b;
	struct ha_conn_record r = {.kind = HA_REC_CONN, .event = HA_EV_CREATED};

	(void)state;
	ha_batcher_init(&b, HA_WIRE_MSG_DEFAULT, HA_WIRE_F_FULL_SYNC);
	assert_int_equal(b.capacity, 12); /* docs/ha.md: a 1400-byte message carries 12 records */
	assert_int_equal(b.msg.type, HA_MSG_CONN_BATCH);
	assert_int_equal(b.msg.flags, HA_WIRE_F_FULL_SYNC);
	for (int i = 0; i < 11; i++) {
		r.client_sport = (uint16_t)i;
		assert_false(ha_batcher_add(&b, &r, 1000 + (uint64_t)i));
	}
	r.client_sport = 11;
	assert_true(ha_batcher_add(&b, &r, 2000));
	assert_int_equal(b.msg.batch.count, 12);
	for (int i = 0; i < 12; i++)
		assert_int_equal(b.msg.batch.rec[i].client_sport, i);
	ha_batcher_reset(&b);
	assert_int_equal(b.msg.batch.count, 0);
	/* the largest messages carry HA_WIRE_MAX_RECORDS; a silly size still carries one */
	ha_batcher_init(&b, 100000, 0);
	assert_int_equal(b.capacity, HA_WIRE_MAX_RECORDS);
	ha_batcher_init(&b, 10, 0);
	assert_int_equal(b.capacity, 1);
}

static void test_batcher_due_by_oldest(void **state)
{
	struct ha_batcher b;
	struct ha_conn_record r = {.kind = HA_REC_CONN};

	(void)state;
	ha_batcher_init(&b, HA_WIRE_MSG_DEFAULT, 0);
	assert_false(ha_batcher_due(&b, 1000000000, 0)); /* nothing waits: never due */
	ha_batcher_add(&b, &r, 100);
	ha_batcher_add(&b, &r, 4000); /* the oldest record sets the clock */
	assert_false(ha_batcher_due(&b, 5099, 5000));
	assert_true(ha_batcher_due(&b, 5100, 5000));
	ha_batcher_reset(&b);
	assert_false(ha_batcher_due(&b, 1000000, 5000));
	ha_batcher_add(&b, &r, 900000);
	assert_false(ha_batcher_due(&b, 904999, 5000));
}

static void test_fnat_port_owner(void **state)
{
	(void)state;
	assert_int_equal(ha_fnat_port_owner(2, 1024, 65535, 1024), 0);
	assert_int_equal(ha_fnat_port_owner(2, 1024, 65535, 1025), 1);
	assert_int_equal(ha_fnat_port_owner(3, 1024, 65535, 1030), 0);
	assert_int_equal(ha_fnat_port_owner(3, 1024, 65535, 65535), (65535 - 1024) % 3);
	assert_int_equal(ha_fnat_port_owner(2, 1024, 65535, 1023), -1);
	assert_int_equal(ha_fnat_port_owner(2, 1024, 2000, 2001), -1);
	assert_int_equal(ha_fnat_port_owner(0, 1024, 2000, 1500), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_check),
		cmocka_unit_test(test_batcher_fills_to_capacity),
		cmocka_unit_test(test_batcher_due_by_oldest),
		cmocka_unit_test(test_fnat_port_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
