/* Services and real servers: JSON parsing, validation and serialisation shared by config and RPC. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sched_util.h"
#include "scheduler.h"

static const char *const client_addr_names[] = {[LB_CLIENT_ADDR_NONE] = "none",
						[LB_CLIENT_ADDR_TOA] = "toa"};

int lb_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int lb_json_check_keys(const json_t *obj, const char *path, const char *const *allowed, char *err,
		       size_t errlen)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)obj, key, value) {
		bool known = false;
		(void)value;
		for (const char *const *a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				known = true;
		if (!known)
			return lb_err(err, errlen, "%s.%s: unknown key", path, key);
	}
	return 0;
}

int lb_json_get_uint(const json_t *obj, const char *key, const char *path, uint64_t min,
		     uint64_t max, uint32_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return lb_err(err, errlen, "%s.%s: must be an integer %llu-%llu", path, key,
			      (unsigned long long)min, (unsigned long long)max);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

const char *lb_forward_name(uint8_t forward)
{
	const struct lb_forward_method *m = lb_forward_method_get(forward);

	return m ? m->name : NULL;
}

const char *lb_forward_display_name(uint8_t forward)
{
	const struct lb_forward_method *m = lb_forward_method_get(forward);

	return m ? m->display_name : "?";
}

const char *lb_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

static int parse_forward(const json_t *obj, const char *path, uint8_t *out, char *err,
			 size_t errlen)
{
	json_t *v = json_object_get(obj, "forward");

	if (v == NULL)
		return 0;
	int f = json_is_string(v) ? lb_forward_method_find(json_string_value(v)) : -1;

	if (f < 0)
		return lb_err(err, errlen, "%s.forward: must be one of: %s", path,
			      lb_forward_method_names());
	*out = (uint8_t)f;
	return 0;
}

bool lb_service_steers_by_client(const struct lb_service_cfg *svc)
{
	if (lb_forward_steers_by_client(svc->forward))
		return true;
	LB_SERVICE_FOREACH_DEST(svc, r)
		if (lb_forward_steers_by_client(r->forward))
			return true;
	return false;
}

int lb_service_forward_options_from_json(const json_t *obj, const char *path,
					 struct lb_service_cfg *svc, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	if (parse_forward(obj, path, &svc->forward, err, errlen) != 0)
		return -1;
	v = json_object_get(obj, "local_addresses");
	if (v != NULL) {
		json_t *a;
		if (!json_is_array(v) || json_array_size(v) > LB_MAX_LOCAL_ADDRS)
			return lb_err(err, errlen, "%s.local_addresses: must be an array of up to %d addresses",
				      path, LB_MAX_LOCAL_ADDRS);
		json_array_foreach(v, i, a) {
			struct lb_addr la;
			if (!json_is_string(a) || lb_addr_parse(json_string_value(a), &la) != 0)
				return lb_err(err, errlen, "%s.local_addresses[%zu]: must be an IPv4 or IPv6 address",
					      path, i);
			svc->local_addrs[i] = la;
		}
		svc->n_local_addrs = (uint8_t)json_array_size(v);
	}
	v = json_object_get(obj, "client_address");
	if (v != NULL) {
		for (i = 0; i < sizeof(client_addr_names) / sizeof(client_addr_names[0]); i++)
			if (json_is_string(v) && strcmp(json_string_value(v), client_addr_names[i]) == 0)
				break;
		if (i == sizeof(client_addr_names) / sizeof(client_addr_names[0]))
			return lb_err(err, errlen, "%s.client_address: must be \"none\" or \"toa\"", path);
		svc->client_addr_mode = (uint8_t)i;
	}
	return 0;
}

int lb_service_key_from_json(const json_t *obj, const char *path, struct lb_addr *vip,
			     uint16_t *port, uint8_t *proto, char *err, size_t errlen)
{
	json_t *v;
	uint32_t p = 0;

	if (!json_is_object(obj))
		return lb_err(err, errlen, "%s: must be an object with vip, port and proto", path);
	v = json_object_get(obj, "vip");
	if (!json_is_string(v) || lb_addr_parse(json_string_value(v), vip) != 0)
		return lb_err(err, errlen, "%s.vip: must be an IPv4 or IPv6 address", path);
	if (json_object_get(obj, "port") == NULL)
		return lb_err(err, errlen, "%s.port: required", path);
	if (lb_json_get_uint(obj, "port", path, 0, 65535, &p, err, errlen) != 0)
		return -1;
	*port = (uint16_t)p;
	v = json_object_get(obj, "proto");
	if (!json_is_string(v))
		return lb_err(err, errlen, "%s.proto: required, \"tcp\" or \"udp\"", path);
	if (strcmp(json_string_value(v), "tcp") == 0)
		*proto = IPPROTO_TCP;
	else if (strcmp(json_string_value(v), "udp") == 0)
		*proto = IPPROTO_UDP;
	else
		return lb_err(err, errlen, "%s.proto: must be \"tcp\" or \"udp\"", path);
	return 0;
}

int lb_real_from_json(const json_t *obj, const char *path, const struct lb_service_cfg *svc,
		      struct lb_real_cfg *real, char *err, size_t errlen)
{
	static const char *const keys[] = {"service",	  "ip",		 "port",  "weight", "forward",
					   "u_threshold", "l_threshold", "state", "check",  NULL};
	json_t *v;
	uint32_t port = svc->port, weight = 1;

	memset(real, 0, sizeof(*real));
	if (!json_is_object(obj))
		return lb_err(err, errlen, "%s: must be an object", path);
	if (lb_json_check_keys(obj, path, keys, err, errlen) != 0)
		return -1;
	v = json_object_get(obj, "ip");
	if (!json_is_string(v) || lb_addr_parse(json_string_value(v), &real->ip) != 0)
		return lb_err(err, errlen, "%s.ip: must be an IPv4 or IPv6 address", path);
	if (lb_json_get_uint(obj, "port", path, svc->port == 0 ? 0 : 1, 65535, &port, err, errlen) ||
	    lb_json_get_uint(obj, "weight", path, 0, 65535, &weight, err, errlen) != 0)
		return -1;
	if (lb_json_get_uint(obj, "u_threshold", path, 0, UINT32_MAX, &real->u_threshold, err,
			     errlen) != 0 ||
	    lb_json_get_uint(obj, "l_threshold", path, 0, UINT32_MAX, &real->l_threshold, err,
			     errlen) != 0)
		return -1;
	real->port = (uint16_t)port;
	real->weight = weight;
	real->forward = svc->forward;
	if (parse_forward(obj, path, &real->forward, err, errlen) != 0)
		return -1;
	return lb_real_health_from_json(obj, path, real, err, errlen);
}

static const struct {
	const char *name;
	uint32_t flag;
} sched_flag_names[] = {{"fallback", SCHED_FLAG_FALLBACK}, {"port", SCHED_FLAG_PORT}};

int lb_service_sched_options_from_json(const json_t *obj, const char *path,
				       struct lb_service_cfg *svc, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, "sched_flags"), *f;
	size_t i;

	if (v != NULL) {
		if (!json_is_array(v))
			return lb_err(err, errlen, "%s.sched_flags: must be an array of \"fallback\", \"port\"",
				      path);
		svc->sched_flags = 0;
		json_array_foreach(v, i, f) {
			size_t k;
			for (k = 0; k < sizeof(sched_flag_names) / sizeof(sched_flag_names[0]); k++)
				if (json_is_string(f) &&
				    strcmp(json_string_value(f), sched_flag_names[k].name) == 0)
					break;
			if (k == sizeof(sched_flag_names) / sizeof(sched_flag_names[0]))
				return lb_err(err, errlen,
					      "%s.sched_flags[%zu]: must be \"fallback\" or \"port\"", path, i);
			svc->sched_flags |= sched_flag_names[k].flag;
		}
	}
	v = json_object_get(obj, "ops");
	if (v != NULL) {
		if (!json_is_boolean(v))
			return lb_err(err, errlen, "%s.ops: must be true or false", path);
		svc->ops = json_is_true(v);
	}
	v = json_object_get(obj, "syn_proxy");
	if (v != NULL) {
		if (!json_is_boolean(v))
			return lb_err(err, errlen, "%s.syn_proxy: must be true or false", path);
		svc->syn_proxy = json_is_true(v);
	}
	if (json_object_get(obj, "mh_table_size") != NULL &&
	    lb_json_get_uint(obj, "mh_table_size", path, 3, SCHED_MH_MAX_TABLE_SIZE,
			     &svc->mh_table_size, err, errlen) != 0)
		return -1;
	return 0;
}

int lb_service_from_json(const json_t *obj, const char *path, bool with_reals,
			 struct lb_service_cfg *svc, char *err, size_t errlen)
{
	static const char *const keys[] = {"vip",	    "port",	     "proto", "scheduler",
					   "sched_flags", "mh_table_size", "ops",     "forward",
					   "reals",	  "fallback",	   "persistent", "netmask",
					   "expire_quiescent_template", "ports", "protos",
					   "local_addresses", "client_address", "check", "agent", "syn_proxy",
					   NULL};
	json_t *v;

	memset(svc, 0, sizeof(*svc));
	if (lb_service_key_from_json(obj, path, &svc->vip, &svc->port, &svc->proto, err, errlen))
		return -1;
	if (lb_json_check_keys(obj, path, keys, err, errlen) != 0)
		return -1;
	snprintf(svc->scheduler, sizeof(svc->scheduler), "wlc");
	v = json_object_get(obj, "scheduler");
	if (v != NULL) {
		if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(svc->scheduler))
			return lb_err(err, errlen, "%s.scheduler: must be a scheduler name", path);
		snprintf(svc->scheduler, sizeof(svc->scheduler), "%s", json_string_value(v));
	}
	svc->forward = LB_FWD_DR;
	svc->netmask_len = svc->vip.family == AF_INET ? 32 : 128;
	svc->expire_quiescent_template = -1;
	if (lb_service_forward_options_from_json(obj, path, svc, err, errlen) != 0 ||
	    lb_service_sched_options_from_json(obj, path, svc, err, errlen) != 0 ||
	    lb_service_persistence_from_json(obj, path, svc, err, errlen) != 0)
		return -1;
	v = json_object_get(obj, "reals");
	if (v != NULL) {
		if (!with_reals)
			return lb_err(err, errlen, "%s.reals: not accepted here; use real.add", path);
		if (!json_is_array(v))
			return lb_err(err, errlen, "%s.reals: must be an array", path);
		size_t n = json_array_size(v);
		svc->reals = n ? calloc(n, sizeof(*svc->reals)) : NULL;
		if (n && svc->reals == NULL)
			return lb_err(err, errlen, "%s.reals: out of memory", path);
		for (size_t i = 0; i < n; i++) {
			char rpath[128];
			snprintf(rpath, sizeof(rpath), "%s.reals[%zu]", path, i);
			/* "service" names the service in real.add; inside a service it is a typo. */
			if (json_object_get(json_array_get(v, i), "service") != NULL) {
				lb_err(err, errlen, "%s.service: unknown key", rpath);
				lb_service_free(svc);
				return -1;
			}
			if (lb_real_from_json(json_array_get(v, i), rpath, svc, &svc->reals[i], err,
					      errlen) != 0) {
				lb_service_free(svc);
				return -1;
			}
			svc->n_reals = (uint32_t)(i + 1);
		}
	}
	/* Rules between values are the validator's (config_validate.c), run before any commit. */
	if (lb_service_health_from_json(obj, path, svc, err, errlen) != 0 ||
	    lb_service_fallback_from_json(obj, path, svc, err, errlen) != 0) {
		lb_service_free(svc);
		return -1;
	}
	return 0;
}

/* "80", 80 or "30000-30100" into a range. */
static int parse_port_range(const json_t *v, struct lb_port_range *r)
{
	if (json_is_integer(v)) {
		json_int_t p = json_integer_value(v);
		if (p < 1 || p > 65535)
			return -1;
		r->lo = r->hi = (uint16_t)p;
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	unsigned int lo, hi;
	char tail;
	int n = sscanf(json_string_value(v), "%5u-%5u%c", &lo, &hi, &tail);
	if (n == 1)
		hi = lo;
	else if (n != 2)
		return -1;
	if (lo < 1 || hi > 65535 || lo > hi || strspn(json_string_value(v), "0123456789-") !=
						      strlen(json_string_value(v)))
		return -1;
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
}

/* A netmask as a prefix length (24) or, for IPv4, dotted ("255.255.255.0"). */
static int parse_netmask(const json_t *v, uint8_t family, uint8_t *len)
{
	unsigned int max = family == AF_INET ? 32 : 128;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > max)
			return -1;
		*len = (uint8_t)json_integer_value(v);
		return 0;
	}
	struct lb_addr m;
	if (family != AF_INET || !json_is_string(v) || lb_addr_parse(json_string_value(v), &m) != 0 ||
	    m.family != AF_INET)
		return -1;
	uint32_t bits = ntohl(m.v4), n = 0;
	while (n < 32 && (bits & (0x80000000u >> n)))
		n++;
	if (n < 32 && (bits << n) != 0)
		return -1; /* not contiguous */
	*len = (uint8_t)n;
	return 0;
}

int lb_service_persistence_from_json(const json_t *obj, const char *path,
				     struct lb_service_cfg *svc, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	if (lb_json_get_uint(obj, "persistent", path, 0, 31536000, &svc->persistent_s, err, errlen))
		return -1;
	v = json_object_get(obj, "netmask");
	if (v != NULL && parse_netmask(v, svc->vip.family, &svc->netmask_len) != 0)
		return lb_err(err, errlen,
			      "%s.netmask: must be a prefix length (0-%u)%s", path,
			      svc->vip.family == AF_INET ? 32 : 128,
			      svc->vip.family == AF_INET ? " or a mask like \"255.255.255.0\"" : "");
	v = json_object_get(obj, "expire_quiescent_template");
	if (v != NULL) {
		if (json_is_null(v))
			svc->expire_quiescent_template = -1;
		else if (json_is_boolean(v))
			svc->expire_quiescent_template = json_is_true(v) ? 1 : 0;
		else
			return lb_err(err, errlen, "%s.expire_quiescent_template: must be true, false or null",
				      path);
	}
	v = json_object_get(obj, "ports");
	if (v != NULL) {
		json_t *p;
		if (!json_is_array(v) || json_array_size(v) == 0 ||
		    json_array_size(v) > LB_MAX_PORT_RANGES)
			return lb_err(err, errlen, "%s.ports: must be an array of 1-%d ports or \"lo-hi\" ranges",
				      path, LB_MAX_PORT_RANGES);
		json_array_foreach(v, i, p) {
			if (parse_port_range(p, &svc->port_ranges[i]) != 0)
				return lb_err(err, errlen, "%s.ports[%zu]: must be a port 1-65535 or \"lo-hi\"",
					      path, i);
		}
		svc->n_port_ranges = (uint8_t)json_array_size(v);
	}
	v = json_object_get(obj, "protos");
	if (v != NULL) {
		json_t *p;
		svc->protos = 0;
		if (!json_is_array(v) || json_array_size(v) == 0)
			return lb_err(err, errlen, "%s.protos: must be a non-empty array of \"tcp\", \"udp\"", path);
		json_array_foreach(v, i, p) {
			if (json_is_string(p) && strcmp(json_string_value(p), "tcp") == 0)
				svc->protos |= LB_PROTO_BIT_TCP;
			else if (json_is_string(p) && strcmp(json_string_value(p), "udp") == 0)
				svc->protos |= LB_PROTO_BIT_UDP;
			else
				return lb_err(err, errlen, "%s.protos[%zu]: must be \"tcp\" or \"udp\"", path, i);
		}
	}
	return 0;
}

static const char default_page[] =
	"<!DOCTYPE html>\n<html><head><title>Service temporarily unavailable</title></head>\n"
	"<body><h1>Service temporarily unavailable</h1>\n"
	"<p>Please try again in a few moments.</p></body></html>\n";

const char *lb_service_fallback_page(const struct lb_service_cfg *svc, size_t *len)
{
	if (svc->fallback_page != NULL) {
		*len = json_string_length(svc->fallback_page);
		return json_string_value(svc->fallback_page);
	}
	*len = sizeof(default_page) - 1;
	return default_page;
}

/* {"local": true, "page": "..."}: the appliance serves the holding page itself. */
static int local_fallback_from_json(const json_t *v, const char *fpath, struct lb_service_cfg *svc,
				    struct lb_real_cfg *fb, json_t **page, char *err, size_t errlen)
{
	static const char *const keys[] = {"local", "page", NULL};

	if (lb_json_check_keys(v, fpath, keys, err, errlen) != 0)
		return -1;
	if (!json_is_true(json_object_get(v, "local")))
		return lb_err(err, errlen, "%s.local: must be true (or leave it out and give ip)", fpath);
	json_t *p = json_object_get(v, "page");
	if (p != NULL && !json_is_null(p)) {
		if (!json_is_string(p) || json_string_length(p) == 0 ||
		    json_string_length(p) > LB_FALLBACK_PAGE_MAX)
			return lb_err(err, errlen, "%s.page: must be a string of 1-%u bytes (HTML)", fpath,
				      LB_FALLBACK_PAGE_MAX);
		*page = json_incref(p);
	}
	memset(fb, 0, sizeof(*fb));
	fb->ip = svc->vip;
	fb->port = svc->port;
	fb->forward = LB_FWD_LOCAL;
	return 0;
}

int lb_service_fallback_from_json(const json_t *obj, const char *path, struct lb_service_cfg *svc,
				  char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, "fallback");
	json_t *page = NULL;
	char fpath[128];

	if (v == NULL)
		return 0;
	if (json_is_null(v)) {
		svc->has_fallback = false;
		memset(&svc->fallback, 0, sizeof(svc->fallback));
		json_decref(svc->fallback_page);
		svc->fallback_page = NULL;
		return 0;
	}
	snprintf(fpath, sizeof(fpath), "%s.fallback", path);
	static const char *const not_here[] = {"service", "check", "state"};
	for (size_t k = 0; k < sizeof(not_here) / sizeof(not_here[0]); k++)
		if (json_is_object(v) && json_object_get(v, not_here[k]) != NULL)
			return lb_err(err, errlen, "%s.%s: unknown key (the fallback server is not checked)",
				      fpath, not_here[k]);
	struct lb_real_cfg fb;
	if (json_is_object(v) && json_object_get(v, "local") != NULL) {
		if (local_fallback_from_json(v, fpath, svc, &fb, &page, err, errlen) != 0)
			return -1;
	} else if (lb_real_from_json(v, fpath, svc, &fb, err, errlen) != 0) {
		return -1;
	}
	/* Same server as before: keep its id so its counters and neighbour entry carry on. */
	if (svc->has_fallback && lb_addr_equal(&svc->fallback.ip, &fb.ip) &&
	    svc->fallback.port == fb.port && svc->fallback.forward == fb.forward) {
		fb.id = svc->fallback.id;
		fb.gen = svc->fallback.gen;
	}
	svc->fallback = fb;
	svc->has_fallback = true;
	json_decref(svc->fallback_page);
	svc->fallback_page = page;
	return 0;
}

/* The fallback as config.get and the config file write it: a server, or the local page. */
static json_t *fallback_to_json(const struct lb_service_cfg *svc)
{
	if (!svc->has_fallback)
		return json_null();
	if (!lb_service_fallback_is_local(svc)) {
		json_t *fb = lb_real_to_json(&svc->fallback);
		json_object_del(fb, "state"); /* the fallback is never checked nor drained */
		return fb;
	}
	size_t len;
	const char *page = lb_service_fallback_page(svc, &len);
	return json_pack("{s:b, s:s%}", "local", 1, "page", page, len);
}

json_t *lb_real_to_json(const struct lb_real_cfg *real)
{
	char ab[LB_ADDR_STRLEN];
	json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:I, s:I}", "ip",
			 lb_addr_format(&real->ip, ab, sizeof(ab)), "port", (json_int_t)real->port,
			 "weight", (json_int_t)real->weight, "forward", lb_forward_name(real->forward),
			 "u_threshold", (json_int_t)real->u_threshold, "l_threshold",
			 (json_int_t)real->l_threshold);

	if (o != NULL)
		lb_real_health_to_json(real, o);
	return o;
}

json_t *lb_service_to_json(const struct lb_service_cfg *svc, bool with_reals)
{
	char ab[LB_ADDR_STRLEN];
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "vip",
			      lb_addr_format(&svc->vip, ab, sizeof(ab)), "port", (json_int_t)svc->port,
			      "proto", lb_proto_name(svc->proto), "scheduler", svc->scheduler,
			      "forward", lb_forward_name(svc->forward));
	if (o != NULL) {
		json_t *flags = json_array();
		for (size_t k = 0; k < sizeof(sched_flag_names) / sizeof(sched_flag_names[0]); k++)
			if (svc->sched_flags & sched_flag_names[k].flag)
				json_array_append_new(flags, json_string(sched_flag_names[k].name));
		json_object_set_new(o, "sched_flags", flags);
		json_object_set_new(o, "ops", json_boolean(svc->ops));
		json_object_set_new(o, "syn_proxy", json_boolean(svc->syn_proxy));
		json_object_set_new(o, "persistent", json_integer(svc->persistent_s));
		json_object_set_new(o, "netmask", json_integer(svc->netmask_len));
		json_object_set_new(o, "expire_quiescent_template",
				    svc->expire_quiescent_template < 0
					    ? json_null()
					    : json_boolean(svc->expire_quiescent_template));
		if (svc->port == 0) {
			json_t *ports = json_array(), *protos = json_array();
			for (uint8_t k = 0; k < svc->n_port_ranges; k++) {
				char buf[16];
				const struct lb_port_range *r = &svc->port_ranges[k];
				if (r->lo == r->hi) {
					json_array_append_new(ports, json_integer(r->lo));
				} else {
					snprintf(buf, sizeof(buf), "%u-%u", r->lo, r->hi);
					json_array_append_new(ports, json_string(buf));
				}
			}
			uint8_t pm = svc->protos ? svc->protos
						 : (svc->proto == IPPROTO_TCP ? LB_PROTO_BIT_TCP : LB_PROTO_BIT_UDP);
			if (pm & LB_PROTO_BIT_TCP)
				json_array_append_new(protos, json_string("tcp"));
			if (pm & LB_PROTO_BIT_UDP)
				json_array_append_new(protos, json_string("udp"));
			/* a group without ports is invalid, but what was parsed must read back:
			 * the parser takes a missing "ports", not an empty one */
			if (svc->n_port_ranges)
				json_object_set_new(o, "ports", ports);
			else
				json_decref(ports);
			json_object_set_new(o, "protos", protos);
		}
		json_object_set_new(o, "fallback", fallback_to_json(svc));
		json_t *laddrs = json_array();
		for (uint8_t k = 0; k < svc->n_local_addrs; k++)
			json_array_append_new(laddrs, json_string(lb_addr_format(&svc->local_addrs[k], ab,
										 sizeof(ab))));
		json_object_set_new(o, "local_addresses", laddrs);
		json_object_set_new(o, "client_address",
				    json_string(client_addr_names[svc->client_addr_mode]));
		json_object_set_new(o, "mh_table_size",
				    json_integer(svc->mh_table_size ? svc->mh_table_size
								    : SCHED_MH_DEFAULT_TABLE_SIZE));
		lb_service_health_to_json(svc, o);
	}
	if (o != NULL && with_reals) {
		json_t *reals = json_array();
		for (uint32_t i = 0; i < svc->n_reals; i++)
			json_array_append_new(reals, lb_real_to_json(&svc->reals[i]));
		json_object_set_new(o, "reals", reals);
	}
	return o;
}

int lb_config_find_service(const struct lb_config *c, const struct lb_addr *vip, uint16_t port,
			   uint8_t proto)
{
	for (uint32_t i = 0; i < c->n_services; i++) {
		const struct lb_service_cfg *s = &c->services[i];
		if (s->port == port && s->proto == proto && lb_addr_equal(&s->vip, vip))
			return (int)i;
	}
	return -1;
}

int lb_service_find_real(const struct lb_service_cfg *svc, const struct lb_addr *ip, uint16_t port)
{
	for (uint32_t i = 0; i < svc->n_reals; i++)
		if (svc->reals[i].port == port && lb_addr_equal(&svc->reals[i].ip, ip))
			return (int)i;
	return -1;
}

int lb_config_append_service(struct lb_config *c, struct lb_service_cfg *svc)
{
	struct lb_service_cfg *n = realloc(c->services, (c->n_services + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	c->services = n;
	c->services[c->n_services++] = *svc;
	memset(svc, 0, sizeof(*svc));
	return 0;
}

void lb_config_remove_service(struct lb_config *c, uint32_t idx)
{
	if (idx >= c->n_services)
		return;
	lb_service_free(&c->services[idx]);
	memmove(&c->services[idx], &c->services[idx + 1],
		(c->n_services - idx - 1) * sizeof(c->services[0]));
	c->n_services--;
}

int lb_service_append_real(struct lb_service_cfg *svc, const struct lb_real_cfg *real)
{
	struct lb_real_cfg *n = realloc(svc->reals, (svc->n_reals + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	svc->reals = n;
	svc->reals[svc->n_reals++] = *real;
	return 0;
}

void lb_service_remove_real(struct lb_service_cfg *svc, uint32_t idx)
{
	if (idx >= svc->n_reals)
		return;
	lb_real_release(&svc->reals[idx]);
	memmove(&svc->reals[idx], &svc->reals[idx + 1],
		(svc->n_reals - idx - 1) * sizeof(svc->reals[0]));
	svc->n_reals--;
}

void lb_service_free(struct lb_service_cfg *svc)
{
	for (uint32_t i = 0; i < svc->n_reals; i++)
		lb_real_release(&svc->reals[i]);
	json_decref(svc->check);
	json_decref(svc->agent);
	svc->check = NULL;
	svc->agent = NULL;
	json_decref(svc->fallback_page);
	svc->fallback_page = NULL;
	free(svc->reals);
	svc->reals = NULL;
	svc->n_reals = 0;
}
