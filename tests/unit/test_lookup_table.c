/* Unit tests for lib/lookup_table: insert/find, duplicates, capacity, key lengths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lookup_table.h"

/* A 12-byte key like a service key (address, port, protocol). */
struct test_key {
	uint32_t addr;
	uint16_t port;
	uint8_t proto;
	uint8_t pad[5];
};

static struct test_key make_key(uint32_t n)
{
	struct test_key k;

	memset(&k, 0, sizeof(k));
	k.addr = 0x0a000000u + n;
	k.port = (uint16_t)(80 + (n % 7));
	k.proto = 6;
	return k;
}

static void test_insert_find(void **state)
{
	struct lookup_table t;

	(void)state;
	assert_int_equal(lookup_table_init(&t, 100, sizeof(struct test_key)), 0);
	for (uint32_t i = 0; i < 100; i++) {
		struct test_key k = make_key(i);
		assert_int_equal(lookup_table_insert(&t, &k, i * 3), 0);
	}
	assert_int_equal(t.count, 100);
	for (uint32_t i = 0; i < 100; i++) {
		struct test_key k = make_key(i);
		assert_int_equal(lookup_table_find(&t, &k), (int64_t)i * 3);
	}
	lookup_table_free(&t);
	assert_null(t.slots);
}

static void test_value_zero_and_large(void **state)
{
	struct lookup_table t;
	struct test_key a = make_key(1), b = make_key(2);

	(void)state;
	assert_int_equal(lookup_table_init(&t, 4, sizeof(struct test_key)), 0);
	/* 0 is a value, not "empty" */
	assert_int_equal(lookup_table_insert(&t, &a, 0), 0);
	assert_int_equal(lookup_table_find(&t, &a), 0);
	assert_int_equal(lookup_table_insert(&t, &b, UINT32_MAX - 1), 0);
	assert_int_equal(lookup_table_find(&t, &b), (int64_t)UINT32_MAX - 1);
	/* UINT32_MAX cannot be stored (value + 1 would wrap to "empty") */
	struct test_key c = make_key(3);
	assert_int_equal(lookup_table_insert(&t, &c, UINT32_MAX), -EINVAL);
	assert_int_equal(lookup_table_find(&t, &c), -1);
	lookup_table_free(&t);
}

static void test_duplicate(void **state)
{
	struct lookup_table t;
	struct test_key k = make_key(42);

	(void)state;
	assert_int_equal(lookup_table_init(&t, 8, sizeof(k)), 0);
	assert_int_equal(lookup_table_insert(&t, &k, 7), 0);
	assert_int_equal(lookup_table_insert(&t, &k, 8), -EEXIST);
	/* the first value stays */
	assert_int_equal(lookup_table_find(&t, &k), 7);
	assert_int_equal(t.count, 1);
	lookup_table_free(&t);
}

static void test_absent(void **state)
{
	struct lookup_table t;
	struct test_key k = make_key(1), other = make_key(2);

	(void)state;
	assert_int_equal(lookup_table_init(&t, 8, sizeof(k)), 0);
	assert_int_equal(lookup_table_find(&t, &k), -1); /* empty table */
	assert_int_equal(lookup_table_insert(&t, &k, 1), 0);
	assert_int_equal(lookup_table_find(&t, &other), -1);
	/* keys that differ in the last byte only */
	struct test_key last = k;
	last.pad[4] = 1;
	assert_int_equal(lookup_table_find(&t, &last), -1);
	lookup_table_free(&t);

	/* a freed or never-initialised table finds nothing and refuses inserts */
	assert_int_equal(lookup_table_find(&t, &k), -1);
	assert_int_equal(lookup_table_insert(&t, &k, 1), -EINVAL);
}

static void test_fill_to_capacity(void **state)
{
	struct lookup_table t;
	uint32_t inserted = 0;
	int rc = 0;

	(void)state;
	/* expected 4 gives the minimum 16 slots; insert far more than that */
	assert_int_equal(lookup_table_init(&t, 4, sizeof(struct test_key)), 0);
	uint32_t slots = t.mask + 1;
	for (uint32_t i = 0; i < 10 * slots; i++) {
		struct test_key k = make_key(i);
		rc = lookup_table_insert(&t, &k, i);
		if (rc != 0)
			break;
		inserted++;
	}
	assert_int_equal(rc, -ENOSPC);
	assert_true(inserted >= 4);
	assert_true(inserted < slots); /* one slot stays empty */
	/* further inserts keep failing and do not change the count */
	struct test_key extra = make_key(1000000);
	assert_int_equal(lookup_table_insert(&t, &extra, 1), -ENOSPC);
	assert_int_equal(t.count, inserted);
	/* everything inserted is found */
	for (uint32_t i = 0; i < inserted; i++) {
		struct test_key k = make_key(i);
		assert_int_equal(lookup_table_find(&t, &k), i);
	}
	/* lookups of absent keys in a full table terminate and miss */
	for (uint32_t i = 0; i < 1000; i++) {
		struct test_key k = make_key(500000 + i);
		assert_int_equal(lookup_table_find(&t, &k), -1);
	}
	lookup_table_free(&t);
}

static void test_expected_capacity_fits(void **state)
{
	struct lookup_table t;

	(void)state;
	/* `expected` keys always fit */
	for (uint32_t expected = 1; expected <= 300; expected += 37) {
		assert_int_equal(lookup_table_init(&t, expected, 4), 0);
		assert_true(t.mask + 1 >= 2 * expected);
		for (uint32_t i = 0; i < expected; i++)
			assert_int_equal(lookup_table_insert(&t, &i, i), 0);
		for (uint32_t i = 0; i < expected; i++)
			assert_int_equal(lookup_table_find(&t, &i), i);
		lookup_table_free(&t);
	}
}

static void test_key_len_bounds(void **state)
{
	struct lookup_table t;
	uint8_t key[LOOKUP_TABLE_KEY_MAX];

	(void)state;
	assert_int_equal(lookup_table_init(&t, 8, 0), -EINVAL);
	assert_null(t.slots);
	assert_int_equal(lookup_table_init(&t, 8, LOOKUP_TABLE_KEY_MAX + 1), -EINVAL);
	assert_null(t.slots);

	assert_int_equal(lookup_table_init(&t, 8, 1), 0);
	for (unsigned int i = 0; i < 8; i++) {
		key[0] = (uint8_t)i;
		assert_int_equal(lookup_table_insert(&t, key, i + 10), 0);
	}
	key[0] = 3;
	assert_int_equal(lookup_table_find(&t, key), 13);
	lookup_table_free(&t);

	/* only key_len bytes count: bytes after them do not change the key */
	assert_int_equal(lookup_table_init(&t, 8, LOOKUP_TABLE_KEY_MAX), 0);
	memset(key, 0x11, sizeof(key));
	assert_int_equal(lookup_table_insert(&t, key, 5), 0);
	assert_int_equal(lookup_table_find(&t, key), 5);
	key[LOOKUP_TABLE_KEY_MAX - 1] = 0x12;
	assert_int_equal(lookup_table_find(&t, key), -1);
	lookup_table_free(&t);

	uint8_t short_key[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(lookup_table_init(&t, 8, 4), 0);
	assert_int_equal(lookup_table_insert(&t, short_key, 9), 0);
	short_key[5] = 0xee;
	assert_int_equal(lookup_table_find(&t, short_key), 9);
	assert_int_equal(lookup_table_insert(&t, short_key, 10), -EEXIST);
	lookup_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_find),
		cmocka_unit_test(test_value_zero_and_large),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_fill_to_capacity),
		cmocka_unit_test(test_expected_capacity_fits),
		cmocka_unit_test(test_key_len_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
