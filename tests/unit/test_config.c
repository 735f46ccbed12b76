/* Unit tests for lib/config: documented defaults, round trips, error key paths, files, clone. */
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "config_validate.h"

#include "test_config_docs.h"
#include "test_config_util.h"

/* Asserts that two configurations serialise to equal documents. */
static void assert_config_json_equal(const struct lb_config *a, const struct lb_config *b)
{
	json_t *ja = lb_config_to_json(a), *jb = lb_config_to_json(b);

	assert_non_null(ja);
	assert_non_null(jb);
	if (!json_equal(ja, jb)) {
		char *sa = json_dumps(ja, JSON_SORT_KEYS), *sb = json_dumps(jb, JSON_SORT_KEYS);
		fail_msg("configurations differ:\n%s\n%s", sa, sb);
	}
	json_decref(ja);
	json_decref(jb);
}

static void test_defaults_struct(void **state)
{
	struct lb_config c;

	(void)state;
	memset(&c, 0xab, sizeof(c));
	lb_config_init_defaults(&c);
	assert_string_equal(c.rpc_socket, "/run/dpdk-lb/dpdk-lb.sock");
	assert_int_equal(c.rpc_max_request_bytes, 1048576);
	assert_int_equal(c.rpc_max_clients, 64);
	assert_int_equal(c.flow_capacity, 262144);
	assert_int_equal(c.mbufs, 16383);
	assert_int_equal(c.rx_descriptors, 1024);
	assert_int_equal(c.tx_descriptors, 1024);
	assert_int_equal(c.idle_sleep_us, 0);
	assert_int_equal(c.max_services, 1024);
	assert_int_equal(c.max_reals, 8192);
	assert_int_equal(c.neigh_refresh_s, 30);
	assert_int_equal(c.neigh_timeout_s, 90);
	assert_int_equal(c.timeouts.by_state[LB_TCP_ESTABLISHED], 900);
	assert_int_equal(c.timeouts.by_state[LB_TCP_FIN_WAIT], 120);
	assert_int_equal(c.timeouts.by_state[LB_UDP_STATE], 300);
	assert_int_equal(c.eal_argc, 0);
	assert_int_equal(c.n_ports, 0);
	assert_int_equal(c.n_static_neigh, 0);
	assert_int_equal(c.n_services, 0);
	assert_null(c.services);
	assert_null(c.ports);
	lb_config_free(&c);
}

static void test_defaults_match_docs(void **state)
{
	struct lb_config c;
	json_t *expected = load_json(defaults_doc), *got;

	(void)state;
	/* an empty document gives every documented default, and to_json writes every key */
	parse_ok("{}", &c);
	got = lb_config_to_json(&c);
	if (!json_equal(expected, got)) {
		char *s = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("defaults differ from docs/config.md: %s", s);
	}
	json_decref(got);
	lb_config_free(&c);

	/* the same from lb_config_init_defaults */
	lb_config_init_defaults(&c);
	got = lb_config_to_json(&c);
	assert_true(json_equal(expected, got));
	json_decref(got);
	lb_config_free(&c);
	json_decref(expected);
}

static void test_service_and_real_defaults(void **state)
{
	struct lb_config c;

	(void)state;
	parse_ok("{\"services\": [{\"vip\": \"10.0.0.100\", \"port\": 8080, \"proto\": \"tcp\","
		 " \"reals\": [{\"ip\": \"10.0.0.11\"}]}]}",
		 &c);
	assert_int_equal(c.n_services, 1);
	assert_string_equal(c.services[0].scheduler, "wlc");
	assert_int_equal(c.services[0].forward, LB_FWD_DR);
	assert_int_equal(c.services[0].proto, IPPROTO_TCP);
	assert_int_equal(c.services[0].port, 8080);
	assert_int_equal(c.services[0].n_reals, 1);
	assert_int_equal(c.services[0].reals[0].port, 8080); /* the service port */
	assert_int_equal(c.services[0].reals[0].weight, 1);
	assert_int_equal(c.services[0].reals[0].forward, LB_FWD_DR);
	assert_int_equal(c.services[0].reals[0].id, 0);
	lb_config_free(&c);
}

static void test_full_roundtrip(void **state)
{
	struct lb_config c, again;
	char err[LB_ERR_LEN] = "";
	json_t *doc = load_json(full_doc), *out, *out2;

	(void)state;
	parse_ok(full_doc, &c);
	assert_int_equal(c.eal_argc, 4);
	assert_string_equal(c.eal_argv[2], "--vdev=net_tap0,iface=lb0");
	assert_null(c.eal_argv[4]);
	assert_int_equal(c.n_ports, 3);
	assert_int_equal(c.ports[1].prefix_len, 64);
	assert_true(c.ports[2].has_address6);
	assert_int_equal(c.ports[2].prefix_len6, 64);
	assert_string_equal(c.ports[0].kernel_interface, "lb-ext.0");
	assert_string_equal(c.ports[1].kernel_interface, "");
	assert_int_equal(c.exception_tx_pps, 6000);
	assert_int_equal(c.n_static_neigh, 2);
	assert_int_equal(c.static_neigh[1].mac[5], 0x0b);
	assert_int_equal(c.timeouts.by_state[LB_TCP_SYN_SENT], 122);
	assert_int_equal(c.timeouts.by_state[LB_TCP_LISTEN], 124);
	assert_int_equal(c.n_services, 4);
	assert_int_equal(c.services[1].proto, IPPROTO_UDP);
	assert_int_equal(c.services[0].reals[2].weight, 65535);

	out = lb_config_to_json(&c);
	if (!json_equal(doc, out)) {
		char *s = json_dumps(out, JSON_SORT_KEYS);
		fail_msg("round trip changed the document: %s", s);
	}
	/* and once more through the parser */
	assert_int_equal(lb_config_from_json(out, &again, err, sizeof(err)), 0);
	out2 = lb_config_to_json(&again);
	assert_true(json_equal(doc, out2));

	json_decref(out2);
	json_decref(out);
	json_decref(doc);
	lb_config_free(&again);
	lb_config_free(&c);
}

static void test_error_unknown_keys(void **state)
{
	(void)state;
	expect_error("{\"bogus\": 1}", "bogus");
	expect_error("{\"bogus\": 1}", "unknown key");
	expect_error("{\"rpc\": {\"sockett\": \"/x\"}}", "rpc.sockett");
	expect_error("{\"dataplane\": {\"flows\": 5000}}", "dataplane.flows");
	expect_error("{\"timeouts\": {\"fin_wait\": 5}}", "timeouts.fin_wait");
	expect_error("{\"neighbours\": {\"static\": [{\"ip\": \"10.0.0.1\", "
		     "\"mac\": \"02:00:00:00:00:01\", \"vlan\": 3}]}}",
		     "neighbours.static[0].vlan");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"mtu\": 100}]}", "ports[0].mtu");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"address6\": \"10.0.1.2/24\"}]}",
		     "ports[0].address6");
	expect_error("{\"ports\": [{\"address\": \"2001:db8::2/64\", \"address6\": \"2001:db8:1::2/64\"}]}",
		     "ports[0].address6");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"gateway\": \"10.0.0.1\"}]}",
		     "ports[0].gateway");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"persistance\": 300}]}",
		     "services[0].persistance");
	expect_error("{\"services\": ["
		     " {\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\"},"
		     " {\"vip\": \"10.0.0.1\", \"port\": 81, \"proto\": \"tcp\","
		     "  \"reals\": [{\"ip\": \"10.0.0.5\", \"wieght\": 2}]}]}",
		     "services[1].reals[0].wieght");
}

static void test_kernel_interface(void **state)
{
	struct lb_config c;

	(void)state;
	parse_ok("{\"ports\": [{\"address\": \"10.0.0.2/24\"}, {\"address\": \"10.0.1.2/24\"}]}", &c);
	assert_string_equal(c.ports[0].kernel_interface, "dlb0");
	assert_string_equal(c.ports[1].kernel_interface, "dlb1");
	assert_int_equal(c.exception_rx_pps, 20000);
	assert_int_equal(c.exception_tx_pps, 20000);
	assert_int_equal(c.exception_burst, 256);
	lb_config_free(&c);
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"kernel_interface\": \"\"}]}",
		     "ports[0].kernel_interface: an interface name");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"kernel_interface\": "
		     "\"sixteen-chars-xx\"}]}", "ports[0].kernel_interface");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"kernel_interface\": \"a/b\"}]}",
		     "ports[0].kernel_interface");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\", \"kernel_interface\": true}]}",
		     "ports[0].kernel_interface");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\"},"
		     " {\"address\": \"10.0.1.2/24\", \"kernel_interface\": \"dlb0\"}]}",
		     "ports[1].kernel_interface: \"dlb0\" is ports[0]'s already");
	expect_error("{\"exception\": {\"rx_pps\": 0}}", "exception.rx_pps");
	expect_error("{\"exception\": {\"burst\": 65537}}", "exception.burst");
	expect_error("{\"exception\": {\"rate\": 5}}", "exception.rate");
}

static void test_metrics_listen(void **state)
{
	struct lb_config c;

	(void)state;
	parse_ok("{\"metrics\": {\"listen\": \"off\"}}", &c);
	assert_false(c.metrics_enabled);
	lb_config_free(&c);
	parse_ok("{\"metrics\": {\"listen\": \"\"}}", &c);
	assert_false(c.metrics_enabled);
	lb_config_free(&c);
	parse_ok("{\"metrics\": {\"listen\": \"10.0.0.2:80\"}}", &c);
	assert_true(c.metrics_enabled);
	assert_int_equal(c.metrics_port, 80);
	lb_config_free(&c);
	expect_error("{\"metrics\": {\"listen\": \"10.0.0.2\"}}", "metrics.listen: must be");
	expect_error("{\"metrics\": {\"listen\": \"::1:9108\"}}", "metrics.listen");
	expect_error("{\"metrics\": {\"listen\": 9108}}", "metrics.listen");
	expect_error("{\"metrics\": {\"port\": 9108}}", "metrics.port");
	expect_error("{\"metrics\": \"on\"}", "metrics: must be an object");
}

static void test_error_ports(void **state)
{
	(void)state;
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 0, \"proto\": \"tcp\"}]}",
		     "services[0].port");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 70000, \"proto\": \"tcp\"}]}",
		     "services[0].port");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": -1, \"proto\": \"tcp\"}]}",
		     "services[0].port");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": \"80\", \"proto\": \"tcp\"}]}",
		     "services[0].port");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"proto\": \"tcp\"}]}",
		     "services[0].port");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"10.0.0.5\", \"port\": 70000}]}]}",
		     "services[0].reals[0].port");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"10.0.0.5\", \"weight\": 65536}]}]}",
		     "services[0].reals[0].weight");
}

static void test_error_service_fields(void **state)
{
	(void)state;
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"icmp\"}]}",
		     "services[0].proto");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80}]}", "services[0].proto");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.300\", \"port\": 80, \"proto\": \"tcp\"}]}",
		     "services[0].vip");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"scheduler\": \"bogus\"}]}",
		     "services[0].scheduler");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"scheduler\": \"an-overly-long-scheduler-name\"}]}",
		     "services[0].scheduler");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"forward\": \"masq\"}]}",
		     "services[0].forward");
	/* fnat without local addresses, a local address of the other family, duplicates */
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"forward\": \"fnat\"}]}",
		     "services[0].local_addresses");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"forward\": \"fnat\", \"local_addresses\": [\"2001:db8::1\"]}]}",
		     "services[0].local_addresses[0]");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"forward\": \"fnat\", \"local_addresses\": [\"10.0.0.5\", \"10.0.0.5\"]}]}",
		     "services[0].local_addresses[1]");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 53, \"proto\": \"udp\","
		     " \"client_address\": \"toa\"}]}",
		     "services[0].client_address");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"client_address\": \"proxy\"}]}",
		     "services[0].client_address");
	/* one-packet scheduling cannot translate replies */
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 53, \"proto\": \"udp\","
		     " \"ops\": true, \"forward\": \"nat\"}]}",
		     "services[0].ops");
	/* tun keeps the port, nat may change it */
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"10.0.0.2\", \"port\": 81, \"forward\": \"tun\"}]}]}",
		     "services[0].reals[0].port");
	expect_error("{\"dataplane\": {\"fnat_port_min\": 3000, \"fnat_port_max\": 2000}}",
		     "dataplane.fnat_port_min");
	expect_error("{\"dataplane\": {\"half_open_pressure_percent\": 101}}",
		     "dataplane.half_open_pressure_percent");
	expect_error("{\"dataplane\": {\"half_open_pressure_timeout_s\": 0}}",
		     "dataplane.half_open_pressure_timeout_s");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": {}}]}",
		     "services[0].reals");
	expect_error("{\"services\": [17]}", "services[0]");
	expect_error("{\"services\": {}}", "services");
}

static void test_error_sched_options(void **state)
{
	(void)state;
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"scheduler\": \"mh\", \"mh_table_size\": 4096}]}",
		     "services[0].mh_table_size: 4096 is not a prime");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"scheduler\": \"rr\", \"sched_flags\": [\"port\"]}]}",
		     "services[0].sched_flags: only the sh, dh and mh");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"scheduler\": \"sh\", \"sched_flags\": [\"sticky\"]}]}",
		     "services[0].sched_flags[0]");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"ops\": true}]}",
		     "services[0].ops: one-packet scheduling is for UDP");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"netmask\": \"255.0.255.0\"}]}", "services[0].netmask");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 0, \"proto\": \"tcp\"}]}",
		     "services[0].ports: a service group (port 0) needs its ports");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"ports\": [443]}]}", "services[0].ports: only a service group");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 0, \"proto\": \"tcp\","
		     " \"ports\": [\"90-80\"]}]}", "services[0].ports[0]");
	expect_error("{\"ipvs\": {\"expire_nodest_conn\": 1}}", "ipvs.expire_nodest_conn");
}

static void test_error_duplicates(void **state)
{
	(void)state;
	expect_error("{\"services\": ["
		     " {\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\"},"
		     " {\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"udp\"},"
		     " {\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\", \"scheduler\": \"rr\"}]}",
		     "services[2]: duplicate of services[0]");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\"}],"
		     " \"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"10.0.0.5\"}, {\"ip\": \"10.0.0.6\"},"
		     "             {\"ip\": \"10.0.0.5\", \"weight\": 3}]}]}",
		     "services[0].reals[2]");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"10.0.0.5\"}, {\"ip\": \"10.0.0.5\"}]}]}",
		     "duplicate real");
}

static void test_error_reals(void **state)
{
	(void)state;
	/* direct routing cannot change the port */
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"10.0.0.5\", \"port\": 8080}]}]}",
		     "services[0].reals[0].port");
	/* a real of the other address family */
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"2001:db8::5\"}]}]}",
		     "services[0].reals[0].ip");
	expect_error("{\"services\": [{\"vip\": \"2001:db8::1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"10.0.0.5\"}]}]}",
		     "services[0].reals[0].ip");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"port\": 80}]}]}",
		     "services[0].reals[0].ip");
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [\"10.0.0.5\"]}]}",
		     "services[0].reals[0]");
}

static void test_error_ports_address(void **state)
{
	(void)state;
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2/24\"}, {\"address\": \"10.0.1.2/40\"}]}",
		     "ports[1].address");
	expect_error("{\"ports\": [{\"address\": \"10.0.0.300/24\"}]}", "ports[0].address");
	expect_error("{\"ports\": [{}]}", "ports[0].address");
	expect_error("{\"ports\": [{\"address\": 10}]}", "ports[0].address");
	expect_error("{\"ports\": \"10.0.0.2/24\"}", "ports");
}

static void test_error_ports_address_without_prefix(void **state)
{
	(void)state;
	/* Regression (was a bug): docs/config.md says ports[].address is an address *with* prefix ("10.0.0.2/24"),
	 * and lib/config.c's own error text says so, but parse_ports() uses lb_addr_parse_prefix,
	 * which accepts a bare address as /32 (/128). {"ports":[{"address":"10.0.0.2"}]} is
	 * accepted with prefix_len 32 (no real server can then be on the port's subnet) instead of
	 * failing with "ports[0].address: ...". */
	expect_error("{\"ports\": [{\"address\": \"10.0.0.2\"}]}", "ports[0].address");
}

static void test_error_real_service_key_in_file(void **state)
{
	(void)state;
	/* Regression (was a bug): lib/config_service.c lb_real_from_json allows a "service" key (it is part of the
	 * real.add RPC params) and config parsing reuses it, so in the config file
	 * {"services":[{"vip":"10.0.0.1","port":80,"proto":"tcp","reals":[{"ip":"10.0.0.5",
	 * "service":{"vip":"10.9.9.9"}}]}]} is accepted and the "service" value silently ignored,
	 * although docs/config.md lists only ip, port, weight, forward and says unknown keys are
	 * rejected. Expected: "services[0].reals[0].service: unknown key". */
	expect_error("{\"services\": [{\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\","
		     " \"reals\": [{\"ip\": \"10.0.0.5\", \"service\": {\"vip\": \"10.9.9.9\"}}]}]}",
		     "services[0].reals[0].service");
}

static void test_error_dataplane_bounds(void **state)
{
	struct lb_config c;

	(void)state;
	expect_error("{\"dataplane\": {\"flow_capacity\": 1023}}", "dataplane.flow_capacity");
	expect_error("{\"dataplane\": {\"flow_capacity\": 0}}", "dataplane.flow_capacity");
	expect_error("{\"dataplane\": {\"flow_capacity\": 1.5e6}}", "dataplane.flow_capacity");
	expect_error("{\"dataplane\": {\"flow_capacity_v6\": 1023}}", "dataplane.flow_capacity_v6");
	expect_error("{\"dataplane\": {\"flow_capacity_v6\": 67108865}}",
		     "dataplane.flow_capacity_v6");
	expect_error("{\"dataplane\": {\"rx_descriptors\": 32769}}", "dataplane.rx_descriptors");
	expect_error("{\"dataplane\": {\"max_services\": 0}}", "dataplane.max_services");
	expect_error("{\"rpc\": {\"max_clients\": 0}}", "rpc.max_clients");
	expect_error("{\"rpc\": {\"idle_timeout_s\": 0}}", "rpc.idle_timeout_s");
	expect_error("{\"rpc\": {\"socket\": \"\"}}", "rpc.socket");
	expect_error("{\"timeouts\": {\"tcp\": 0}}", "timeouts.tcp");
	expect_error("{\"neighbours\": {\"refresh\": 0}}", "neighbours.refresh");
	expect_error("{\"eal\": [\"-l\", 1]}", "eal[1]");
	expect_error("{\"eal\": \"-l 0\"}", "eal");
	expect_error("{\"neighbours\": {\"static\": [{\"ip\": \"10.0.0.1\", \"mac\": \"02:00:00:00:00\"}]}}",
		     "neighbours.static[0].mac");
	expect_error("[]", "object");
	/* the bounds themselves are accepted */
	parse_ok("{\"dataplane\": {\"flow_capacity\": 1024, \"idle_sleep_us\": 0}}", &c);
	assert_int_equal(c.flow_capacity, 1024);
	lb_config_free(&c);
	/* more services than the dataplane holds */
	expect_error("{\"dataplane\": {\"max_services\": 1}, \"services\": ["
		     " {\"vip\": \"10.0.0.1\", \"port\": 80, \"proto\": \"tcp\"},"
		     " {\"vip\": \"10.0.0.1\", \"port\": 81, \"proto\": \"tcp\"}]}",
		     "max_services");
}

/* A fresh private directory for file tests; the caller removes it. */
static void make_temp_dir(char *dir, size_t len)
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, len, "%s/lb-config-test.XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Number of directory entries other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_load_file_syntax_error(void **state)
{
	char dir[256], path[512], err[LB_ERR_LEN] = "", want[600];
	struct lb_config c;

	(void)state;
	make_temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/broken.json", dir);
	/* the error is on line 3: a missing value before '}' */
	write_file(path, "{\n  \"rpc\": {\n    \"socket\": }\n}\n");
	assert_int_equal(lb_config_load_file(path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3:", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, want);
	/* file:line:col: a column number follows */
	const char *col = err + strlen(want);
	assert_true(*col >= '0' && *col <= '9');
	while (*col >= '0' && *col <= '9')
		col++;
	assert_int_equal(*col, ':');
	unlink(path);

	/* duplicate keys are a syntax error too (a typo must not silently win) */
	write_file(path, "{\"rpc\": {\"max_clients\": 1, \"max_clients\": 2}}");
	assert_int_equal(lb_config_load_file(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));

	/* a semantic error names the file and the key path */
	write_file(path, "{\"dataplane\": {\"flow_capacity\": 1}}");
	assert_int_equal(lb_config_load_file(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "dataplane.flow_capacity"));

	/* a missing file */
	unlink(path);
	assert_int_equal(lb_config_load_file(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));

	/* and a good one */
	write_file(path, full_doc);
	assert_int_equal(lb_config_load_file(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_services, 4);
	lb_config_free(&c);
	unlink(path);
	rmdir(dir);
}

static void test_save_file(void **state)
{
	char dir[256], path[512], bad[600], err[LB_ERR_LEN] = "";
	struct lb_config c, loaded;
	struct stat st;
	long written;

	(void)state;
	make_temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/lb.json", dir);
	parse_ok(full_doc, &c);

	written = lb_config_save_file(&c, path, err, sizeof(err));
	if (written < 0)
		fail_msg("save failed: %s", err);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(written, st.st_size);
	assert_int_equal(count_entries(dir), 1); /* no temporary file left */
	assert_int_equal(lb_config_load_file(path, &loaded, err, sizeof(err)), 0);
	assert_config_json_equal(&c, &loaded);
	lb_config_free(&loaded);

	/* saving again replaces the file */
	c.flow_capacity = 2048;
	assert_true(lb_config_save_file(&c, path, err, sizeof(err)) > 0);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(lb_config_load_file(path, &loaded, err, sizeof(err)), 0);
	assert_int_equal(loaded.flow_capacity, 2048);
	assert_config_json_equal(&c, &loaded);
	lb_config_free(&loaded);

	/* a directory that does not exist: -1 with an error, nothing written */
	snprintf(bad, sizeof(bad), "%s/missing/lb.json", dir);
	err[0] = '\0';
	assert_int_equal(lb_config_save_file(&c, bad, err, sizeof(err)), -1);
	assert_true(strlen(err) > 0);
	assert_int_equal(count_entries(dir), 1);

	lb_config_free(&c);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_clone_deep_copy(void **state)
{
	struct lb_config c, copy;
	json_t *before, *after;

	(void)state;
	parse_ok(full_doc, &c);
	c.services[0].id = 7;
	c.services[0].reals[1].id = 3;
	c.services[0].reals[1].gen = 9;
	before = lb_config_to_json(&c);

	assert_int_equal(lb_config_clone(&c, &copy), 0);
	assert_config_json_equal(&c, &copy);
	/* runtime ids are copied too */
	assert_int_equal(copy.services[0].id, 7);
	assert_int_equal(copy.services[0].reals[1].id, 3);
	assert_int_equal(copy.services[0].reals[1].gen, 9);
	/* nothing is shared */
	assert_ptr_not_equal(copy.services, c.services);
	assert_ptr_not_equal(copy.services[0].reals, c.services[0].reals);
	assert_ptr_not_equal(copy.eal_argv, c.eal_argv);
	assert_ptr_not_equal(copy.eal_argv[0], c.eal_argv[0]);
	assert_ptr_not_equal(copy.ports, c.ports);
	assert_ptr_not_equal(copy.static_neigh, c.static_neigh);
	assert_null(copy.eal_argv[copy.eal_argc]);

	/* mutate the clone everywhere */
	copy.services[0].reals[0].weight = 77;
	lb_service_remove_real(&copy.services[0], 2);
	copy.eal_argv[0][1] = 'X';
	copy.ports[0].prefix_len = 8;
	copy.static_neigh[0].mac[0] = 0xee;
	lb_config_remove_service(&copy, 1);
	snprintf(copy.rpc_socket, sizeof(copy.rpc_socket), "/elsewhere");

	after = lb_config_to_json(&c);
	assert_true(json_equal(before, after));
	assert_int_equal(c.services[0].reals[0].weight, 1);
	assert_int_equal(c.services[0].n_reals, 3);
	assert_string_equal(c.eal_argv[0], "-l");
	json_decref(after);

	/* freeing the original leaves the clone intact */
	lb_config_free(&c);
	assert_int_equal(copy.n_services, 3);
	assert_int_equal(copy.services[0].reals[0].weight, 77);
	lb_config_free(&copy);
	json_decref(before);

	/* cloning an empty configuration */
	lb_config_init_defaults(&c);
	assert_int_equal(lb_config_clone(&c, &copy), 0);
	assert_config_json_equal(&c, &copy);
	lb_config_free(&copy);
	lb_config_free(&c);
}

static void test_service_helpers(void **state)
{
	struct lb_config c;
	struct lb_addr vip;

	(void)state;
	parse_ok(full_doc, &c);
	assert_int_equal(lb_addr_parse("10.0.0.100", &vip), 0);
	assert_int_equal(lb_config_find_service(&c, &vip, 80, IPPROTO_TCP), 0);
	assert_int_equal(lb_config_find_service(&c, &vip, 53, IPPROTO_UDP), 1);
	assert_int_equal(lb_config_find_service(&c, &vip, 53, IPPROTO_TCP), -1);
	struct lb_addr real;
	assert_int_equal(lb_addr_parse("10.0.0.12", &real), 0);
	assert_int_equal(lb_service_find_real(&c.services[0], &real, 8081), 1);
	assert_int_equal(lb_service_find_real(&c.services[0], &real, 80), -1);
	assert_string_equal(lb_proto_name(IPPROTO_TCP), "tcp");
	assert_string_equal(lb_proto_name(IPPROTO_UDP), "udp");
	assert_string_equal(lb_proto_name(IPPROTO_ICMP), "?");
	assert_string_equal(lb_forward_name(LB_FWD_DR), "dr");
	assert_null(lb_forward_name(LB_FWD_COUNT));
	assert_string_equal(lb_forward_display_name(LB_FWD_DR), "Route");
	assert_string_equal(lb_forward_display_name(LB_FWD_TUN), "Tunnel");
	assert_string_equal(lb_forward_display_name(LB_FWD_NAT), "Masq");
	assert_string_equal(lb_forward_display_name(LB_FWD_FNAT), "FullNat");
	assert_string_equal(lb_forward_name(LB_FWD_FNAT), "fnat");
	assert_string_equal(lb_forward_name(LB_FWD_LOCAL), "local");
	assert_int_equal(lb_forward_method_find("local"), -1); /* not a forward one can write */
	lb_config_free(&c);
}


/* fallback {"local": true}: the appliance's holding page, parsed, written back, shared by clones. */
static void test_local_fallback(void **state)
{
	static const char doc[] =
		"{\"ports\": [{\"address\": \"10.0.0.2/24\"}], \"services\": ["
		"{\"vip\": \"10.0.0.100\", \"port\": 80, \"proto\": \"tcp\", \"reals\": [{\"ip\": \"10.0.0.11\"}],"
		" \"fallback\": {\"local\": true, \"page\": \"<html>back soon</html>\"}},"
		"{\"vip\": \"10.0.0.101\", \"port\": 80, \"proto\": \"tcp\", \"fallback\": {\"local\": true}}]}";
	struct lb_config c, copy, again;
	size_t len;

	(void)state;
	parse_ok(doc, &c);
	assert_int_equal(lb_config_validate(&c, NULL, 0), LB_VALID);
	const struct lb_service_cfg *s = &c.services[0];
	assert_true(lb_service_fallback_is_local(s));
	assert_int_equal(s->fallback.forward, LB_FWD_LOCAL);
	assert_true(lb_addr_equal(&s->fallback.ip, &s->vip));
	assert_int_equal(s->fallback.port, 80);
	assert_string_equal(lb_service_fallback_page(s, &len), "<html>back soon</html>");
	assert_int_equal(len, strlen("<html>back soon</html>"));
	/* no page: the default one, written back as it is served */
	assert_non_null(strstr(lb_service_fallback_page(&c.services[1], &len), "temporarily"));

	json_t *j = lb_config_to_json(&c);
	json_t *fb = json_object_get(json_array_get(json_object_get(j, "services"), 0), "fallback");
	assert_true(json_is_true(json_object_get(fb, "local")));
	assert_string_equal(json_string_value(json_object_get(fb, "page")), "<html>back soon</html>");
	assert_int_equal(json_object_size(fb), 2);
	char *text = json_dumps(j, 0);
	parse_ok(text, &again);
	assert_config_json_equal(&c, &again);
	free(text);
	json_decref(j);
	lb_config_free(&again);

	/* clones share the page by reference; each frees its own (ASan checks the counts) */
	assert_int_equal(lb_config_clone(&c, &copy), 0);
	assert_ptr_equal(copy.services[0].fallback_page, c.services[0].fallback_page);
	lb_config_free(&c);
	assert_string_equal(lb_service_fallback_page(&copy.services[0], &len), "<html>back soon</html>");
	/* fallback null removes the page with the fallback */
	json_t *none = load_json("{\"fallback\": null}");
	assert_int_equal(lb_service_fallback_from_json(none, "params", &copy.services[0], NULL, 0), 0);
	assert_false(copy.services[0].has_fallback);
	assert_null(copy.services[0].fallback_page);
	json_decref(none);
	lb_config_free(&copy);

#define SVC_LOCAL(fb) "{\"ports\": [{\"address\": \"10.0.0.2/24\"}], \"services\": [{\"vip\": " \
	"\"10.0.0.100\", \"port\": 80, \"proto\": \"tcp\", \"fallback\": " fb "}]}"
	expect_error(SVC_LOCAL("{\"local\": false}"), "services[0].fallback.local: must be true");
	expect_error(SVC_LOCAL("{\"local\": true, \"ip\": \"10.0.0.9\"}"),
		     "services[0].fallback.ip: unknown key");
	expect_error(SVC_LOCAL("{\"local\": true, \"page\": 5}"),
		     "services[0].fallback.page: must be a string of 1-65536 bytes");
	expect_error(SVC_LOCAL("{\"local\": true, \"page\": \"\"}"), "services[0].fallback.page");
	/* "local" is no forward a real (or a server fallback) can name */
	expect_error(SVC_LOCAL("{\"ip\": \"10.0.0.9\", \"forward\": \"local\"}"),
		     "services[0].fallback.forward: must be one of: dr, tun, nat, fnat");
#undef SVC_LOCAL
	char *big = malloc(LB_FALLBACK_PAGE_MAX + 200);
	int n = snprintf(big, 200, "{\"ports\": [{\"address\": \"10.0.0.2/24\"}], \"services\": [{\"vip\": "
			 "\"10.0.0.100\", \"port\": 80, \"proto\": \"tcp\", \"fallback\": {\"local\": true, \"page\": \"");
	memset(big + n, 'x', LB_FALLBACK_PAGE_MAX + 1);
	strcpy(big + n + LB_FALLBACK_PAGE_MAX + 1, "\"}}]}");
	expect_error(big, "services[0].fallback.page: must be a string of 1-65536 bytes");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_struct),
		cmocka_unit_test(test_defaults_match_docs),
		cmocka_unit_test(test_service_and_real_defaults),
		cmocka_unit_test(test_full_roundtrip),
		cmocka_unit_test(test_error_unknown_keys),
		cmocka_unit_test(test_error_ports),
		cmocka_unit_test(test_error_service_fields),
		cmocka_unit_test(test_error_sched_options),
		cmocka_unit_test(test_error_duplicates),
		cmocka_unit_test(test_error_reals),
		cmocka_unit_test(test_error_ports_address),
		cmocka_unit_test(test_error_ports_address_without_prefix),
		cmocka_unit_test(test_error_real_service_key_in_file),
		cmocka_unit_test(test_error_dataplane_bounds),
		cmocka_unit_test(test_kernel_interface),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_load_file_syntax_error),
		cmocka_unit_test(test_save_file),
		cmocka_unit_test(test_clone_deep_copy),
		cmocka_unit_test(test_service_helpers),
		cmocka_unit_test(test_local_fallback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
