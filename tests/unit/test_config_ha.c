/* Unit tests for lib/config_ha: the `ha` section's defaults, keys, rules and round trip. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define KEY32 "\"000102030405060708090a0b0c0d0e0f\""
#define PORT "\"ports\": [{\"address\": \"10.0.0.2/24\", \"address6\": \"2001:db8::2/64\"}]"

/* Parses a document; 0 or -1 with err. */
static int parse(const char *text, struct lb_config *c, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL)
		fail_msg("test document does not parse: %s: %s", jerr.text, text);
	int rc = lb_config_from_json(root, c, err, errlen);
	json_decref(root);
	return rc;
}

static void expect_error(const char *text, const char *needle)
{
	char err[LB_ERR_LEN] = "";
	struct lb_config c;

	if (parse(text, &c, err, sizeof(err)) == 0) {
		lb_config_free(&c);
		fail_msg("accepted, expected \"%s\": %s", needle, text);
	}
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void test_defaults(void **state)
{
	struct lb_config c;
	char err[LB_ERR_LEN];

	(void)state;
	assert_int_equal(parse("{}", &c, err, sizeof(err)), 0);
	assert_false(c.ha.enabled);
	assert_int_equal(c.ha.priority, 100);
	assert_int_equal(c.ha.advert_interval_ms, 1000);
	assert_true(c.ha.preempt);
	assert_int_equal(c.ha.preempt_delay_ms, 0);
	assert_int_equal(c.ha.heartbeat_port, 8694);
	assert_int_equal(c.ha.sync_port, 8695);
	assert_int_equal(c.ha.garp_count, 5);
	assert_int_equal(c.ha.garp_repeat_ms, 5000);
	assert_true(c.ha.conn_sync);
	assert_int_equal(c.ha.sync_period_s, 30);
	/* a single appliance's file does not grow an ha section */
	json_t *j = lb_config_to_json(&c);
	assert_null(json_object_get(j, "ha"));
	json_decref(j);
	lb_config_free(&c);
}

static void test_full_section_round_trips(void **state)
{
	static const char doc[] =
		"{" PORT ", \"ha\": {\"enabled\": true, \"node_id\": 7, \"priority\": 150,"
		" \"advert_interval_ms\": 200, \"preempt\": false, \"preempt_delay_ms\": 3000,"
		" \"key\": " KEY32 ", \"port\": 0, \"peers\": [\"10.0.0.3\"], \"group\": \"239.1.2.3\","
		" \"heartbeat_port\": 9000, \"sync_port\": 9001, \"ping_node\": \"10.0.0.1\","
		" \"garp_count\": 2, \"garp_repeat_ms\": 0, \"conn_sync\": false, \"sync_period_s\": 5}}";
	struct lb_config c, back;
	char err[LB_ERR_LEN];

	(void)state;
	if (parse(doc, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(c.ha.enabled);
	assert_int_equal(c.ha.node_id, 7);
	assert_int_equal(c.ha.key_len, 16);
	assert_int_equal(c.ha.key[15], 0x0f);
	assert_int_equal(c.ha.n_peers, 1);
	assert_true(c.ha.has_group && c.ha.has_ping_node);
	json_t *j = lb_config_to_json(&c);
	json_t *ha = json_object_get(j, "ha");
	assert_non_null(ha);
	assert_string_equal(json_string_value(json_object_get(ha, "key")),
			    "000102030405060708090a0b0c0d0e0f");
	char *text = json_dumps(j, 0);
	if (parse(text, &back, err, sizeof(err)) != 0)
		fail_msg("written section does not load back: %s", err);
	assert_memory_equal(&c.ha, &back.ha, sizeof(c.ha));
	free(text);
	json_decref(j);
	lb_config_free(&c);
	lb_config_free(&back);
}

static void test_key_file(void **state)
{
	char path[] = "/tmp/test_config_ha.XXXXXX", doc[512], err[LB_ERR_LEN];
	struct lb_config c;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	const char key[] = "  00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	assert_int_equal(write(fd, key, sizeof(key) - 1), (ssize_t)(sizeof(key) - 1));
	close(fd);
	snprintf(doc, sizeof(doc), "{" PORT ", \"ha\": {\"enabled\": true, \"node_id\": 1, "
		 "\"key_file\": \"%s\", \"peers\": [\"10.0.0.3\"]}}", path);
	if (parse(doc, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.ha.key_len, 32);
	assert_int_equal(c.ha.key[31], 0xff);
	/* written back as the file's name, never the key itself */
	json_t *j = lb_config_to_json(&c);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "ha"), "key")), "");
	json_decref(j);
	lb_config_free(&c);
	unlink(path);
	snprintf(doc, sizeof(doc), "{\"ha\": {\"key_file\": \"%s\"}}", path);
	expect_error(doc, "ha.key_file: ");
}

static void test_errors_name_the_key(void **state)
{
	(void)state;
	expect_error("{\"ha\": {\"enabled\": 1}}", "ha.enabled: must be true or false");
	expect_error("{\"ha\": {\"prio\": 1}}", "ha.prio");
	expect_error("{\"ha\": {\"priority\": 0}}", "ha.priority");
	expect_error("{\"ha\": {\"priority\": 256}}", "ha.priority");
	expect_error("{\"ha\": {\"advert_interval_ms\": 9}}", "ha.advert_interval_ms");
	expect_error("{\"ha\": {\"advert_interval_ms\": 40951}}", "ha.advert_interval_ms");
	expect_error("{\"ha\": {\"key\": \"0011\"}}", "ha.key: must be 32-128 hex digits");
	expect_error("{\"ha\": {\"key\": \"000102030405060708090a0b0c0d0e0g\"}}", "ha.key");
	expect_error("{\"ha\": {\"key\": " KEY32 ", \"key_file\": \"/x\"}}", "not both");
	expect_error("{\"ha\": {\"group\": \"10.0.0.1\"}}", "ha.group: must be a multicast");
	expect_error("{\"ha\": {\"peers\": [\"239.0.0.1\"]}}", "ha.peers[0]: a unicast address");
	expect_error("{\"ha\": {\"peers\": \"10.0.0.3\"}}", "ha.peers: must be an array");
	expect_error("{\"ha\": {\"peers\": [\"nope\"]}}", "ha.peers[0]: must be an IPv4 or IPv6");
	expect_error("{\"ha\": {\"sync_port\": 8694}}", "ha.sync_port: must differ");
	expect_error("{\"ha\": {\"garp_count\": 0}}", "ha.garp_count");
	expect_error("{\"ha\": []}", "ha: must be an object");
}

static void test_enabled_pair_needs_the_rest(void **state)
{
	(void)state;
	expect_error("{" PORT ", \"ha\": {\"enabled\": true, \"key\": " KEY32
		     ", \"peers\": [\"10.0.0.3\"]}}", "ha.node_id: required");
	expect_error("{" PORT ", \"ha\": {\"enabled\": true, \"node_id\": 1,"
		     " \"peers\": [\"10.0.0.3\"]}}", "ha.key: required");
	expect_error("{" PORT ", \"ha\": {\"enabled\": true, \"node_id\": 1, \"key\": " KEY32 "}}",
		     "ha.peers: give the peer");
	expect_error("{" PORT ", \"ha\": {\"enabled\": true, \"node_id\": 1, \"key\": " KEY32
		     ", \"port\": 1, \"peers\": [\"10.0.0.3\"]}}", "ha.port: must name a port");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"kernel_interface\": false}],"
		     " \"ha\": {\"enabled\": true, \"node_id\": 1, \"key\": " KEY32
		     ", \"peers\": [\"10.0.0.3\"]}}", "with a kernel_interface");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\"}], \"ha\": {\"enabled\": true,"
		     " \"node_id\": 1, \"key\": " KEY32 ", \"peers\": [\"2001:db8::3\"]}}",
		     "ha.peers[0]: port 0 has no address of its family");
	expect_error("{" PORT ", \"ha\": {\"enabled\": true, \"node_id\": 1, \"key\": " KEY32
		     ", \"peers\": [\"10.0.0.3\", \"2001:db8::3\"]}}", "one family");
	/* a disabled section is checked for form only */
	struct lb_config c;
	char err[LB_ERR_LEN];
	assert_int_equal(parse("{\"ha\": {\"node_id\": 3}}", &c, err, sizeof(err)), 0);
	lb_config_free(&c);
}

static void test_hex_and_multicast(void **state)
{
	uint8_t out[4];
	struct lb_addr a;

	(void)state;
	assert_int_equal(lb_hex_decode("0aFf", out, 1, 4), 2);
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(lb_hex_decode("0a0", out, 1, 4), -1);
	assert_int_equal(lb_hex_decode("0a0b0c0d0e", out, 1, 4), -1);
	assert_int_equal(lb_hex_decode("", out, 1, 4), -1);
	assert_int_equal(lb_addr_parse("224.0.0.18", &a), 0);
	assert_true(lb_addr_is_multicast(&a));
	assert_int_equal(lb_addr_parse("239.255.255.255", &a), 0);
	assert_true(lb_addr_is_multicast(&a));
	assert_int_equal(lb_addr_parse("240.0.0.1", &a), 0);
	assert_false(lb_addr_is_multicast(&a));
	assert_int_equal(lb_addr_parse("ff02::12", &a), 0);
	assert_true(lb_addr_is_multicast(&a));
	assert_int_equal(lb_addr_parse("fe80::1", &a), 0);
	assert_false(lb_addr_is_multicast(&a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_section_round_trips),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_errors_name_the_key),
		cmocka_unit_test(test_enabled_pair_needs_the_rest),
		cmocka_unit_test(test_hex_and_multicast),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
