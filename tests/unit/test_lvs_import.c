/*
 * Unit tests for lib/lvs_*: ipvsadm -S and ldirectord.cf into services (every option and key,
 * lines numbered in errors and notes), --fwmark mappings, and the exporters writing them back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lvs_import.h"

static json_t *marks(void)
{
	json_t *m = json_object();
	char err[256];
	assert_int_equal(lb_fwmark_parse("7=10.0.0.50:80,443,8000-8100", m, err, sizeof(err)), 0);
	assert_int_equal(lb_fwmark_parse("8=[2001:db8::50]:53/tcp+udp", m, err, sizeof(err)), 0);
	return m;
}

static json_t *svc(const struct lb_import *imp, size_t i)
{
	return json_array_get(imp->services, i);
}

static json_t *real(const struct lb_import *imp, size_t i, size_t j)
{
	return json_array_get(json_object_get(svc(imp, i), "reals"), j);
}

static const char *s_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long i_of(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* The message of error/note n, and its line in *line. */
static const char *msg(json_t *list, size_t n, long long *line)
{
	json_t *m = json_array_get(list, n);
	*line = i_of(m, "line");
	return s_of(m, "message");
}

static void test_ipvsadm_every_option(void **state)
{
	static const char text[] =
		"# saved by ipvsadm -S -n\n"
		"-A -t 10.0.0.1:80 -s wlc -p 300 -M 255.255.255.0\n"
		"-a -t 10.0.0.1:80 -r 10.0.0.11:8080 -m -w 3 -x 100 -y 50\n"
		"--add-service --udp-service 10.0.0.1:domain --scheduler sh --sched-flags "
		"sh-fallback,sh-port --ops\n"
		"-a -u 10.0.0.1:53 -r 10.0.0.12 -i -w 0\n"
		"-A -f 7 -s mh -b mh-port -p\n"
		"-a -f 7 -r 10.0.0.13:0 -g -w 1\n"
		"-A -t [2001:db8::1]:443 -s rr\n"
		"-a -t [2001:db8::1]:443 -r [2001:db8::11]:443 -g -w 2\n"
		"-C\n";
	struct lb_import imp;
	json_t *m = marks();
	long long line;

	(void)state;
	assert_int_equal(lb_import_ipvsadm(text, strlen(text), m, &imp), 0);
	assert_int_equal(json_array_size(imp.services), 4);
	assert_string_equal(s_of(svc(&imp, 0), "scheduler"), "wlc");
	assert_int_equal(i_of(svc(&imp, 0), "persistent"), 300);
	assert_string_equal(s_of(svc(&imp, 0), "netmask"), "255.255.255.0");
	assert_string_equal(s_of(real(&imp, 0, 0), "forward"), "nat");
	assert_int_equal(i_of(real(&imp, 0, 0), "port"), 8080);
	assert_int_equal(i_of(real(&imp, 0, 0), "u_threshold"), 100);
	assert_int_equal(i_of(real(&imp, 0, 0), "l_threshold"), 50);
	assert_string_equal(s_of(svc(&imp, 1), "proto"), "udp");
	assert_int_equal(i_of(svc(&imp, 1), "port"), 53);
	assert_true(json_is_true(json_object_get(svc(&imp, 1), "ops")));
	assert_int_equal(json_array_size(json_object_get(svc(&imp, 1), "sched_flags")), 2);
	assert_string_equal(s_of(real(&imp, 1, 0), "forward"), "tun");
	assert_null(json_object_get(real(&imp, 1, 0), "port")); /* the service's */
	assert_int_equal(i_of(svc(&imp, 2), "port"), 0);
	assert_string_equal(s_of(svc(&imp, 2), "vip"), "10.0.0.50");
	assert_int_equal(json_array_size(json_object_get(svc(&imp, 2), "ports")), 3);
	assert_int_equal(i_of(svc(&imp, 2), "persistent"), 300); /* -p alone */
	assert_string_equal(s_of(real(&imp, 2, 0), "forward"), "dr");
	assert_string_equal(s_of(svc(&imp, 3), "vip"), "2001:db8::1");
	assert_string_equal(s_of(real(&imp, 3, 0), "ip"), "2001:db8::11");
	/* lines of each service and real */
	assert_int_equal(i_of(json_array_get(imp.lines, 1), "line"), 4);
	assert_int_equal(json_integer_value(json_array_get(
				 json_object_get(json_array_get(imp.lines, 3), "reals"), 0)), 9);
	assert_string_equal(msg(imp.notes, 0, &line), "-C (clear) not applied: an import adds "
						      "services; dpdk-lb-cli import --replace "
						      "removes the running ones first");
	assert_int_equal(line, 10);
	lb_import_free(&imp);
	json_decref(m);
}

static void test_ipvsadm_errors(void **state)
{
	static const char text[] = "-A -t 10.0.0.1:80 -s wlc\n"
				   "-A -t 10.0.0.1:80 -s rr\n"
				   "-a -t 10.0.0.1:80 -r 10.0.0.11:80 -g -w x\n"
				   "-A -t host.example:80\n"
				   "-A -t 10.0.0.1\n"
				   "-A -f 9 -s rr\n"
				   "-a -t 10.0.0.1:80 -s rr\n"
				   "-E -t 10.0.0.1:80\n"
				   "-A -t 10.0.0.1:81 -b sh-bogus\n"
				   "-A -t 10.0.0.1:82 -p\n"
				   "-a -t 10.0.0.1:80 -w 1\n"
				   "-A -t 10.0.0.1:83 -s\n";
	struct lb_import imp;
	long long line;

	(void)state;
	assert_int_equal(lb_import_ipvsadm(text, strlen(text), NULL, &imp), -1);
	assert_int_equal(json_array_size(imp.errors), 10);
	const long long want[] = {2, 3, 4, 5, 6, 7, 8, 9, 11, 12};
	for (size_t i = 0; i < 10; i++) {
		msg(imp.errors, i, &line);
		assert_int_equal(line, want[i]);
	}
	assert_non_null(strstr(msg(imp.errors, 0, &line), "added before"));
	assert_non_null(strstr(msg(imp.errors, 2, &line), "not a numeric IPv4 or IPv6 address"));
	assert_non_null(strstr(msg(imp.errors, 4, &line), "--fwmark 9=VIP:PORTS"));
	assert_non_null(strstr(msg(imp.errors, 5, &line), "-s does not belong on an -a line"));
	lb_import_free(&imp);
}

static void test_fwmark_parse(void **state)
{
	json_t *m = json_object();
	char err[256];

	(void)state;
	const char *bad[] = {"7", "0=10.0.0.1:80", "7=10.0.0.1", "7=10.0.0.1:", "7=10.0.0.1:0",
			     "7=10.0.0.1:90-80", "7=host:80", "7=10.0.0.1:80/sctp",
			     "7=2001:db8::1:80", "7=10.0.0.1:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(lb_fwmark_parse(bad[i], m, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "must be MARK=VIP:PORTS"));
	}
	assert_int_equal(json_object_size(m), 0);
	assert_int_equal(lb_fwmark_parse("4294967295=[::1]:1-65535/udp", m, err, sizeof(err)), 0);
	json_t *e = json_object_get(m, "4294967295");
	assert_string_equal(s_of(e, "vip"), "::1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(e, "ports"), 0)),
			    "1-65535");
	json_decref(m);
}

static const char ldcf[] =
	"# global\n"
	"checktimeout=3\n"
	"checkinterval = 5\n"
	"failurecount=2\n"
	"negotiatetimeout=20\n"
	"quiescent=no\n"
	"logfile=\"/var/log/ldirectord.log\"\n"
	"fallback=10.0.0.99:80 gate\n"
	"\n"
	"virtual=10.0.0.1:80\n"
	"\treal=10.0.0.11:80 gate 5\n"
	"\treal=10.0.0.20->10.0.0.22 masq\n"
	"\treal=10.0.0.30:8080 ipip 2 \"/alive\", \"yes\"\n"
	"\tservice=http\n"
	"\trequest=\"/index.html\"\n"
	"\treceive=\"Welcome\"\n"
	"\tvirtualhost=www.example.com\n"
	"\thttpmethod=HEAD\n"
	"\tcheckport=8080\n"
	"\tscheduler=wrr\n"
	"\tpersistent=120\n"
	"\tnetmask=255.255.0.0\n"
	"\tprotocol=tcp\n"
	"\tquiescent=yes\n"
	"\temailalert=ops@example.com\n"
	"virtual=10.0.0.1:9999\n"
	"\treal=10.0.0.11 gate\n"
	"\tprotocol=udp\n"
	"virtual=7\n"
	"\tprotocol=fwm\n"
	"\treal=10.0.0.11 gate\n"
	"\tchecktype=on\n"
	"\tfallback=10.0.0.98\n";

static void test_ldirectord_keys(void **state)
{
	struct lb_import imp;
	json_t *m = marks(), *c;
	long long line;

	(void)state;
	assert_int_equal(lb_import_ldirectord(ldcf, strlen(ldcf), m, &imp), 0);
	assert_int_equal(json_array_size(imp.services), 3);
	json_t *web = svc(&imp, 0);
	assert_string_equal(s_of(web, "scheduler"), "wrr");
	assert_int_equal(i_of(web, "persistent"), 120);
	assert_string_equal(s_of(web, "netmask"), "255.255.0.0");
	assert_int_equal(json_array_size(json_object_get(web, "reals")), 5);
	assert_int_equal(i_of(real(&imp, 0, 0), "weight"), 5);
	assert_string_equal(s_of(real(&imp, 0, 2), "ip"), "10.0.0.21");
	assert_int_equal(i_of(real(&imp, 0, 2), "port"), 80);
	assert_string_equal(s_of(real(&imp, 0, 3), "forward"), "nat");
	assert_string_equal(s_of(real(&imp, 0, 4), "forward"), "tun");
	assert_string_equal(s_of(json_object_get(real(&imp, 0, 4), "check"), "receive_regex"), "yes");
	c = json_object_get(web, "check");
	assert_string_equal(s_of(c, "type"), "negotiate");
	assert_string_equal(s_of(c, "service"), "http");
	assert_string_equal(s_of(c, "request"), "/index.html");
	assert_string_equal(s_of(c, "receive_regex"), "Welcome");
	assert_string_equal(s_of(c, "host"), "www.example.com");
	assert_string_equal(s_of(c, "method"), "HEAD");
	assert_int_equal(i_of(c, "port"), 8080);
	assert_true(json_real_value(json_object_get(c, "timeout")) == 3.0);
	assert_true(json_real_value(json_object_get(c, "interval")) == 5.0);
	assert_true(json_real_value(json_object_get(c, "negotiate_timeout")) == 20.0);
	assert_int_equal(i_of(c, "failures"), 2);
	assert_true(json_is_true(json_object_get(c, "quiescent"))); /* the block's yes wins */
	assert_string_equal(s_of(json_object_get(web, "fallback"), "ip"), "10.0.0.99");
	/* udp on a port without a negotiate protocol: a connect check, with a note */
	json_t *udp = svc(&imp, 1);
	assert_string_equal(s_of(udp, "proto"), "udp");
	assert_string_equal(s_of(json_object_get(udp, "check"), "type"), "connect");
	assert_false(json_is_true(json_object_get(json_object_get(udp, "check"), "quiescent")));
	json_t *grp = svc(&imp, 2);
	assert_int_equal(i_of(grp, "port"), 0);
	assert_null(json_object_get(grp, "check"));
	assert_int_equal(i_of(json_object_get(grp, "fallback"), "port"), 0);
	assert_int_equal(i_of(real(&imp, 2, 0), "port"), 0);
	/* notes: logfile (7), emailalert (25), the connect check (26) */
	assert_int_equal(json_array_size(imp.notes), 3);
	assert_non_null(strstr(msg(imp.notes, 0, &line), "logfile: not imported"));
	assert_int_equal(line, 7);
	assert_non_null(strstr(msg(imp.notes, 1, &line), "emailalert: not imported"));
	assert_int_equal(line, 25);
	assert_non_null(strstr(msg(imp.notes, 2, &line), "imported as a connect check"));
	assert_int_equal(line, 26);
	lb_import_free(&imp);
	json_decref(m);
}

static void test_ldirectord_errors(void **state)
{
	static const char text[] = "bogus=1\n"
				   "\treal=10.0.0.1 gate\n"
				   "virtual=10.0.0.1:80\n"
				   "\treal=10.0.0.11 bridge\n"
				   "\tservice=oracle\n"
				   "\tchecktype=maybe\n"
				   "\tpersistent=forever\n"
				   "\treal=10.0.0.5->10.0.1.9 gate\n"
				   "\tsecret=x\n"
				   "\tchecktimeout=0\n"
				   "\tquiescent=perhaps\n"
				   "\tprotocol=fwm\n"
				   "novalue\n"
				   "virtual=99\n"
				   "\treal=\"unterminated gate\n";
	struct lb_import imp;
	long long line;

	(void)state;
	assert_int_equal(lb_import_ldirectord(text, strlen(text), NULL, &imp), -1);
	const long long want[] = {1, 2, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 6};
	assert_int_equal(json_array_size(imp.errors), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		msg(imp.errors, i, &line);
		assert_int_equal(line, want[i]);
	}
	assert_non_null(strstr(msg(imp.errors, 3, &line), "no oracle check"));
	lb_import_free(&imp);
}

static void test_export(void **state)
{
	static const char services[] =
		"[{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\", \"scheduler\": \"sh\","
		"  \"sched_flags\": [\"fallback\"], \"persistent\": 300, \"netmask\": 24, \"ops\": false,"
		"  \"local_addresses\": [], \"client_address\": \"none\", \"fallback\": null,"
		"  \"check\": {\"type\": \"negotiate\", \"service\": \"http\", \"request\": \"/h\","
		"            \"receive_regex\": \"OK\", \"method\": \"GET\", \"host\": \"\", \"port\": 0,"
		"            \"timeout\": 5.0, \"negotiate_timeout\": 30.0, \"interval\": 2.5,"
		"            \"failures\": 1, \"quiescent\": false, \"status\": \"200-299\"},"
		"  \"reals\": [{\"ip\": \"10.0.0.11\", \"port\": 80, \"weight\": 2, \"forward\": \"dr\","
		"              \"u_threshold\": 10, \"l_threshold\": 0, \"state\": \"online\"},"
		"             {\"ip\": \"10.0.0.12\", \"port\": 80, \"weight\": 1, \"forward\": \"fnat\","
		"              \"u_threshold\": 0, \"l_threshold\": 0, \"state\": \"online\"}]},"
		" {\"vip\": \"2001:db8::1\", \"port\": 0, \"proto\": \"udp\", \"ports\": [53, \"60-61\"],"
		"  \"protos\": [\"udp\"], \"scheduler\": \"rr\", \"persistent\": 0, \"netmask\": 128,"
		"  \"check\": null, \"reals\": [{\"ip\": \"2001:db8::11\", \"port\": 0, \"weight\": 1,"
		"  \"forward\": \"tun\", \"state\": \"drain\"}]}]";
	json_t *s = json_loads(services, 0, NULL), *notes = json_array();

	(void)state;
	assert_non_null(s);
	char *ipv = lb_export_ipvsadm(s, notes);
	assert_string_equal(ipv, "-A -t 10.0.0.1:80 -s sh -p 300 -M 255.255.255.0 -b sh-fallback\n"
				 "-a -t 10.0.0.1:80 -r 10.0.0.11:80 -g -w 2 -x 10\n"
				 "-A -f 1 -s rr\n"
				 "-a -f 1 -r [2001:db8::11]:0 -i -w 0\n");
	char *ld = lb_export_ldirectord(s, notes);
	assert_non_null(strstr(ld, "virtual=10.0.0.1:80\n\tprotocol=tcp\n\tscheduler=sh\n"
				   "\tpersistent=300\n\tnetmask=255.255.255.0\n"
				   "\treal=10.0.0.11:80 gate 2\n\tchecktype=negotiate\n\tservice=http\n"
				   "\trequest=\"/h\"\n\treceive=\"OK\"\n\tcheckinterval=2.5\n"
				   "\tquiescent=no\n"));
	assert_non_null(strstr(ld, "virtual=1\n\tprotocol=fwm\n\tscheduler=rr\n"
				   "\treal=[2001:db8::11]:0 ipip 1\n\tchecktype=on\n"));
	char *all = json_dumps(notes, 0);
	assert_non_null(strstr(all, "--fwmark 1=[2001:db8::1]:53,60-61/udp"));
	assert_non_null(strstr(all, "real 10.0.0.12 left out: ipvsadm has no fnat forwarding"));
	assert_non_null(strstr(all, "health check not in ipvsadm rules"));
	assert_non_null(strstr(all, "is drain: written with weight 0"));
	assert_non_null(strstr(all, "thresholds of 10.0.0.11 not in ldirectord.cf"));
	free(all);
	/* What the exporter wrote, the importer reads back to the same services. */
	struct lb_import imp;
	json_t *m = json_object();
	char err[128];
	assert_int_equal(lb_fwmark_parse("1=[2001:db8::1]:53,60-61/udp", m, err, sizeof(err)), 0);
	assert_int_equal(lb_import_ipvsadm(ipv, strlen(ipv), m, &imp), 0);
	assert_int_equal(json_array_size(imp.services), 2);
	assert_int_equal(i_of(real(&imp, 0, 0), "u_threshold"), 10);
	lb_import_free(&imp);
	assert_int_equal(lb_import_ldirectord(ld, strlen(ld), m, &imp), 0);
	assert_true(json_real_value(json_object_get(json_object_get(svc(&imp, 0), "check"),
						    "interval")) == 2.5);
	lb_import_free(&imp);
	json_decref(m);
	free(ipv);
	free(ld);
	json_decref(notes);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipvsadm_every_option),
		cmocka_unit_test(test_ipvsadm_errors),
		cmocka_unit_test(test_fwmark_parse),
		cmocka_unit_test(test_ldirectord_keys),
		cmocka_unit_test(test_ldirectord_errors),
		cmocka_unit_test(test_export),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
