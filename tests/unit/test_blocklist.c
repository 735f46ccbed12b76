/* lib/blocklist.c: prefixes, entries, and the validator's rules for the blocklist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blocklist.h"
#include "config.h"
#include "config_validate.h"

static struct lb_block_entry parse(const char *text)
{
	struct lb_block_entry e;
	char err[LB_ERR_LEN];

	memset(&e, 0, sizeof(e));
	if (lb_block_parse_cidr(text, &e, err, sizeof(err)) != 0)
		fail_msg("%s: %s", text, err);
	return e;
}

static void test_cidr_forms(void **state)
{
	char buf[64], err[LB_ERR_LEN];
	struct lb_block_entry e;

	(void)state;
	e = parse("10.1.2.0/24");
	assert_int_equal(e.len, 24);
	assert_string_equal(lb_block_format_cidr(&e, buf, sizeof(buf)), "10.1.2.0/24");
	e = parse("10.1.2.3");
	assert_int_equal(e.len, 32);
	e = parse("2001:db8::/32");
	assert_string_equal(lb_block_format_cidr(&e, buf, sizeof(buf)), "2001:db8::/32");
	e = parse("0.0.0.0/0");
	assert_int_equal(e.len, 0);
	assert_int_equal(lb_block_parse_cidr("10.1.2.3/24", &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "host bits set in 10.1.2.3/24: the prefix is 10.1.2.0/24"));
	assert_int_equal(lb_block_parse_cidr("2001:db8::1/64", &e, err, sizeof(err)), -1);
	assert_int_equal(lb_block_parse_cidr("10.0.0.0/33", &e, err, sizeof(err)), -1);
	assert_int_equal(lb_block_parse_cidr("nonsense", &e, err, sizeof(err)), -1);
	assert_int_equal(lb_block_parse_cidr(NULL, &e, err, sizeof(err)), -1);
}

static void test_mask_and_cover(void **state)
{
	struct lb_block_entry e = parse("10.1.0.0/17");
	struct lb_addr a;

	(void)state;
	assert_int_equal(lb_addr_parse("10.1.127.255", &a), 0);
	assert_true(lb_block_covers(&e, &a));
	assert_int_equal(lb_addr_parse("10.1.128.0", &a), 0);
	assert_false(lb_block_covers(&e, &a));
	lb_addr_mask_prefix(&a, 9);
	assert_int_equal(lb_addr_parse("10.0.0.0", &e.prefix), 0);
	assert_true(lb_addr_equal(&a, &e.prefix));
	assert_int_equal(lb_addr_parse("2001:db8:ffff::1", &a), 0);
	lb_addr_mask_prefix(&a, 36);
	assert_int_equal(lb_addr_parse("2001:db8:f000::", &e.prefix), 0);
	assert_true(lb_addr_equal(&a, &e.prefix));
	e = parse("2001:db8::/32");
	assert_false(lb_block_covers(&e, &(struct lb_addr){.family = AF_INET}));
}

static void test_entry_json_round_trip(void **state)
{
	json_t *in = json_loads("{\"cidr\": \"192.0.2.0/24\", \"expires\": 5, \"added\": 1,"
				" \"reason\": \"flood\"}", 0, NULL);
	struct lb_block_entry e;
	char err[LB_ERR_LEN];

	(void)state;
	assert_int_equal(lb_block_entry_from_json(in, "blocklist[0]", &e, err, sizeof(err)), 0);
	assert_int_equal(e.expires, 5);
	assert_string_equal(e.reason, "flood");
	json_t *out = lb_block_entry_to_json(&e);
	assert_true(json_equal(in, out));
	json_decref(out);
	json_object_set_new(in, "bogus", json_true());
	assert_int_equal(lb_block_entry_from_json(in, "blocklist[0]", &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bogus"));
	json_object_del(in, "bogus");
	json_object_set_new(in, "expires", json_integer(-1));
	assert_int_equal(lb_block_entry_from_json(in, "blocklist[0]", &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "blocklist[0].expires"));
	json_object_set_new(in, "expires", json_integer(0));
	json_object_set_new(in, "cidr", json_string("192.0.2.1/24"));
	assert_int_equal(lb_block_entry_from_json(in, "blocklist[0]", &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "blocklist[0].cidr: host bits"));
	json_decref(in);
}

static void test_validator_rules(void **state)
{
	struct lb_config c;
	char err[LB_ERR_LEN];
	json_t *doc = json_loads("{\"dataplane\": {\"blocklist_capacity\": 2}, \"blocklist\": ["
				 "{\"cidr\": \"10.0.0.0/8\"}, {\"cidr\": \"10.0.0.0/16\"}]}", 0, NULL);

	(void)state;
	assert_int_equal(lb_config_from_json(doc, &c, err, sizeof(err)), 0);
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	/* a third entry: over capacity */
	c.block = realloc(c.block, 3 * sizeof(*c.block));
	c.block[2] = parse("10.0.0.0/8");
	c.n_block = 3;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_OVER_CAPACITY);
	assert_non_null(strstr(err, "dataplane.blocklist_capacity (2)"));
	/* within capacity, but a duplicate: the later index is named */
	c.blocklist_capacity = 3;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_INVALID);
	assert_non_null(strstr(err, "blocklist[2].cidr: 10.0.0.0/8 is in the blocklist already"));
	/* an incremental candidate whose blocklist was not edited skips the rules */
	c.incremental = true;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	c.block_changed = true;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_INVALID);
	lb_config_free(&c);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_forms),
		cmocka_unit_test(test_mask_and_cover),
		cmocka_unit_test(test_entry_json_round_trip),
		cmocka_unit_test(test_validator_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
