/* dpdk-lb services written back as ipvsadm -S rules and as an ldirectord.cf. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvs_util.h"

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (o->len + (size_t)n + 1 > o->cap) {
		size_t cap = (o->cap + (size_t)n + 1) * 2;
		char *b = realloc(o->buf, cap);
		if (b == NULL)
			return;
		o->buf = b;
		o->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

static void note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(json_t *notes, const char *fmt, ...)
{
	char msg[LB_IMPORT_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(notes, json_string(msg));
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* config.get gives every key; an import's services only those the file set: the defaults. */
static const char *scheduler(const json_t *s)
{
	return str(s, "scheduler")[0] ? str(s, "scheduler") : "wlc";
}

static long long weight(const json_t *r)
{
	return json_object_get(r, "weight") ? num(r, "weight") : 1;
}

/* "tcp 10.0.0.1:80" (or "group 10.0.0.1") for notes. */
static const char *name_of(const json_t *s, char *buf, size_t len)
{
	char hp[64];

	if (num(s, "port") == 0)
		snprintf(buf, len, "group %s", str(s, "vip"));
	else
		snprintf(buf, len, "%s %s", str(s, "proto"),
			 lvs_format_hostport(str(s, "vip"), num(s, "port"), hp, sizeof(hp)));
	return buf;
}

/* The fwmark a group gets, with a note of what --fwmark gives it back. */
static void group_note(const json_t *s, unsigned mark, json_t *notes)
{
	char ports[160] = "", vip[64];
	size_t used = 0;
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(s, "ports"), i, p) {
		int n = json_is_integer(p)
				? snprintf(ports + used, sizeof(ports) - used, "%s%lld", i ? "," : "",
					   (long long)json_integer_value(p))
				: snprintf(ports + used, sizeof(ports) - used, "%s%s", i ? "," : "",
					   json_string_value(p));
		if (n > 0 && (size_t)n < sizeof(ports) - used)
			used += (size_t)n;
	}
	snprintf(vip, sizeof(vip), strchr(str(s, "vip"), ':') ? "[%s]" : "%s", str(s, "vip"));
	note(notes, "firewall mark %u is service group %s ports %s (%s): mark the packets in "
		    "iptables, and import with --fwmark %u=%s:%s%s", mark, str(s, "vip"), ports,
	     json_array_size(json_object_get(s, "protos")) == 2 ? "tcp+udp" : str(s, "proto"), mark,
	     vip, ports, json_array_size(json_object_get(s, "protos")) == 2 ? "/tcp+udp" :
	     strcmp(str(s, "proto"), "udp") == 0 ? "/udp" : "");
}

/* A persistence netmask as ipvsadm writes it: dotted for IPv4, a prefix length for IPv6. */
static const char *mask_text(const json_t *s, char *buf, size_t len)
{
	long long plen = num(s, "netmask");

	if (json_is_string(json_object_get(s, "netmask")))
		snprintf(buf, len, "%s", str(s, "netmask"));
	else if (strchr(str(s, "vip"), ':') != NULL || plen < 0 || plen > 32) {
		/* IPv6, or a prefix no IPv4 mask spells (the daemon refuses it): as given */
		snprintf(buf, len, "%lld", plen);
	} else {
		unsigned long m = plen == 0 ? 0 : 0xffffffffUL << (32 - plen) & 0xffffffffUL;
		snprintf(buf, len, "%lu.%lu.%lu.%lu", m >> 24, (m >> 16) & 255, (m >> 8) & 255,
			 m & 255);
	}
	return buf;
}

static bool full_mask(const json_t *s)
{
	if (json_object_get(s, "netmask") == NULL)
		return true;
	if (json_is_string(json_object_get(s, "netmask")))
		return false;
	return num(s, "netmask") == (strchr(str(s, "vip"), ':') ? 128 : 32);
}

static const char *ipvsadm_forward(const char *f)
{
	return strcmp(f, "dr") == 0 ? "-g" : strcmp(f, "tun") == 0 ? "-i" :
	       strcmp(f, "nat") == 0 ? "-m" : NULL;
}

/* What neither format says about a service: one note per thing. */
static void common_notes(const json_t *s, json_t *notes, const char *fmt)
{
	char n[96];

	name_of(s, n, sizeof(n));
	if (json_array_size(json_object_get(s, "local_addresses")) > 0)
		note(notes, "%s: local_addresses (fnat) not in %s", n, fmt);
	if (str(s, "client_address")[0] && strcmp(str(s, "client_address"), "none") != 0)
		note(notes, "%s: client_address %s not in %s", n, str(s, "client_address"), fmt);
	if (json_is_boolean(json_object_get(s, "expire_quiescent_template")))
		note(notes, "%s: expire_quiescent_template not in %s", n, fmt);
	if (strcmp(scheduler(s), "mh") == 0 && json_object_get(s, "mh_table_size") &&
	    num(s, "mh_table_size") != 65537)
		note(notes, "%s: mh_table_size %lld not in %s", n, num(s, "mh_table_size"), fmt);
	if (json_object_get(s, "agent") != NULL && !json_is_null(json_object_get(s, "agent")))
		note(notes, "%s: feedback agent not in %s", n, fmt);
}

char *lb_export_ipvsadm(const json_t *services, json_t *notes)
{
	struct out o = {0};
	unsigned mark = 0;
	size_t i, j;
	json_t *s, *r;

	put(&o, "%s", "");
	json_array_foreach(services, i, s) {
		char key[80], hp[64], n[96], m[48];
		name_of(s, n, sizeof(n));
		if (num(s, "port") == 0) {
			snprintf(key, sizeof(key), "-f %u", ++mark);
			group_note(s, mark, notes);
		} else {
			snprintf(key, sizeof(key), "%s %s", strcmp(str(s, "proto"), "udp") ? "-t" : "-u",
				 lvs_format_hostport(str(s, "vip"), num(s, "port"), hp, sizeof(hp)));
		}
		put(&o, "-A %s -s %s", key, scheduler(s));
		if (num(s, "persistent") > 0) {
			put(&o, " -p %lld", num(s, "persistent"));
			if (!full_mask(s))
				put(&o, " -M %s", mask_text(s, m, sizeof(m)));
		}
		json_t *flags = json_object_get(s, "sched_flags"), *f;
		json_array_foreach(flags, j, f) {
			const char *sch = scheduler(s);
			const char *pre = strcmp(sch, "sh") == 0 ? "sh-" : strcmp(sch, "mh") == 0 ? "mh-" : NULL;
			bool fb = strcmp(json_string_value(f), "fallback") == 0;
			put(&o, "%s%s%s", j ? "," : " -b ", pre ? pre : "flag-",
			    pre ? (fb ? "fallback" : "port") : (fb ? "1" : "2"));
		}
		if (json_is_true(json_object_get(s, "ops")))
			put(&o, " -o");
		put(&o, "\n");
		common_notes(s, notes, "ipvsadm rules");
		if (json_object_get(s, "check") != NULL && !json_is_null(json_object_get(s, "check")))
			note(notes, "%s: health check not in ipvsadm rules (export ldirectord keeps it)", n);
		if (json_object_get(s, "fallback") != NULL && !json_is_null(json_object_get(s, "fallback")))
			note(notes, "%s: fallback server not in ipvsadm rules (export ldirectord keeps it)", n);
		json_array_foreach(json_object_get(s, "reals"), j, r) {
			const char *fw = ipvsadm_forward(str(r, "forward"));
			if (fw == NULL) {
				note(notes, "%s: real %s left out: ipvsadm has no %s forwarding", n,
				     str(r, "ip"), str(r, "forward"));
				continue;
			}
			long long w = strcmp(str(r, "state"), "drain") == 0 ? 0 : weight(r);
			if (strcmp(str(r, "state"), "online") != 0 && json_object_get(r, "state"))
				note(notes, "%s: real %s is %s: written with weight %lld", n, str(r, "ip"),
				     str(r, "state"), w);
			put(&o, "-a %s -r %s %s -w %lld", key,
			    lvs_format_hostport(str(r, "ip"), json_object_get(r, "port") ? num(r, "port")
											 : num(s, "port"),
						hp, sizeof(hp)), fw, w);
			if (num(r, "u_threshold") > 0)
				put(&o, " -x %lld", num(r, "u_threshold"));
			if (num(r, "l_threshold") > 0)
				put(&o, " -y %lld", num(r, "l_threshold"));
			put(&o, "\n");
		}
	}
	return o.buf;
}

static void put_check(struct out *o, const json_t *c, const char *n, json_t *notes)
{
	json_t *type = json_object_get(c, "type");
	const char *method = str(c, "method");
	double d;

	if (json_is_integer(type))
		put(o, "\tchecktype=%lld\n", (long long)json_integer_value(type));
	else
		put(o, "\tchecktype=%s\n", json_string_value(type));
	if (str(c, "service")[0] != '\0')
		put(o, "\tservice=%s\n", strcmp(str(c, "service"), "pop3") == 0 ? "pop" : str(c, "service"));
	if (num(c, "port") != 0)
		put(o, "\tcheckport=%lld\n", num(c, "port"));
	if (strcmp(str(c, "request"), "/") != 0)
		put(o, "\trequest=\"%s\"\n", str(c, "request"));
	if (str(c, "receive_regex")[0] != '\0')
		put(o, "\treceive=\"%s\"\n", str(c, "receive_regex"));
	if (method[0] != '\0' && strcmp(method, "GET") != 0)
		put(o, "\thttpmethod=%s\n", method);
	static const char *const strs[][2] = {{"host", "virtualhost"}, {"login", "login"},
					      {"password", "passwd"}, {"database", "database"},
					      {"command", "checkcommand"}};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (str(c, strs[i][0])[0] != '\0')
			put(o, "\t%s=%s\n", strs[i][1], str(c, strs[i][0]));
	static const struct {
		const char *key, *to;
		double def;
	} nums[] = {{"timeout", "checktimeout", 5}, {"negotiate_timeout", "negotiatetimeout", 30},
		    {"interval", "checkinterval", 10}, {"failures", "failurecount", 1}};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if ((d = json_number_value(json_object_get(c, nums[i].key))) != nums[i].def)
			put(o, "\t%s=%g\n", nums[i].to, d);
	if (json_is_false(json_object_get(c, "quiescent")))
		put(o, "\tquiescent=no\n");
	if (str(c, "receive")[0] != '\0')
		note(notes, "%s: check.receive (a substring) not in ldirectord.cf: use receive_regex", n);
	if (num(c, "successes") > 1)
		note(notes, "%s: check.successes %lld not in ldirectord.cf", n, num(c, "successes"));
	if (strcmp(str(c, "status"), "200-299") != 0 && str(c, "status")[0] != '\0')
		note(notes, "%s: check.status %s not in ldirectord.cf", n, str(c, "status"));
	if (json_is_true(json_object_get(c, "verify")))
		note(notes, "%s: check.verify not in ldirectord.cf", n);
	if (str(c, "notify")[0] != '\0')
		note(notes, "%s: check.notify not in ldirectord.cf", n);
	if (str(c, "protocol")[0] != '\0')
		note(notes, "%s: check.protocol not in ldirectord.cf", n);
	if (strcmp(str(c, "query_type"), "A") != 0 && str(c, "query_type")[0] != '\0')
		note(notes, "%s: check.query_type not in ldirectord.cf", n);
}

static const char *ld_method(const char *f)
{
	return strcmp(f, "dr") == 0 ? "gate" : strcmp(f, "tun") == 0 ? "ipip" :
	       strcmp(f, "nat") == 0 ? "masq" : NULL;
}

static void put_real(struct out *o, const char *key, const json_t *r, const char *n, json_t *notes)
{
	char hp[64];
	const char *m = ld_method(str(r, "forward"));
	json_t *c = json_object_get(r, "check");

	if (m == NULL) {
		note(notes, "%s: %s %s left out: ldirectord has no %s forwarding", n, key, str(r, "ip"),
		     str(r, "forward"));
		return;
	}
	put(o, "\t%s=%s %s", key, lvs_format_hostport(str(r, "ip"), num(r, "port"), hp, sizeof(hp)),
	    m);
	if (strcmp(key, "real") == 0)
		put(o, " %lld", weight(r));
	if (json_is_object(c) && json_object_get(c, "request") != NULL)
		put(o, " \"%s\", \"%s\"", str(c, "request"), str(c, "receive_regex"));
	put(o, "\n");
	if (num(r, "u_threshold") > 0 || num(r, "l_threshold") > 0)
		note(notes, "%s: thresholds of %s not in ldirectord.cf", n, str(r, "ip"));
	if (json_object_get(r, "state") != NULL && strcmp(str(r, "state"), "online") != 0)
		note(notes, "%s: real %s is %s: not in ldirectord.cf", n, str(r, "ip"), str(r, "state"));
}

char *lb_export_ldirectord(const json_t *services, json_t *notes)
{
	struct out o = {0};
	unsigned mark = 0;
	size_t i, j;
	json_t *s, *r;

	put(&o, "# ldirectord.cf written by dpdk-lb-cli export ldirectord\n");
	json_array_foreach(services, i, s) {
		char n[96], hp[64], m[48];
		name_of(s, n, sizeof(n));
		if (num(s, "port") == 0) {
			put(&o, "\nvirtual=%u\n\tprotocol=fwm\n", ++mark);
			group_note(s, mark, notes);
		} else {
			put(&o, "\nvirtual=%s\n\tprotocol=%s\n",
			    lvs_format_hostport(str(s, "vip"), num(s, "port"), hp, sizeof(hp)),
			    str(s, "proto"));
		}
		put(&o, "\tscheduler=%s\n", scheduler(s));
		if (num(s, "persistent") > 0) {
			put(&o, "\tpersistent=%lld\n", num(s, "persistent"));
			if (!full_mask(s))
				put(&o, "\tnetmask=%s\n", mask_text(s, m, sizeof(m)));
		}
		json_array_foreach(json_object_get(s, "reals"), j, r)
			put_real(&o, "real", r, n, notes);
		json_t *fb = json_object_get(s, "fallback"), *c = json_object_get(s, "check");
		if (json_is_object(fb) && json_is_true(json_object_get(fb, "local")))
			note(notes, "%s: the holding page (fallback local) not in ldirectord.cf", n);
		else if (json_is_object(fb))
			put_real(&o, "fallback", fb, n, notes);
		if (json_is_object(c))
			put_check(&o, c, n, notes);
		else
			put(&o, "\tchecktype=on\n");
		common_notes(s, notes, "ldirectord.cf");
		if (json_array_size(json_object_get(s, "sched_flags")) > 0)
			note(notes, "%s: sched_flags not in ldirectord.cf", n);
		if (json_is_true(json_object_get(s, "ops")))
			note(notes, "%s: ops not in ldirectord.cf", n);
	}
	return o.buf;
}
