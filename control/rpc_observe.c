/* stats.protocol (netstat -s), stats.ports (netstat -i) and stats.history (the charts' data). */
#include <stdbool.h>
#include <stddef.h>

#include <rte_ether.h>

#include "bond_json.h"
#include "dataplane.h"
#include "config_store.h"
#include "rate_history.h"
#include "rpc_methods.h"

/* ICMP / ICMPv6 type names for the histograms (RFC 792, RFC 4443, RFC 4861). */
static const char *icmp_type_name(int family_index, unsigned type)
{
	static const char *const v4[] = {[0] = "echo_reply", [3] = "destination_unreachable",
		[4] = "source_quench", [5] = "redirect", [8] = "echo_request",
		[9] = "router_advertisement", [10] = "router_solicitation", [11] = "time_exceeded",
		[12] = "parameter_problem", [13] = "timestamp", [14] = "timestamp_reply"};
	static const char *const v6[] = {[1] = "destination_unreachable", [2] = "packet_too_big",
		[3] = "time_exceeded", [4] = "parameter_problem", [128] = "echo_request",
		[129] = "echo_reply", [133] = "router_solicitation", [134] = "router_advertisement",
		[135] = "neighbor_solicitation", [136] = "neighbor_advertisement", [137] = "redirect"};
	const char *n = NULL;

	if (family_index == LB_FAMILY_IPV4 && type < sizeof(v4) / sizeof(v4[0]))
		n = v4[type];
	else if (family_index == LB_FAMILY_IPV6 && type < sizeof(v6) / sizeof(v6[0]))
		n = v6[type];
	return n != NULL ? n : "other";
}

/* [{"type", "name", "count"}] for every type seen, and their sum in *total. */
static json_t *icmp_histogram(int family_index, const uint64_t counts[256], uint64_t *total)
{
	json_t *a = json_array();

	*total = 0;
	for (unsigned t = 0; t < 256; t++) {
		if (counts[t] == 0)
			continue;
		*total += counts[t];
		json_array_append_new(a, json_pack("{s:i, s:s, s:I}", "type", (int)t, "name",
						   icmp_type_name(family_index, t), "count",
						   (json_int_t)counts[t]));
	}
	return a;
}

static json_t *family_stats(int fi, const struct lb_protocol_stats *p)
{
	uint64_t in_total, out_total;
	json_t *in = icmp_histogram(fi, p->icmp_in, &in_total);
	json_t *out = icmp_histogram(fi, p->icmp_out, &out_total);

	return json_pack(
		"{s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:o, s:o},"
		" s:{s:I, s:I, s:I}, s:{s:I}}",
		"ip", "received", (json_int_t)p->received, "forwarded", (json_int_t)p->forwarded,
		"to_exception", (json_int_t)p->to_exception, "fragments", "reassembled",
		(json_int_t)p->reassembled, "failed", (json_int_t)p->reassembly_failed, "timed_out",
		(json_int_t)p->reassembly_timed_out, "icmp", "in", (json_int_t)in_total, "out",
		(json_int_t)out_total, "in_types", in, "out_types", out, "tcp", "new_connections",
		(json_int_t)p->tcp_new, "resets_received", (json_int_t)p->tcp_resets,
		"invalid_segments", (json_int_t)p->tcp_invalid, "udp", "datagrams_received",
		(json_int_t)p->udp_datagrams);
}

static json_t *stats_protocol(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};
	struct lb_worker_stats ws;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	stats_workers(&ws);
	return json_pack("{s:o, s:o}", "ipv4", family_stats(LB_FAMILY_IPV4, &ws.protocol[0]), "ipv6",
			 family_stats(LB_FAMILY_IPV6, &ws.protocol[1]));
}

static void add_xstat(const char *name, uint64_t value, void *arg)
{
	json_object_set_new(arg, name, json_integer((json_int_t)value));
}

static json_t *port_json(uint16_t i, bool xstats)
{
	const struct lb_port *lp = &lb_rt.ports[i];
	struct lb_port_stats s;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	json_t *o;

	rte_ether_format_addr(mac, sizeof(mac), &lp->mac);
	if (port_stats_get(i, &s) != 0)
		return json_pack("{s:i, s:s, s:s, s:s}", "index", (int)i, "name", lp->name, "mac", mac,
				 "error", "the driver gave no statistics");
	o = json_pack("{s:i, s:s, s:s, s:{s:b, s:i, s:s}, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		      "index", (int)i, "name", lp->name, "mac", mac, "link", "up", s.link_up,
		      "speed_mbps", (int)s.link_speed_mbps, "duplex", s.full_duplex ? "full" : "half",
		      "rx_packets", (json_int_t)s.rx_packets, "tx_packets", (json_int_t)s.tx_packets,
		      "rx_bytes", (json_int_t)s.rx_bytes, "tx_bytes", (json_int_t)s.tx_bytes,
		      "rx_errors", (json_int_t)s.rx_errors, "tx_errors", (json_int_t)s.tx_errors,
		      "rx_missed", (json_int_t)s.rx_missed, "rx_no_mbuf", (json_int_t)s.rx_no_mbuf);
	json_t *bond = bond_json(i);
	if (bond != NULL)
		json_object_set_new(o, "bond", bond);
	if (xstats) {
		json_t *x = json_object();
		if (port_stats_xstats(i, add_xstat, x) < 0)
			json_object_set_new(o, "xstats_error",
					    json_string("the driver gave no extended statistics"));
		json_object_set_new(o, "xstats", x);
	}
	return o;
}

static json_t *stats_ports(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"xstats", "port", NULL};
	json_t *v, *ports;
	bool xstats = false;
	int only = -1;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	v = json_object_get(params, "xstats");
	if (v != NULL) {
		if (!json_is_boolean(v))
			return rpc_fail(err, JSONRPC_INVALID_PARAMS, "params.xstats: must be true or false");
		xstats = json_is_true(v);
	}
	v = json_object_get(params, "port");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= lb_rt.n_ports)
			return rpc_fail(err, JSONRPC_INVALID_PARAMS,
					"params.port: must be a port index 0-%d", (int)lb_rt.n_ports - 1);
		only = (int)json_integer_value(v);
	}
	ports = json_array();
	for (uint16_t i = 0; i < lb_rt.n_ports; i++)
		if (only < 0 || only == i)
			json_array_append_new(ports, port_json(i, xstats));
	return json_pack("{s:o}", "ports", ports);
}

/* The history's scope from params.service: -1 (global) or a service id; -2 with err set. */
static int history_scope(json_t *params, struct rpc_error *err)
{
	json_t *key = json_object_get(params, "service");

	if (key == NULL || json_is_null(key))
		return -1;
	if (!json_is_object(key)) {
		rpc_fail(err, JSONRPC_INVALID_PARAMS,
			 "params.service: must be a service key {\"vip\", \"port\", \"proto\"}");
		return -2;
	}
	const struct lb_config *c = config_store_running();
	int idx = rpc_find_service(c, key, "params.service", err);
	return idx < 0 ? -2 : (int)c->services[idx].id;
}

static json_t *stats_history(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"service", "resolution", "limit", NULL};
	static struct rate_history_point points[RATE_HISTORY_SECONDS];
	unsigned resolution = 1;
	size_t limit = RATE_HISTORY_SECONDS;
	json_t *v;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	int scope = history_scope(params, err);
	if (scope == -2)
		return NULL;
	v = json_object_get(params, "resolution");
	if (v != NULL) {
		if (!json_is_integer(v) || (json_integer_value(v) != 1 && json_integer_value(v) != 60))
			return rpc_fail(err, JSONRPC_INVALID_PARAMS,
					"params.resolution: must be 1 (per second, the last hour) or "
					"60 (per minute, the last day)");
		resolution = (unsigned)json_integer_value(v);
	}
	size_t most = resolution == 1 ? RATE_HISTORY_SECONDS : RATE_HISTORY_MINUTES;
	limit = most;
	v = json_object_get(params, "limit");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > (json_int_t)most)
			return rpc_fail(err, JSONRPC_INVALID_PARAMS,
					"params.limit: must be 1-%zu at resolution %u", most,
					resolution);
		limit = (size_t)json_integer_value(v);
	}
	size_t n = rate_history_read(scope, resolution, points, limit);
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct rate_history_point *p = &points[i];
		json_array_append_new(rows, json_pack("[I, f, f, f, f, f, f, f]", (json_int_t)p->t,
						      p->conns, p->cps, p->inpps, p->outpps, p->inbps,
						      p->outbps, p->drops));
	}
	return json_pack("{s:i, s:[s, s, s, s, s, s, s, s], s:o}", "resolution", (int)resolution,
			 "fields", "t", "conns", "cps", "inpps", "outpps", "inbps", "outbps", "drops",
			 "points", rows);
}

const struct rpc_method rpc_observe_methods[] = {
	{"stats.protocol", stats_protocol},
	{"stats.ports", stats_ports},
	{"stats.history", stats_history},
	{NULL, NULL},
};
