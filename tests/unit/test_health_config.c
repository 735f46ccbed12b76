/*
 * Health-check configuration: check and agent objects with their ldirectord/keepalived
 * defaults, per-real overrides, the validator's health rules, the effective weight (want vs
 * got), and the ownership of the shared check objects across clone and free (ASan checks it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "config_validate.h"
#include "effective_weight.h"
#include "health_config.h"

#define DOC(services)                                                                              \
	"{\"ports\": [{\"address\": \"10.0.0.2/24\"}], \"services\": [" services "]}"
#define SVC "\"vip\": \"10.0.0.100\", \"port\": 80, \"proto\": \"tcp\""
#define SVC8080 "\"vip\": \"10.0.0.100\", \"port\": 8080, \"proto\": \"tcp\""

static int load(const char *text, struct lb_config *c, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);

	if (root == NULL)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	int rc = lb_config_from_json(root, c, err, errlen);
	json_decref(root);
	return rc;
}

/* Parse and validate; the verdict (parse errors count as LB_INVALID), err filled. */
static int verdict(const char *text, char *err, size_t errlen)
{
	struct lb_config c;

	if (load(text, &c, err, errlen) != 0)
		return LB_INVALID;
	int rc = lb_config_validate(&c, err, errlen);
	lb_config_free(&c);
	return rc;
}

static void expect_refused(const char *text, const char *path, const char *rule)
{
	char err[LB_ERR_LEN] = "";

	if (verdict(text, err, sizeof(err)) == LB_VALID)
		fail_msg("accepted, expected \"%s\": %s", path, text);
	if (strstr(err, path) == NULL || strstr(err, rule) == NULL)
		fail_msg("error \"%s\" does not name \"%s\" and \"%s\"", err, path, rule);
}

static void expect_valid(const char *text)
{
	char err[LB_ERR_LEN] = "";

	if (verdict(text, err, sizeof(err)) != LB_VALID)
		fail_msg("refused: %s\n%s", err, text);
}

static void test_check_defaults(void **state)
{
	struct lb_check_cfg c;
	char err[LB_ERR_LEN];
	json_t *empty = json_object();

	(void)state;
	assert_int_equal(lb_check_from_json(empty, NULL, "check", &c, err, sizeof(err)), 0);
	/* ldirectord: negotiate, checkinterval 10, checktimeout 5, negotiatetimeout 30,
	 * failurecount 1, quiescent yes; keepalived's status_code 200-299 */
	assert_int_equal(c.type, LB_CHECK_NEGOTIATE);
	assert_int_equal(c.interval_ms, 10000);
	assert_int_equal(c.timeout_ms, 5000);
	assert_int_equal(c.negotiate_timeout_ms, 30000);
	assert_int_equal(c.failures, 1);
	assert_int_equal(c.successes, 1);
	assert_true(c.quiescent);
	assert_string_equal(c.request, "/");
	assert_string_equal(c.method, "GET");
	assert_int_equal(c.n_status, 1);
	assert_int_equal(c.status_lo[0], 200);
	assert_int_equal(c.status_hi[0], 299);
	assert_int_equal(c.dns_type, 1);
	json_decref(empty);
}

static void test_check_override_and_round_trip(void **state)
{
	struct lb_check_cfg c, again;
	char err[LB_ERR_LEN];
	json_t *base = json_loads("{\"type\": \"connect\", \"interval\": 0.5, \"failures\": 3, "
				  "\"status\": \"200-204,301\", \"query_type\": \"soa\"}", 0, NULL);
	json_t *over = json_loads("{\"type\": 2, \"port\": 8081}", 0, NULL);

	(void)state;
	assert_int_equal(lb_check_from_json(base, over, "x", &c, err, sizeof(err)), 0);
	assert_int_equal(c.type, LB_CHECK_NEGOTIATE);
	assert_int_equal(c.connects_first, 2);
	assert_int_equal(c.port, 8081);
	assert_int_equal(c.interval_ms, 500);
	assert_int_equal(c.failures, 3);
	assert_int_equal(c.n_status, 2);
	assert_int_equal(c.status_lo[1], 301);
	assert_int_equal(c.status_hi[1], 301);
	assert_int_equal(c.dns_type, 6);
	json_t *norm = lb_check_to_json(&c);
	assert_non_null(norm);
	assert_int_equal(lb_check_from_json(norm, NULL, "x", &again, err, sizeof(err)), 0);
	assert_memory_equal(&c, &again, sizeof(c));
	json_decref(norm);
	json_decref(base);
	json_decref(over);
}

static void test_check_form_errors(void **state)
{
	(void)state;
	expect_refused(DOC("{" SVC ", \"check\": {\"type\": \"telnet\"}}"), "services[0].check.type",
		       "must be connect, negotiate");
	expect_refused(DOC("{" SVC ", \"check\": {\"type\": 0}}"), "services[0].check.type", "1-1000");
	expect_refused(DOC("{" SVC ", \"check\": {\"interval\": 0}}"), "services[0].check.interval",
		       "0.01-86400");
	expect_refused(DOC("{" SVC ", \"check\": {\"failures\": 0}}"), "services[0].check.failures",
		       "1-1000");
	expect_refused(DOC("{" SVC ", \"check\": {\"method\": \"POST\"}}"), "services[0].check.method",
		       "GET or HEAD");
	expect_refused(DOC("{" SVC ", \"check\": {\"status\": \"200-99\"}}"),
		       "services[0].check.status", "100-599");
	expect_refused(DOC("{" SVC ", \"check\": {\"colour\": 1}}"), "services[0].check.colour",
		       "unknown key");
	expect_refused(DOC("{" SVC ", \"check\": {\"query_type\": \"ZZZ\"}}"),
		       "services[0].check.query_type", "AAAA");
	expect_refused(DOC("{" SVC ", \"agent\": {\"type\": \"snmp\"}}"), "services[0].agent.type",
		       "none, agent, http or haproxy");
	expect_refused(DOC("{" SVC ", \"agent\": {\"type\": \"agent\", \"port\": 0}}"),
		       "services[0].agent.port", "1-65535");
	expect_refused(DOC("{" SVC ", \"reals\": [{\"ip\": \"10.0.0.11\", \"state\": \"asleep\"}]}"),
		       "services[0].reals[0].state", "online, drain or offline");
	expect_refused(DOC("{" SVC ", \"reals\": [{\"ip\": \"10.0.0.11\", \"check\": {\"timeout\": "
			   "\"5\"}}]}"),
		       "services[0].reals[0].check.timeout", "number of seconds");
	expect_refused(DOC("{" SVC ", \"fallback\": {\"ip\": \"10.0.0.12\", \"check\": {}}}"),
		       "services[0].fallback.check", "not checked");
}

static void test_validator_rules(void **state)
{
	(void)state;
	expect_valid(DOC("{" SVC ", \"check\": {\"type\": \"connect\"}, \"agent\": {\"type\": "
			 "\"haproxy\"}, \"reals\": [{\"ip\": \"10.0.0.11\", \"state\": \"drain\"}]}"));
	/* negotiate needs a protocol: the port's, or a named one */
	expect_refused(DOC("{" SVC8080 ", \"check\": {}, \"reals\": [{\"ip\": \"10.0.0.11\"}]}"),
		       "services[0].check.service", "no protocol is known for port 8080");
	/* the override is checked where it is */
	expect_refused(DOC("{" SVC ", \"check\": {\"type\": \"connect\"}, \"reals\": [{\"ip\": "
			   "\"10.0.0.11\"}, {\"ip\": \"10.0.0.12\", \"check\": {\"type\": "
			   "\"external\"}}]}"),
		       "services[0].reals[1].check.command", "needs a command");
	expect_refused(DOC("{" SVC ", \"check\": {\"type\": \"connect\", \"receive_regex\": \"(\"}, "
			   "\"reals\": [{\"ip\": \"10.0.0.11\"}]}"),
		       "services[0].check.receive_regex", "");
	expect_refused(DOC("{" SVC ", \"check\": {\"type\": \"connect\", \"verify\": true, "
			   "\"ca_file\": \"/nonexistent/ca.pem\"}, \"reals\": [{\"ip\": \"10.0.0.11\"}]}"),
		       "services[0].check.ca_file", "cannot read");
}

static void test_clone_shares_checks(void **state)
{
	struct lb_config c, copy;
	char err[LB_ERR_LEN];

	(void)state;
	assert_int_equal(load(DOC("{" SVC ", \"check\": {\"type\": \"ping\"}, \"agent\": {\"type\": "
				  "\"agent\"}, \"reals\": [{\"ip\": \"10.0.0.11\", \"check\": "
				  "{\"type\": \"on\"}}, {\"ip\": \"10.0.0.12\"}]}"),
			      &c, err, sizeof(err)),
			 0);
	assert_int_equal(lb_config_clone(&c, &copy), 0);
	/* shared by reference: a candidate costs no copy of its checks */
	assert_ptr_equal(c.services[0].check, copy.services[0].check);
	assert_ptr_equal(c.services[0].reals[0].check, copy.services[0].reals[0].check);
	lb_service_remove_real(&copy.services[0], 0);
	lb_config_free(&copy);
	/* the original still owns valid objects (ASan would see a use after free) */
	json_t *o = lb_service_to_json(&c.services[0], true);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "check"), "type")),
			    "ping");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "agent"), "type")),
			    "agent");
	json_t *r0 = json_array_get(json_object_get(o, "reals"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r0, "check"), "type")),
			    "on");
	assert_string_equal(json_string_value(json_object_get(r0, "state")), "online");
	json_decref(o);
	lb_config_free(&c);
}

static void test_effective_weight(void **state)
{
	struct lb_observation o = {.health = LB_HEALTH_UP, .quiescent = true};
	struct lb_effective e;

	(void)state;
	e = lb_effective_weight(5, LB_ADMIN_ONLINE, &o);
	assert_int_equal(e.weight, 5);
	assert_false(e.out);
	e = lb_effective_weight(5, LB_ADMIN_DRAIN, &o);
	assert_int_equal(e.weight, 0);
	assert_false(e.out);
	e = lb_effective_weight(5, LB_ADMIN_OFFLINE, &o);
	assert_true(e.out);
	o.health = LB_HEALTH_DOWN;
	e = lb_effective_weight(5, LB_ADMIN_ONLINE, &o);
	assert_int_equal(e.weight, 0);
	assert_false(e.out); /* quiescent: weight 0, connections kept */
	o.quiescent = false;
	e = lb_effective_weight(5, LB_ADMIN_ONLINE, &o);
	assert_true(e.out);
	o.health = LB_HEALTH_UNKNOWN; /* not checked yet: taken as up */
	e = lb_effective_weight(5, LB_ADMIN_ONLINE, &o);
	assert_int_equal(e.weight, 5);
	/* agents: a percentage of the configured weight, drain, down, maint */
	o.has_agent = true;
	memset(&o.agent, 0, sizeof(o.agent));
	o.agent.weight_pct = 50;
	o.agent.weight_abs = AGENT_WEIGHT_UNSET;
	e = lb_effective_weight(10, LB_ADMIN_ONLINE, &o);
	assert_int_equal(e.weight, 5);
	o.agent.admin = AGENT_ADMIN_DRAIN;
	e = lb_effective_weight(10, LB_ADMIN_ONLINE, &o);
	assert_int_equal(e.weight, 0);
	assert_false(e.out);
	o.agent.admin = AGENT_ADMIN_MAINT;
	assert_true(lb_effective_weight(10, LB_ADMIN_ONLINE, &o).out);
	o.agent.admin = AGENT_ADMIN_READY;
	o.agent.state = AGENT_STATE_DOWN;
	o.quiescent = true;
	e = lb_effective_weight(10, LB_ADMIN_ONLINE, &o);
	assert_int_equal(e.weight, 0);
	/* online restores the configured weight scaled by the agent, never 1 */
	o.agent.state = AGENT_STATE_UP;
	o.agent.weight_pct = 200;
	assert_int_equal(lb_effective_weight(10, LB_ADMIN_ONLINE, &o).weight, 20);
	o.agent.weight_pct = 1000000;
	assert_int_equal(lb_effective_weight(65535, LB_ADMIN_ONLINE, &o).weight, 65535);
	/* an offline wish wins over any agent */
	assert_true(lb_effective_weight(10, LB_ADMIN_OFFLINE, &o).out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_defaults),
		cmocka_unit_test(test_check_override_and_round_trip),
		cmocka_unit_test(test_check_form_errors),
		cmocka_unit_test(test_validator_rules),
		cmocka_unit_test(test_clone_shares_checks),
		cmocka_unit_test(test_effective_weight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
