/* The one configuration validator: every dataplane-safety rule, each refused with its key path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_validate.h"

/* One port 10.0.0.2/24 + 2001:db8::2/64, then the services given. */
#define DOC(services)                                                                              \
	"{\"ports\": [{\"address\": \"10.0.0.2/24\", \"address6\": \"2001:db8::2/64\"}],"        \
	" \"neighbours\": {\"static\": [{\"ip\": \"192.168.7.7\", \"mac\": \"02:00:00:00:00:07\"}]}," \
	" \"dataplane\": {\"max_services\": 4, \"max_reals\": 6}, \"services\": [" services "]}"

#define SVC_UDP "\"vip\": \"10.0.0.100\", \"port\": 53, \"proto\": \"udp\""
#define SVC_TCP "\"vip\": \"10.0.0.100\", \"port\": 80, \"proto\": \"tcp\""

/* Parses text (which must parse) and returns the validator's verdict, err filled. */
static int validate_text(const char *text, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	struct lb_config c;

	if (root == NULL)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	if (lb_config_from_json(root, &c, err, errlen) != 0)
		fail_msg("config did not parse: %s", err);
	json_decref(root);
	int rc = lb_config_validate(&c, err, errlen);
	lb_config_free(&c);
	return rc;
}

static void expect_valid(const char *text)
{
	char err[LB_ERR_LEN] = "";

	if (validate_text(text, err, sizeof(err)) != LB_VALID)
		fail_msg("refused: %s\n%s", err, text);
}

static void expect_refused(const char *text, int code, const char *path, const char *rule)
{
	char err[LB_ERR_LEN] = "";
	int rc = validate_text(text, err, sizeof(err));

	if (rc == LB_VALID)
		fail_msg("accepted, expected \"%s\": %s", path, text);
	assert_int_equal(rc, code);
	if (strstr(err, path) == NULL || strstr(err, rule) == NULL)
		fail_msg("error \"%s\" does not name \"%s\" and \"%s\"", err, path, rule);
}

static void test_valid_configs(void **state)
{
	(void)state;
	expect_valid(DOC(""));
	expect_valid(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"10.0.0.11\"}, {\"ip\": \"10.0.0.12\", "
			 "\"forward\": \"tun\"}]}"));
	expect_valid(DOC("{" SVC_UDP ", \"ops\": true, \"reals\": [{\"ip\": \"10.0.0.11\"}]}"));
	expect_valid(DOC("{" SVC_TCP ", \"forward\": \"fnat\", \"local_addresses\": [\"10.0.0.3\"], "
			 "\"reals\": [{\"ip\": \"10.0.0.11\", \"port\": 8080}]}"));
	/* a static neighbour makes an off-subnet real reachable */
	expect_valid(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"192.168.7.7\"}]}"));
	expect_valid(DOC("{\"vip\": \"2001:db8::100\", \"port\": 80, \"proto\": \"tcp\", "
			 "\"reals\": [{\"ip\": \"2001:db8::11\"}]}"));
}

/* syn_proxy: TCP services forwarding by nat or fnat only, every real and the fallback too. */
static void test_syn_proxy_needs_nat_or_fnat(void **state)
{
	(void)state;
	expect_valid(DOC("{" SVC_TCP ", \"forward\": \"nat\", \"syn_proxy\": true, "
			 "\"reals\": [{\"ip\": \"10.0.0.11\"}]}"));
	expect_valid(DOC("{" SVC_TCP ", \"forward\": \"fnat\", \"syn_proxy\": true, "
			 "\"local_addresses\": [\"10.0.0.3\"], \"reals\": [{\"ip\": \"10.0.0.11\"}]}"));
	expect_refused(DOC("{" SVC_TCP ", \"syn_proxy\": true, \"reals\": [{\"ip\": \"10.0.0.11\"}]}"),
		       LB_INVALID, "services[0].syn_proxy", "nat or fnat");
	expect_refused(DOC("{" SVC_TCP ", \"forward\": \"tun\", \"syn_proxy\": true}"), LB_INVALID,
		       "services[0].syn_proxy", "nat or fnat");
	expect_refused(DOC("{" SVC_UDP ", \"forward\": \"nat\", \"syn_proxy\": true}"), LB_INVALID,
		       "services[0].syn_proxy", "TCP services only");
	expect_refused(DOC("{" SVC_TCP ", \"forward\": \"nat\", \"syn_proxy\": true, "
			   "\"reals\": [{\"ip\": \"10.0.0.11\", \"forward\": \"dr\"}]}"),
		       LB_INVALID, "services[0].reals[0].forward", "syn_proxy");
}

/* The crash reproducer of issue 9: an fnat or nat real in an ops service. */
static void test_ops_needs_dr_or_tun(void **state)
{
	(void)state;
	expect_refused(DOC("{" SVC_UDP ", \"ops\": true, \"local_addresses\": [\"10.0.0.3\"], "
			   "\"reals\": [{\"ip\": \"10.0.0.11\", \"forward\": \"fnat\"}]}"),
		       LB_INVALID, "services[0].reals[0].forward", "one-packet scheduling");
	expect_refused(DOC("{" SVC_UDP ", \"ops\": true, \"reals\": [{\"ip\": \"10.0.0.11\", "
			   "\"forward\": \"nat\"}]}"),
		       LB_INVALID, "services[0].reals[0].forward", "one-packet scheduling");
	expect_refused(DOC("{" SVC_UDP ", \"ops\": true, \"fallback\": {\"ip\": \"10.0.0.11\", "
			   "\"forward\": \"nat\"}}"),
		       LB_INVALID, "services[0].fallback.forward", "one-packet scheduling");
	expect_refused(DOC("{" SVC_TCP ", \"ops\": true}"), LB_INVALID, "services[0].ops", "UDP");
}

static void test_fnat_needs_local_addresses(void **state)
{
	(void)state;
	expect_refused(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"10.0.0.11\", \"forward\": \"fnat\"}]}"),
		       LB_INVALID, "services[0].reals[0].forward", "local_addresses");
	expect_refused(DOC("{" SVC_TCP ", \"forward\": \"fnat\"}"), LB_INVALID,
		       "services[0].local_addresses", "at least one");
	expect_refused(DOC("{" SVC_TCP ", \"forward\": \"fnat\", \"local_addresses\": "
			   "[\"2001:db8::3\"]}"),
		       LB_INVALID, "services[0].local_addresses[0]", "family");
	expect_refused(DOC("{" SVC_TCP ", \"forward\": \"fnat\", \"local_addresses\": "
			   "[\"10.0.0.3\", \"10.0.0.3\"]}"),
		       LB_INVALID, "services[0].local_addresses[1]", "duplicate");
}

static void test_real_rules(void **state)
{
	(void)state;
	expect_refused(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"10.0.0.11\", \"port\": 81}]}"),
		       LB_INVALID, "services[0].reals[0].port", "direct routing cannot change the port");
	expect_refused(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"2001:db8::11\"}]}"), LB_INVALID,
		       "services[0].reals[0].ip", "family");
	expect_refused(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"172.16.0.1\"}]}"), LB_INVALID,
		       "services[0].reals[0].ip", "on-link");
	expect_refused(DOC("{" SVC_TCP ", \"fallback\": {\"ip\": \"172.16.0.1\"}}"), LB_INVALID,
		       "services[0].fallback.ip", "on-link");
	expect_refused(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"10.0.0.11\", \"u_threshold\": 5, "
			   "\"l_threshold\": 5}]}"),
		       LB_INVALID, "services[0].reals[0].l_threshold", "below u_threshold");
	expect_refused(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"10.0.0.11\", \"l_threshold\": 5}]}"),
		       LB_INVALID, "services[0].reals[0].l_threshold", "upper threshold");
	expect_refused(DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"10.0.0.11\"}, {\"ip\": \"10.0.0.11\"}]}"),
		       LB_INVALID, "services[0].reals[1]", "duplicate");
}

static void test_service_rules(void **state)
{
	(void)state;
	expect_refused(DOC("{" SVC_TCP ", \"scheduler\": \"nope\"}"), LB_INVALID,
		       "services[0].scheduler", "unknown scheduler");
	expect_refused(DOC("{" SVC_TCP ", \"scheduler\": \"rr\", \"sched_flags\": [\"port\"]}"),
		       LB_INVALID, "services[0].sched_flags", "sh, dh and mh");
	expect_refused(DOC("{" SVC_UDP ", \"client_address\": \"toa\"}"), LB_INVALID,
		       "services[0].client_address", "TCP");
	expect_refused(DOC("{" SVC_TCP ", \"scheduler\": \"mh\", \"mh_table_size\": 4096}"),
		       LB_INVALID, "services[0].mh_table_size", "prime");
	expect_refused(DOC("{" SVC_TCP "}, {" SVC_TCP "}"), LB_INVALID, "services[1]",
		       "duplicate of services[0]");
	/* the message names the service by its key too, for RPC users */
	expect_refused(DOC("{" SVC_TCP ", \"scheduler\": \"nope\"}"), LB_INVALID, "services[0]",
		       "service tcp 10.0.0.100 port 80");
}

static void test_capacities(void **state)
{
	(void)state;
	expect_refused(DOC("{" SVC_TCP "}, {\"vip\": \"10.0.0.101\", \"port\": 80, \"proto\": \"tcp\"}, "
			   "{\"vip\": \"10.0.0.102\", \"port\": 80, \"proto\": \"tcp\"}, "
			   "{\"vip\": \"10.0.0.103\", \"port\": 80, \"proto\": \"tcp\"}, "
			   "{\"vip\": \"10.0.0.104\", \"port\": 80, \"proto\": \"tcp\"}"),
		       LB_OVER_CAPACITY, "services", "dataplane.max_services");
	/* 6 reals plus a fallback: 7 destinations for max_reals 6 */
	expect_refused(DOC("{" SVC_TCP ", \"fallback\": {\"ip\": \"10.0.0.20\"}, \"reals\": ["
			   "{\"ip\": \"10.0.0.11\"}, {\"ip\": \"10.0.0.12\"}, {\"ip\": \"10.0.0.13\"}, "
			   "{\"ip\": \"10.0.0.14\"}, {\"ip\": \"10.0.0.15\"}, {\"ip\": \"10.0.0.16\"}]}"),
		       LB_OVER_CAPACITY, "services", "dataplane.max_reals");
}

/* Values a peer or a bug could put in the struct without the parser: still refused. */
static void test_struct_level_rules(void **state)
{
	char err[LB_ERR_LEN];
	struct lb_config c;

	(void)state;
	lb_config_init_defaults(&c);
	c.fnat_port_min = 2000;
	c.fnat_port_max = 1000;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_INVALID);
	assert_non_null(strstr(err, "fnat_port_min"));
	lb_config_free(&c);
	lb_config_init_defaults(&c);
	c.half_open_pressure_percent = 0;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_INVALID);
	assert_non_null(strstr(err, "dataplane.half_open_pressure_percent: must be 1-100"));
	c.half_open_pressure_percent = 100;
	c.half_open_pressure_timeout_s = 0;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_INVALID);
	assert_non_null(strstr(err, "dataplane.half_open_pressure_timeout_s"));
	c.half_open_pressure_timeout_s = 1;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	lb_config_free(&c);
}

/* An RPC candidate: only the services its edits marked are checked (the rest were valid). */
static void test_incremental_checks_changed_services(void **state)
{
	const char *text = DOC("{" SVC_TCP ", \"reals\": [{\"ip\": \"10.0.0.11\"}]}, "
			       "{\"vip\": \"10.0.0.101\", \"port\": 80, \"proto\": \"tcp\"}");
	json_t *root = json_loads(text, 0, NULL);
	char err[LB_ERR_LEN];
	struct lb_config c;

	(void)state;
	assert_non_null(root);
	assert_int_equal(lb_config_from_json(root, &c, err, sizeof(err)), 0);
	json_decref(root);
	c.incremental = true;
	/* an unchanged service is not looked at ... */
	c.services[0].reals[0].forward = LB_FWD_FNAT;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	/* ... a changed one is, with its path */
	c.services[0].changed = true;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_INVALID);
	assert_non_null(strstr(err, "services[0].reals[0].forward"));
	c.services[0].reals[0].forward = LB_FWD_DR;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_VALID);
	/* a changed key colliding with an unchanged service */
	c.services[1].vip = c.services[0].vip;
	c.services[0].changed = false;
	c.services[1].changed = true;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_INVALID);
	assert_non_null(strstr(err, "services[1]: duplicate of services[0]"));
	/* global rules always hold: capacities count every service */
	c.services[1].vip.v4 ^= 0x01000000u;
	c.max_services = 1;
	assert_int_equal(lb_config_validate(&c, err, sizeof(err)), LB_OVER_CAPACITY);
	lb_config_free(&c);
}


/* A local fallback (holding page): TCP, one port, IPv4, a kernel interface. */
static void test_local_fallback_rules(void **state)
{
	(void)state;
	expect_valid(DOC("{" SVC_TCP ", \"fallback\": {\"local\": true, \"page\": \"<p>x</p>\"}}"));
	expect_refused(DOC("{" SVC_UDP ", \"fallback\": {\"local\": true}}"), LB_INVALID,
		       "services[0].fallback.local", "TCP services only");
	expect_refused(DOC("{\"vip\": \"10.0.0.100\", \"port\": 0, \"proto\": \"tcp\", \"ports\": "
			   "[80, 443], \"fallback\": {\"local\": true}}"),
		       LB_INVALID, "services[0].fallback.local", "service group");
	expect_refused(DOC("{\"vip\": \"2001:db8::100\", \"port\": 80, \"proto\": \"tcp\", "
			   "\"fallback\": {\"local\": true}}"),
		       LB_INVALID, "services[0].fallback.local", "IPv4 VIPs only");
	expect_refused("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"kernel_interface\": false}], "
		       "\"services\": [{" SVC_TCP ", \"fallback\": {\"local\": true}}]}",
		       LB_INVALID, "services[0].fallback.local", "kernel_interface");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_configs),
		cmocka_unit_test(test_ops_needs_dr_or_tun),
		cmocka_unit_test(test_syn_proxy_needs_nat_or_fnat),
		cmocka_unit_test(test_fnat_needs_local_addresses),
		cmocka_unit_test(test_real_rules),
		cmocka_unit_test(test_service_rules),
		cmocka_unit_test(test_capacities),
		cmocka_unit_test(test_struct_level_rules),
		cmocka_unit_test(test_incremental_checks_changed_services),
		cmocka_unit_test(test_local_fallback_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
