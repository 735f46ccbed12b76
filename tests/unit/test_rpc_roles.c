/*
 * Unit tests for lib/rpc_roles (rpc.roles parsing, who gets which role, what each method needs,
 * the object key logged with a change) and lib/backup_name (backup file names).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backup_name.h"
#include "rpc_roles.h"

static char err[256];

static int roles(const char *text, struct lb_roles *r)
{
	json_t *v = json_loads(text, 0, NULL);
	err[0] = '\0';
	int rc = lb_roles_from_json(v, r, err, sizeof(err));
	json_decref(v);
	return rc;
}

static void test_parse_and_resolve(void **state)
{
	struct lb_roles r;
	const char *ops[] = {"users", "lbops"}, *none[] = {"users"};

	(void)state;
	assert_int_equal(roles("{\"users\": {\"alice\": \"maintenance\", \"carol\": \"reports\"},"
			       " \"groups\": {\"lbops\": \"config\", \"lbview\": \"reports\"}}", &r), 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(lb_roles_resolve(&r, 0, "root", NULL, 0), LB_ROLE_CONFIG);
	assert_int_equal(lb_roles_resolve(&r, 1000, "alice", NULL, 0), LB_ROLE_MAINTENANCE);
	/* The user's own entry wins over a higher group. */
	assert_int_equal(lb_roles_resolve(&r, 1001, "carol", ops, 2), LB_ROLE_REPORTS);
	assert_int_equal(lb_roles_resolve(&r, 1002, "bob", ops, 2), LB_ROLE_CONFIG);
	assert_int_equal(lb_roles_resolve(&r, 1002, "bob", none, 1), LB_ROLE_NONE);
	assert_int_equal(lb_roles_resolve(&r, 1003, NULL, NULL, 0), LB_ROLE_NONE);
	json_t *back = lb_roles_to_json(&r);
	assert_string_equal(json_string_value(json_object_get(json_object_get(back, "groups"),
								"lbops")), "config");
	json_decref(back);
	/* The default (no entries): root only. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(lb_roles_resolve(&r, 0, "root", NULL, 0), LB_ROLE_CONFIG);
	assert_int_equal(lb_roles_resolve(&r, 1000, "alice", ops, 2), LB_ROLE_NONE);
}

static void test_parse_errors(void **state)
{
	struct lb_roles r;

	(void)state;
	assert_int_equal(roles("[]", &r), -1);
	assert_non_null(strstr(err, "rpc.roles: must be an object"));
	assert_int_equal(roles("{\"user\": {}}", &r), -1);
	assert_non_null(strstr(err, "rpc.roles.user: unknown key"));
	assert_int_equal(roles("{\"users\": {\"alice\": \"admin\"}}", &r), -1);
	assert_string_equal(err, "rpc.roles.users.alice: must be \"config\", \"maintenance\" or "
				 "\"reports\"");
	assert_int_equal(roles("{\"groups\": {\"a/b\": \"config\"}}", &r), -1);
	assert_non_null(strstr(err, "is not a group name"));
	assert_int_equal(roles("{\"users\": {\"-x\": \"config\"}}", &r), -1);
	assert_int_equal(roles("{\"users\": []}", &r), -1);
	char big[LB_ROLES_MAX * 24 + 64];
	size_t n = (size_t)snprintf(big, sizeof(big), "{\"users\": {");
	for (int i = 0; i <= LB_ROLES_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"u%d\": \"reports\"", i ? "," : "", i);
	snprintf(big + n, sizeof(big) - n, "}}");
	assert_int_equal(roles(big, &r), -1);
	assert_non_null(strstr(err, "at most 64"));
}

static enum lb_role need(const char *method, const char *params)
{
	json_t *p = params ? json_loads(params, 0, NULL) : NULL;
	enum lb_role r = lb_role_required(method, p);
	json_decref(p);
	return r;
}

static void test_required_roles(void **state)
{
	(void)state;
	const char *reads[] = {"service.list", "stats.get", "health.status", "conn.list",
			       "config.get", "system.info", "config.backups"};
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		assert_int_equal(need(reads[i], NULL), LB_ROLE_REPORTS);
	assert_int_equal(need("real.drain", "{}"), LB_ROLE_MAINTENANCE);
	assert_int_equal(need("real.offline", "{}"), LB_ROLE_MAINTENANCE);
	assert_int_equal(need("real.online", "{}"), LB_ROLE_MAINTENANCE);
	assert_int_equal(need("real.update", "{\"service\": {}, \"ip\": \"1.2.3.4\", \"port\": 80, "
					     "\"weight\": 3, \"state\": \"drain\"}"),
			 LB_ROLE_MAINTENANCE);
	assert_int_equal(need("real.update", "{\"ip\": \"1.2.3.4\", \"forward\": \"nat\"}"),
			 LB_ROLE_CONFIG);
	assert_int_equal(need("real.update", NULL), LB_ROLE_CONFIG);
	const char *changes[] = {"service.add", "service.update", "service.del", "real.add",
				 "real.del", "config.save", "config.backup", "config.restore",
				 "config.factory_reset", "some.future_method"};
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
		assert_int_equal(need(changes[i], "{}"), LB_ROLE_CONFIG);
	assert_int_equal(need("config.apply", "{\"edits\": [{\"method\": \"real.drain\", \"params\": {}},"
					      " {\"method\": \"real.update\", \"params\": {\"weight\": 2}}]}"),
			 LB_ROLE_MAINTENANCE);
	assert_int_equal(need("config.apply", "{\"edits\": [{\"method\": \"real.drain\", \"params\": {}},"
					      " {\"method\": \"real.del\", \"params\": {}}]}"),
			 LB_ROLE_CONFIG);
	assert_int_equal(need("config.apply", "{\"edits\": []}"), LB_ROLE_CONFIG);
	assert_int_equal(need("config.apply", "{\"edits\": [{\"params\": {}}]}"), LB_ROLE_CONFIG);
	assert_string_equal(lb_role_name(LB_ROLE_NONE), "none");
	assert_string_equal(lb_role_name(LB_ROLE_MAINTENANCE), "maintenance");
}

static const char *key(const char *method, const char *params, size_t len)
{
	static char buf[512];
	json_t *p = params ? json_loads(params, 0, NULL) : NULL;
	lb_rpc_object_key(method, p, buf, len);
	json_decref(p);
	return buf;
}

static void test_object_keys(void **state)
{
	(void)state;
	assert_string_equal(key("service.add", "{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\"}",
				512), "tcp 10.0.0.1:80");
	assert_string_equal(key("real.drain", "{\"service\": {\"vip\": \"2001:db8::1\", \"port\": 443,"
					      " \"proto\": \"tcp\"}, \"ip\": \"2001:db8::2\", \"port\": 8443}",
				512), "tcp [2001:db8::1]:443 real [2001:db8::2]:8443");
	assert_string_equal(key("real.drain", "{\"service\": {\"vip\": \"10.0.0.1\", \"port\": 80,"
					      " \"proto\": \"udp\"}, \"ip\": \"10.0.0.2\"}", 512),
			    "udp 10.0.0.1:80 real 10.0.0.2");
	assert_string_equal(key("config.restore", "{\"name\": \"b.json\"}", 512), "backup b.json");
	assert_string_equal(key("config.save", NULL, 512), "-");
	const char *apply = "{\"edits\": [{\"method\": \"service.del\", \"params\": {\"vip\": \"10.0.0.1\","
			    " \"port\": 80, \"proto\": \"tcp\"}}, {\"method\": \"real.del\", \"params\":"
			    " {\"service\": {\"vip\": \"10.0.0.1\", \"port\": 81, \"proto\": \"tcp\"},"
			    " \"ip\": \"10.0.0.9\", \"port\": 81}}]}";
	assert_string_equal(key("config.apply", apply, 512),
			    "service.del tcp 10.0.0.1:80; real.del tcp 10.0.0.1:81 real 10.0.0.9:81");
	assert_string_equal(key("config.apply", apply, 48), "service.del tcp 10.0.0.1:80; ... (2 edits)");
}

static void test_backup_names(void **state)
{
	char name[LB_BACKUP_NAME_LEN], label[LB_BACKUP_LABEL_MAX + 1];
	uint64_t ms;

	(void)state;
	/* 2026-12-01T01:02:03.045Z */
	const uint64_t t = 1796086923045ull;
	assert_int_equal(lb_backup_name_format(t, NULL, name, sizeof(name)), 0);
	assert_string_equal(name, "dpdk-lb-20261201T010203.045Z.json");
	assert_int_equal(lb_backup_name_parse(name, &ms, label), 0);
	assert_true(ms == t);
	assert_string_equal(label, "");
	assert_int_equal(lb_backup_name_format(t, "before-upgrade_2.0", name, sizeof(name)), 0);
	assert_string_equal(name, "dpdk-lb-20261201T010203.045Z-before-upgrade_2.0.json");
	assert_int_equal(lb_backup_name_parse(name, &ms, label), 0);
	assert_string_equal(label, "before-upgrade_2.0");
	assert_int_equal(lb_backup_name_format(t, "a/b", name, sizeof(name)), -1);
	assert_int_equal(lb_backup_name_format(t, "..", name, sizeof(name)), -1);
	assert_int_equal(lb_backup_name_format(t, "x", name, 10), -1);
	const char *bad[] = {"../dpdk-lb-20261201T010203.045Z.json", "dpdk-lb-20261201T010203.045Z",
			     "dpdk-lb-20261301T010203.045Z.json", "dpdk-lb-20261201T010203.045Z-.json",
			     "dpdk-lb-20261201T010203.045Z-a/b.json", "dpdk-lb-2026120XT010203.045Z.json",
			     "dpdk-lb-20261201T010203.045Zx.json", "x.json", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lb_backup_name_parse(bad[i], &ms, label), -1);
	/* Names sort by time. */
	char a[LB_BACKUP_NAME_LEN], b[LB_BACKUP_NAME_LEN];
	lb_backup_name_format(t, "zzz", a, sizeof(a));
	lb_backup_name_format(t + 1, "aaa", b, sizeof(b));
	assert_true(strcmp(a, b) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_resolve),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_required_roles),
		cmocka_unit_test(test_object_keys),
		cmocka_unit_test(test_backup_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
