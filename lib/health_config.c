/* Check and agent objects: parsing with defaults, normalised output (see health_config.h). */
#include "health_config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

static const char *const check_type_names[LB_CHECK_TYPE_COUNT] = {
	[LB_CHECK_CONNECT] = "connect", [LB_CHECK_NEGOTIATE] = "negotiate",
	[LB_CHECK_PING] = "ping",	[LB_CHECK_EXTERNAL] = "external",
	[LB_CHECK_ON] = "on",		[LB_CHECK_OFF] = "off",
};
static const char *const admin_names[LB_ADMIN_COUNT] = {
	[LB_ADMIN_ONLINE] = "online", [LB_ADMIN_DRAIN] = "drain", [LB_ADMIN_OFFLINE] = "offline"};
static const char *const agent_names[LB_AGENT_TYPE_COUNT] = {
	[LB_AGENT_NONE] = "none", [LB_AGENT_LVS] = "agent", [LB_AGENT_HTTP] = "http",
	[LB_AGENT_HAPROXY] = "haproxy"};

static const struct {
	const char *name;
	uint16_t type;
} dns_types[] = {{"A", 1},   {"NS", 2},	  {"CNAME", 5}, {"SOA", 6},
		 {"PTR", 12}, {"MX", 15}, {"TXT", 16},  {"AAAA", 28}};

#define SECONDS_MIN_MS 10u
#define SECONDS_MAX_MS 86400000u

const char *lb_check_type_name(uint8_t type)
{
	return type < LB_CHECK_TYPE_COUNT ? check_type_names[type] : "?";
}

const char *lb_admin_state_name(uint8_t state)
{
	return state < LB_ADMIN_COUNT ? admin_names[state] : NULL;
}

int lb_admin_state_find(const char *name)
{
	for (int i = 0; i < LB_ADMIN_COUNT; i++)
		if (strcmp(admin_names[i], name) == 0)
			return i;
	return -1;
}

const char *lb_agent_type_name(uint8_t type)
{
	return type < LB_AGENT_TYPE_COUNT ? agent_names[type] : "?";
}

/* The member key of over if present, else of base. */
static json_t *member(const json_t *base, const json_t *over, const char *key)
{
	json_t *v = over != NULL ? json_object_get(over, key) : NULL;

	return v != NULL ? v : base != NULL ? json_object_get(base, key) : NULL;
}

static int get_string(const json_t *base, const json_t *over, const char *key, const char *path,
		      char *out, size_t size, char *err, size_t errlen)
{
	json_t *v = member(base, over, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return lb_err(err, errlen, "%s.%s: must be a string", path, key);
	if (json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v))
		return lb_err(err, errlen, "%s.%s: must be a string of at most %zu bytes without NUL",
			      path, key, size - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* Seconds (integer or decimal) into milliseconds, within [SECONDS_MIN_MS, SECONDS_MAX_MS]. */
static int get_seconds(const json_t *base, const json_t *over, const char *key, const char *path,
		       uint32_t *ms, char *err, size_t errlen)
{
	json_t *v = member(base, over, key);

	if (v == NULL)
		return 0;
	if (!json_is_number(v))
		return lb_err(err, errlen, "%s.%s: must be a number of seconds", path, key);
	double s = json_number_value(v);
	if (!(s * 1000.0 >= SECONDS_MIN_MS && s * 1000.0 <= SECONDS_MAX_MS))
		return lb_err(err, errlen, "%s.%s: must be 0.01-86400 seconds", path, key);
	*ms = (uint32_t)(s * 1000.0 + 0.5);
	return 0;
}

static int get_uint(const json_t *base, const json_t *over, const char *key, const char *path,
		    uint32_t min, uint32_t max, uint32_t *out, char *err, size_t errlen)
{
	json_t *v = member(base, over, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return lb_err(err, errlen, "%s.%s: must be an integer %u-%u", path, key, min, max);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int get_bool(const json_t *base, const json_t *over, const char *key, const char *path,
		    bool *out, char *err, size_t errlen)
{
	json_t *v = member(base, over, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return lb_err(err, errlen, "%s.%s: must be true or false", path, key);
	*out = json_is_true(v);
	return 0;
}

int lb_check_parse_status(const char *s, struct lb_check_cfg *c)
{
	const char *p = s;

	c->n_status = 0;
	while (*p != '\0') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		if (end == p || c->n_status == CHECK_MAX_STATUS_RANGES)
			return -1;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p)
				return -1;
		}
		if (lo < 100 || hi > 599 || lo > hi || (*end != ',' && *end != '\0'))
			return -1;
		c->status_lo[c->n_status] = (uint16_t)lo;
		c->status_hi[c->n_status++] = (uint16_t)hi;
		p = *end == ',' ? end + 1 : end;
	}
	return c->n_status == 0 ? -1 : 0;
}

static int parse_type(const json_t *v, const char *path, struct lb_check_cfg *out, char *err,
		      size_t errlen)
{
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 1 || json_integer_value(v) > 1000)
			return lb_err(err, errlen, "%s.type: a number of connect checks must be 1-1000",
				      path);
		out->type = LB_CHECK_NEGOTIATE;
		out->connects_first = (uint32_t)json_integer_value(v);
		return 0;
	}
	for (uint8_t t = 0; json_is_string(v) && t < LB_CHECK_TYPE_COUNT; t++)
		if (strcmp(json_string_value(v), check_type_names[t]) == 0) {
			out->type = t;
			out->connects_first = 0;
			return 0;
		}
	return lb_err(err, errlen,
		      "%s.type: must be connect, negotiate, ping, external, on, off or a number N "
		      "(N connect checks, then one negotiate)", path);
}

static int parse_enums(const json_t *base, const json_t *over, const char *path,
		       struct lb_check_cfg *out, char *err, size_t errlen)
{
	json_t *v = member(base, over, "protocol");

	if (v != NULL) {
		const char *s = json_is_string(v) ? json_string_value(v) : "?";
		if (strcmp(s, "tcp") == 0)
			out->protocol = IPPROTO_TCP;
		else if (strcmp(s, "udp") == 0)
			out->protocol = IPPROTO_UDP;
		else if (strcmp(s, "") == 0)
			out->protocol = 0;
		else
			return lb_err(err, errlen, "%s.protocol: must be \"tcp\", \"udp\" or \"\"", path);
	}
	if (strcmp(out->method, "GET") != 0 && strcmp(out->method, "HEAD") != 0)
		return lb_err(err, errlen, "%s.method: must be GET or HEAD", path);
	if (out->service[0] != '\0' && check_proto_find(out->service) == NULL)
		return lb_err(err, errlen, "%s.service: must be one of: %s", path, check_proto_names());
	if (lb_check_parse_status(out->status, out) != 0)
		return lb_err(err, errlen,
			      "%s.status: must be status codes or ranges 100-599, e.g. \"200-299,301\" "
			      "(at most %u)", path, CHECK_MAX_STATUS_RANGES);
	out->dns_type = 0;
	for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (strcasecmp(out->query_type, dns_types[i].name) == 0)
			out->dns_type = dns_types[i].type;
	if (out->dns_type == 0) {
		char *end;
		unsigned long n = strtoul(out->query_type, &end, 10);
		if (end == out->query_type || *end != '\0' || n < 1 || n > 65535)
			return lb_err(err, errlen,
				      "%s.query_type: must be A, AAAA, NS, CNAME, SOA, PTR, MX, TXT or "
				      "a number 1-65535", path);
		out->dns_type = (uint16_t)n;
	}
	return 0;
}

static void check_defaults(struct lb_check_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->type = LB_CHECK_NEGOTIATE; /* ldirectord's default checktype */
	c->interval_ms = 10000;
	c->timeout_ms = 5000;
	c->negotiate_timeout_ms = 30000;
	c->failures = 1;
	c->successes = 1;
	c->quiescent = true;
	strcpy(c->request, "/");
	strcpy(c->method, "GET");
	strcpy(c->status, "200-299");
	strcpy(c->query_type, "A");
}

int lb_check_from_json(const json_t *base, const json_t *over, const char *path,
		       struct lb_check_cfg *out, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"type",	    "service", "protocol", "port",   "interval", "timeout", "negotiate_timeout",
		"failures", "successes", "quiescent", "request", "method", "host", "status",
		"receive",  "receive_regex", "verify", "ca_file", "login", "password", "database",
		"query_type", "command", "notify", NULL};
	uint32_t port = 0;

	check_defaults(out);
	if ((base != NULL && !json_is_object(base)) || (over != NULL && !json_is_object(over)))
		return lb_err(err, errlen, "%s: must be an object", path);
	if ((base != NULL && lb_json_check_keys(base, path, keys, err, errlen) != 0) ||
	    (over != NULL && lb_json_check_keys(over, path, keys, err, errlen) != 0))
		return -1;
	if (parse_type(member(base, over, "type"), path, out, err, errlen) != 0 ||
	    get_string(base, over, "service", path, out->service, sizeof(out->service), err, errlen) ||
	    get_uint(base, over, "port", path, 0, 65535, &port, err, errlen) ||
	    get_seconds(base, over, "interval", path, &out->interval_ms, err, errlen) ||
	    get_seconds(base, over, "timeout", path, &out->timeout_ms, err, errlen) ||
	    get_seconds(base, over, "negotiate_timeout", path, &out->negotiate_timeout_ms, err,
			errlen) ||
	    get_uint(base, over, "failures", path, 1, 1000, &out->failures, err, errlen) ||
	    get_uint(base, over, "successes", path, 1, 1000, &out->successes, err, errlen) ||
	    get_bool(base, over, "quiescent", path, &out->quiescent, err, errlen) ||
	    get_bool(base, over, "verify", path, &out->verify, err, errlen))
		return -1;
	struct {
		const char *key;
		char *dst;
		size_t size;
	} strs[] = {
		{"request", out->request, sizeof(out->request)},
		{"method", out->method, sizeof(out->method)},
		{"host", out->host, sizeof(out->host)},
		{"status", out->status, sizeof(out->status)},
		{"receive", out->receive, sizeof(out->receive)},
		{"receive_regex", out->receive_regex, sizeof(out->receive_regex)},
		{"ca_file", out->ca_file, sizeof(out->ca_file)},
		{"login", out->login, sizeof(out->login)},
		{"password", out->password, sizeof(out->password)},
		{"database", out->database, sizeof(out->database)},
		{"query_type", out->query_type, sizeof(out->query_type)},
		{"command", out->command, sizeof(out->command)},
		{"notify", out->notify, sizeof(out->notify)},
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (get_string(base, over, strs[i].key, path, strs[i].dst, strs[i].size, err, errlen))
			return -1;
	out->port = (uint16_t)port;
	return parse_enums(base, over, path, out, err, errlen);
}

json_t *lb_check_to_json(const struct lb_check_cfg *c)
{
	json_t *type = c->connects_first ? json_integer(c->connects_first)
					 : json_string(lb_check_type_name(c->type));
	const char *proto = c->protocol == IPPROTO_TCP ? "tcp" : c->protocol == IPPROTO_UDP ? "udp" : "";

	return json_pack("{s:o, s:s, s:s, s:I, s:f, s:f, s:f, s:I, s:I, s:b, s:s, s:s, s:s, s:s, "
			 "s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "type", type, "service", c->service, "protocol", proto, "port",
			 (json_int_t)c->port, "interval", c->interval_ms / 1000.0, "timeout",
			 c->timeout_ms / 1000.0, "negotiate_timeout", c->negotiate_timeout_ms / 1000.0,
			 "failures", (json_int_t)c->failures, "successes", (json_int_t)c->successes,
			 "quiescent", c->quiescent, "request", c->request, "method", c->method, "host",
			 c->host, "status", c->status, "receive", c->receive, "receive_regex",
			 c->receive_regex, "verify", c->verify, "ca_file", c->ca_file, "login",
			 c->login, "password", c->password, "database", c->database, "query_type",
			 c->query_type, "command", c->command, "notify", c->notify);
}

int lb_agent_from_json(const json_t *obj, const char *path, struct lb_agent_cfg *out, char *err,
		       size_t errlen)
{
	static const char *const keys[] = {"type", "port", "interval", "timeout", "send", NULL};
	uint32_t port = 3333;
	json_t *v;

	memset(out, 0, sizeof(*out));
	out->timeout_ms = 5000;
	if (!json_is_object(obj))
		return lb_err(err, errlen, "%s: must be an object", path);
	if (lb_json_check_keys(obj, path, keys, err, errlen) != 0)
		return -1;
	v = json_object_get(obj, "type");
	if (v != NULL) {
		int found = -1;
		for (int t = 0; json_is_string(v) && t < LB_AGENT_TYPE_COUNT; t++)
			if (strcmp(json_string_value(v), agent_names[t]) == 0)
				found = t;
		if (found < 0)
			return lb_err(err, errlen, "%s.type: must be none, agent, http or haproxy", path);
		out->type = (uint8_t)found;
	}
	/* HAProxy's agent-inter is 2 s; ldirectord-era agents are polled every 10 s. */
	out->interval_ms = out->type == LB_AGENT_HAPROXY ? 2000 : 10000;
	if (get_uint(obj, NULL, "port", path, 1, 65535, &port, err, errlen) ||
	    get_seconds(obj, NULL, "interval", path, &out->interval_ms, err, errlen) ||
	    get_seconds(obj, NULL, "timeout", path, &out->timeout_ms, err, errlen) ||
	    get_string(obj, NULL, "send", path, out->send, sizeof(out->send), err, errlen))
		return -1;
	out->port = (uint16_t)port;
	return 0;
}

json_t *lb_agent_to_json(const struct lb_agent_cfg *a)
{
	return json_pack("{s:s, s:I, s:f, s:f, s:s}", "type", lb_agent_type_name(a->type), "port",
			 (json_int_t)a->port, "interval", a->interval_ms / 1000.0, "timeout",
			 a->timeout_ms / 1000.0, "send", a->send);
}

const struct check_proto *lb_check_proto(const struct lb_check_cfg *c, uint16_t real_port)
{
	if (c->service[0] != '\0')
		return check_proto_find(c->service);
	return check_proto_for_port(c->port != 0 ? c->port : real_port);
}
