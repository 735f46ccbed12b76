/* Unit tests for lib/config_bond.c: ports[].bond, parsed, written back and validated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_config_util.h"

#define PORT(bond) "{\"ports\": [{\"address\": \"10.0.0.2/24\", \"bond\": " bond "}]}"

static void test_bond_defaults_and_round_trip(void **state)
{
	struct lb_config c, again;
	(void)state;
	parse_ok(PORT("{\"members\": [\"net_tap0\", \"net_tap_m1,iface=m1\"]}"), &c);
	const struct lb_bond_cfg *b = &c.ports[0].bond;
	assert_true(b->enabled);
	assert_int_equal(b->mode, LB_BOND_ACTIVE_BACKUP);
	assert_int_equal(b->n_members, 2);
	assert_int_equal(b->primary, 0); /* the first member when not given */
	assert_string_equal(b->members[1], "net_tap_m1,iface=m1");
	assert_int_equal(lb_config_validate(&c, NULL, 0), LB_VALID);
	/* what config.save writes reads back the same */
	json_t *j = lb_config_to_json(&c);
	json_t *bj = json_object_get(json_array_get(json_object_get(j, "ports"), 0), "bond");
	assert_string_equal(json_string_value(json_object_get(bj, "mode")), "active-backup");
	assert_string_equal(json_string_value(json_object_get(bj, "primary")), "net_tap0");
	char err[LB_ERR_LEN] = "";
	assert_int_equal(lb_config_from_json(j, &again, err, sizeof(err)), 0);
	assert_memory_equal(&again.ports[0].bond, b, sizeof(*b));
	json_decref(j);
	lb_config_free(&again);
	lb_config_free(&c);
}

static void test_bond_primary_by_device_name_and_8023ad(void **state)
{
	struct lb_config c;
	(void)state;
	parse_ok(PORT("{\"mode\": \"active-backup\", \"members\": [\"net_tap_m0,iface=m0\", "
		      "\"net_tap_m1,iface=m1\"], \"primary\": \"net_tap_m1\"}"), &c);
	assert_int_equal(c.ports[0].bond.primary, 1);
	lb_config_free(&c);
	parse_ok(PORT("{\"mode\": \"802.3ad\", \"members\": [\"0000:3b:00.0\", \"0000:3b:00.1\"], "
		      "\"xmit_policy\": \"layer3+4\"}"), &c);
	assert_int_equal(c.ports[0].bond.mode, LB_BOND_8023AD);
	assert_int_equal(c.ports[0].bond.xmit_policy, LB_BOND_XMIT_LAYER34);
	json_t *bj = lb_bond_cfg_to_json(&c.ports[0].bond);
	assert_string_equal(json_string_value(json_object_get(bj, "xmit_policy")), "layer3+4");
	assert_null(json_object_get(bj, "primary"));
	json_decref(bj);
	lb_config_free(&c);
	/* no bond: the port is a plain DPDK port and the file shows no bond */
	parse_ok("{\"ports\": [{\"address\": \"10.0.0.2/24\"}]}", &c);
	assert_false(c.ports[0].bond.enabled);
	json_t *j = lb_config_to_json(&c);
	assert_null(json_object_get(json_array_get(json_object_get(j, "ports"), 0), "bond"));
	json_decref(j);
	lb_config_free(&c);
}

/* Every bad value is refused naming its key path and the rule. */
static void test_bond_errors(void **state)
{
	(void)state;
	expect_error(PORT("[\"net_tap0\"]"), "ports[0].bond: must be an object");
	expect_error(PORT("{}"), "ports[0].bond.members: required");
	expect_error(PORT("{\"members\": []}"), "ports[0].bond.members: required");
	expect_error(PORT("{\"members\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", "
			  "\"i\"]}"), "array of 1-8");
	expect_error(PORT("{\"members\": [\"net tap\"]}"), "ports[0].bond.members[0]");
	expect_error(PORT("{\"members\": [5]}"), "ports[0].bond.members[0]");
	expect_error(PORT("{\"members\": [\",iface=x\"]}"), "ports[0].bond.members[0]");
	expect_error(PORT("{\"members\": [\"a\"], \"mode\": \"balance-rr\"}"),
		     "ports[0].bond.mode: must be \"active-backup\" or \"802.3ad\"");
	expect_error(PORT("{\"members\": [\"a\", \"b\"], \"primary\": \"c\"}"),
		     "ports[0].bond.primary: must name one of");
	expect_error(PORT("{\"members\": [\"a\", \"b\"], \"mode\": \"802.3ad\", \"primary\": \"a\"}"),
		     "ports[0].bond.primary: only with mode \"active-backup\"");
	expect_error(PORT("{\"members\": [\"a\", \"b\"], \"xmit_policy\": \"layer2\"}"),
		     "ports[0].bond.xmit_policy: only with mode \"802.3ad\"");
	expect_error(PORT("{\"members\": [\"a\"], \"mode\": \"802.3ad\", \"xmit_policy\": \"l4\"}"),
		     "ports[0].bond.xmit_policy: must be");
	expect_error(PORT("{\"members\": [\"a\"], \"lacp_rate\": \"fast\"}"),
		     "ports[0].bond.lacp_rate");
	/* one device in a bond once, and in one bond only (by its name, whatever its devargs) */
	expect_error(PORT("{\"members\": [\"net_tap0\", \"net_tap0,iface=x\"]}"),
		     "ports[0].bond.members[1]: device \"net_tap0\" is members[0] already");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"bond\": {\"members\": [\"a\"]}},"
		     " {\"address\": \"10.0.1.2/24\", \"bond\": {\"members\": [\"b\", \"a\"]}}]}",
		     "ports[1].bond.members[1]: device \"a\" is a member of ports[0]'s bond already");
}

/* The validator holds the rules for a configuration that did not come from the parser. */
static void test_bond_validator_rules(void **state)
{
	struct lb_config c;
	char err[LB_ERR_LEN] = "";
	(void)state;
	parse_ok(PORT("{\"members\": [\"a\", \"b\"]}"), &c);
	c.ports[0].bond.primary = 2;
	assert_int_not_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	assert_non_null(strstr(err, "ports[0].bond.primary"));
	c.ports[0].bond.primary = 0;
	c.ports[0].bond.mode = 2;
	assert_int_not_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	assert_non_null(strstr(err, "ports[0].bond.mode"));
	c.ports[0].bond.mode = LB_BOND_ACTIVE_BACKUP;
	c.ports[0].bond.n_members = 0;
	assert_int_not_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	assert_non_null(strstr(err, "ports[0].bond.members"));
	lb_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bond_defaults_and_round_trip),
		cmocka_unit_test(test_bond_primary_by_device_name_and_8023ad),
		cmocka_unit_test(test_bond_errors),
		cmocka_unit_test(test_bond_validator_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
