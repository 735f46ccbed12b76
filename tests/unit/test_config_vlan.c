/* Unit tests for lib/config_vlan.c: ports[].vlans parsed, validated and written back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdio.h>

#include <cmocka.h>

#include "test_config_util.h"

#define PORT "{\"ports\": [{\"address\": \"10.0.0.2/24\", \"kernel_interface\": false, \"vlans\": "

/* Every bad VLAN is refused with its key path and the rule it breaks. */
static void test_vlan_errors(void **state)
{
	(void)state;
	expect_error(PORT "{}}]}", "ports[0].vlans: must be an array");
	expect_error(PORT "[{\"address\": \"10.1.0.2/24\"}]}]}", "ports[0].vlans[0].id: required");
	expect_error(PORT "[{\"id\": 0, \"address\": \"10.1.0.2/24\"}]}]}", "ports[0].vlans[0].id");
	expect_error(PORT "[{\"id\": 4095, \"address\": \"10.1.0.2/24\"}]}]}", "ports[0].vlans[0].id");
	expect_error(PORT "[{\"id\": 10}]}]}", "ports[0].vlans[0].address: required");
	expect_error(PORT "[{\"id\": 10, \"address\": \"10.1.0.2/24\", \"vid\": 3}]}]}",
		     "ports[0].vlans[0].vid");
	expect_error(PORT "[{\"id\": 10, \"address\": \"10.1.0.2/24\"}, "
		     "{\"id\": 10, \"address\": \"10.2.0.2/24\"}]}]}",
		     "ports[0].vlans[1].id: VLAN 10 is ports[0].vlans[0]'s already (duplicate id)");
	expect_error(PORT "[{\"id\": 10, \"address\": \"10.1.0.2/24\"}, "
		     "{\"id\": 11, \"address\": \"10.1.0.9/16\"}]}]}",
		     "ports[0].vlans[1].address: its subnet overlaps ports[0].vlans[0]'s");
	expect_error(PORT "[{\"id\": 10, \"address\": \"10.0.0.9/24\"}]}]}",
		     "ports[0].vlans[0].address: its subnet overlaps ports[0]'s");
	expect_error(PORT "[{\"id\": 10, \"address\": \"10.1.0.2/24\", \"mtu\": 575}]}]}",
		     "ports[0].vlans[0].mtu");
	expect_error(PORT "[{\"id\": 10, \"address\": \"10.1.0.2/24\", \"mtu\": 9000}]}]}",
		     "ports[0].vlans[0].mtu: must be 576 to the port's mtu (1500)");
	expect_error(PORT "[{\"id\": 10, \"address\": \"2001:db8:1::2/64\", \"mtu\": 1000}]}]}",
		     "ports[0].vlans[0].mtu: IPv6 needs an MTU of at least 1280");
	expect_error(PORT "[{\"id\": 10, \"address\": \"10.1.0.2/24\", \"kernel_interface\": \"a\"}, "
		     "{\"id\": 11, \"address\": \"10.2.0.2/24\", \"kernel_interface\": \"a\"}]}]}",
		     "ports[0].vlans[1].kernel_interface: \"a\" is ports[0].vlans[0]'s already");
	/* the same id on two ports is two VLANs; their subnets still must not overlap */
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"vlans\": [{\"id\": 5, "
		     "\"address\": \"10.1.0.2/24\"}]}, {\"address\": \"10.9.0.2/24\", \"vlans\": "
		     "[{\"id\": 5, \"address\": \"10.1.0.3/24\"}]}]}",
		     "ports[1].vlans[0].address: its subnet overlaps ports[0].vlans[0]'s");
	/* the default kernel interface name must fit IFNAMSIZ */
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"kernel_interface\": "
		     "\"longername123\", \"vlans\": [{\"id\": 100, \"address\": \"10.1.0.2/24\"}]}]}",
		     "ports[0].vlans[0].kernel_interface: the default \"longername123.100\"");
}

/* Defaults, the real-on-link rule through a VLAN's subnet, and the round trip. */
static void test_vlan_parse_and_round_trip(void **state)
{
	(void)state;
	struct lb_config c, again;
	char err[LB_ERR_LEN] = "";

	parse_ok("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"mtu\": 9000, \"vlans\": ["
		 "{\"id\": 10, \"address\": \"10.1.0.2/24\", \"address6\": \"2001:db8:1::2/64\"},"
		 "{\"id\": 4094, \"address\": \"2001:db8:2::2/64\", \"mtu\": 1280, "
		 "\"kernel_interface\": false}]}],"
		 "\"services\": [{\"vip\": \"10.0.0.100\", \"port\": 80, \"proto\": \"tcp\", "
		 "\"reals\": [{\"ip\": \"10.1.0.11\"}]}]}", &c);
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	assert_int_equal(c.n_vlans, 2);
	assert_int_equal(c.vlans[0].id, 10);
	assert_int_equal(c.vlans[0].port, 0);
	assert_int_equal(c.vlans[0].link.mtu, 9000); /* the port's by default */
	assert_true(c.vlans[0].link.has_address6);
	assert_string_equal(c.vlans[0].link.kernel_interface, "dlb0.10");
	assert_int_equal(c.vlans[1].link.mtu, 1280);
	assert_string_equal(c.vlans[1].link.kernel_interface, "");

	json_t *j = lb_config_to_json(&c);
	assert_int_equal(lb_config_from_json(j, &again, err, sizeof(err)), 0);
	json_t *k = lb_config_to_json(&again);
	assert_true(json_equal(j, k));
	assert_int_equal(json_array_size(json_object_get(
				 json_array_get(json_object_get(j, "ports"), 0), "vlans")), 2);
	json_decref(j);
	json_decref(k);

	struct lb_config copy;
	assert_int_equal(lb_config_clone(&c, &copy), 0);
	assert_int_equal(copy.n_vlans, 2);
	assert_int_equal(copy.vlans[1].id, 4094);
	lb_config_free(&copy);
	lb_config_free(&again);

	/* a real on no port's or VLAN's subnet is still refused, naming both */
	c.services[0].reals[0].ip.v4 = htonl(0x0a050005);
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_INVALID);
	assert_non_null(strstr(err, "ports[].vlans[].address"));
	lb_config_free(&c);
	assert_null(c.vlans);
}

/* At most LB_MAX_VLANS over all ports. */
static void test_vlan_limit(void **state)
{
	(void)state;
	char doc[8192];
	int n = snprintf(doc, sizeof(doc), PORT "[");

	for (int i = 0; i <= LB_MAX_VLANS; i++)
		n += snprintf(doc + n, sizeof(doc) - (size_t)n,
			      "%s{\"id\": %d, \"address\": \"10.1.%d.2/24\"}", i ? "," : "", i + 1, i);
	snprintf(doc + n, sizeof(doc) - (size_t)n, "]}]}");
	expect_error(doc, "at most 32 VLANs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vlan_errors),
		cmocka_unit_test(test_vlan_parse_and_round_trip),
		cmocka_unit_test(test_vlan_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
