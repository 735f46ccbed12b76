/* Shared pieces of the LVS importers: messages, addresses, ports, firewall marks. */
#include "lvs_util.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_msg(json_t *list, unsigned line, const char *fmt, va_list ap)
{
	char msg[LB_IMPORT_MSG_LEN];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_array_append_new(list, json_pack("{s:I, s:s}", "line", (json_int_t)line, "message", msg));
}

void lvs_error(struct lb_import *imp, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg(imp->errors, line, fmt, ap);
	va_end(ap);
}

void lvs_note(struct lb_import *imp, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg(imp->notes, line, fmt, ap);
	va_end(ap);
}

void lvs_import_init(struct lb_import *imp)
{
	imp->services = json_array();
	imp->lines = json_array();
	imp->errors = json_array();
	imp->notes = json_array();
}

void lb_import_free(struct lb_import *imp)
{
	json_decref(imp->services);
	json_decref(imp->lines);
	json_decref(imp->errors);
	json_decref(imp->notes);
	memset(imp, 0, sizeof(*imp));
}

int lvs_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 10)
		return -1;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The ports /etc/services names that LVS configurations use (ipvsadm -S without -n). */
static const struct {
	const char *name;
	int port;
} port_names[] = {
	{"ftp", 21},	     {"ssh", 22},	 {"telnet", 23},     {"smtp", 25},
	{"domain", 53},	     {"http", 80},	 {"www", 80},	     {"pop3", 110},
	{"nntp", 119},	     {"ntp", 123},	 {"imap2", 143},     {"imap", 143},
	{"snmp", 161},	     {"ldap", 389},	 {"https", 443},     {"submission", 587},
	{"ldaps", 636},	     {"imaps", 993},	 {"pop3s", 995},     {"mysql", 3306},
	{"sip", 5060},	     {"http-alt", 8080},
};

static int parse_port(const char *s, int *port)
{
	unsigned long v;

	if (lvs_parse_uint(s, 0, 65535, &v) == 0) {
		*port = (int)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(port_names) / sizeof(port_names[0]); i++)
		if (strcmp(s, port_names[i].name) == 0) {
			*port = port_names[i].port;
			return 0;
		}
	return -1;
}

static int normalise(const char *text, char addr[LVS_ADDR_LEN])
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, text, buf) == 1)
		return inet_ntop(AF_INET, buf, addr, LVS_ADDR_LEN) ? 0 : -1;
	if (inet_pton(AF_INET6, text, buf) == 1)
		return inet_ntop(AF_INET6, buf, addr, LVS_ADDR_LEN) ? 0 : -1;
	return -1;
}

int lvs_parse_hostport(const char *s, char addr[LVS_ADDR_LEN], int *port, char *why,
		       size_t whylen)
{
	char host[64];
	const char *colon, *port_text = NULL;
	size_t hl;

	*port = -1;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			goto bad;
		hl = (size_t)(close - s - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port_text = close[1] == ':' ? close + 2 : NULL;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, s, hl);
		host[hl] = '\0';
		port_text = colon + 1;
	} else {
		snprintf(host, sizeof(host), "%s", s);
	}
	if (normalise(host, addr) != 0) {
		snprintf(why, whylen, "'%.60s' is not a numeric IPv4 or IPv6 address (save the "
			 "rules with ipvsadm -S -n, write addresses in ldirectord.cf)", host);
		return -1;
	}
	if (port_text != NULL && parse_port(port_text, port) != 0) {
		snprintf(why, whylen, "'%.40s' is not a port (0-65535 or a service name)",
			 port_text);
		return -1;
	}
	return 0;
bad:
	snprintf(why, whylen, "'%.60s' is not ADDRESS:PORT ([IPv6]:PORT)", s);
	return -1;
}

const char *lvs_format_hostport(const char *addr, long port, char *buf, size_t len)
{
	snprintf(buf, len, strchr(addr, ':') ? "[%s]:%ld" : "%s:%ld", addr, port);
	return buf;
}

/* "80,443,8000-8100" into a ports array; NULL when malformed. */
static json_t *parse_ports(const char *s)
{
	json_t *ports = json_array();
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		unsigned long lo, hi;
		char *dash = strchr(tok, '-');
		if (dash != NULL) {
			*dash = '\0';
			if (lvs_parse_uint(tok, 1, 65535, &lo) != 0 ||
			    lvs_parse_uint(dash + 1, 1, 65535, &hi) != 0 || hi < lo)
				goto bad;
			char range[16];
			snprintf(range, sizeof(range), "%lu-%lu", lo, hi);
			json_array_append_new(ports, json_string(range));
		} else {
			if (lvs_parse_uint(tok, 1, 65535, &lo) != 0)
				goto bad;
			json_array_append_new(ports, json_integer((json_int_t)lo));
		}
	}
	if (json_array_size(ports) > 0 && json_array_size(ports) <= 16)
		return ports;
bad:
	json_decref(ports);
	return NULL;
}

int lb_fwmark_parse(const char *arg, json_t *fwmarks, char *err, size_t errlen)
{
	char buf[320], addr[LVS_ADDR_LEN], markkey[16];
	unsigned long mark;
	const char *protos = "tcp";

	if (strlen(arg) >= sizeof(buf))
		goto bad;
	snprintf(buf, sizeof(buf), "%s", arg);
	char *eq = strchr(buf, '='), *slash, *host = NULL, *ports;
	if (eq == NULL)
		goto bad;
	*eq = '\0';
	if (lvs_parse_uint(buf, 1, 4294967295ul, &mark) != 0)
		goto bad;
	host = eq + 1;
	if ((slash = strrchr(host, '/')) != NULL) {
		*slash = '\0';
		protos = slash + 1;
	}
	char *close = host[0] == '[' ? strchr(host, ']') : NULL;
	char *colon = close ? (close[1] == ':' ? close + 1 : NULL) : strchr(host, ':');
	if (colon == NULL)
		goto bad;
	*colon = '\0';
	ports = colon + 1;
	if (close != NULL) {
		*close = '\0';
		host++;
	}
	if (normalise(host, addr) != 0)
		goto bad;
	json_t *pl = parse_ports(ports), *pr = json_array();
	if (strcmp(protos, "tcp") == 0 || strcmp(protos, "udp") == 0) {
		json_array_append_new(pr, json_string(protos));
	} else if (strcmp(protos, "tcp+udp") == 0) {
		json_array_append_new(pr, json_string("tcp"));
		json_array_append_new(pr, json_string("udp"));
	} else {
		json_decref(pr);
		pr = NULL;
	}
	if (pl == NULL || pr == NULL) {
		json_decref(pl);
		json_decref(pr);
		goto bad;
	}
	snprintf(markkey, sizeof(markkey), "%lu", mark);
	json_object_set_new(fwmarks, markkey,
			    json_pack("{s:s, s:o, s:o}", "vip", addr, "ports", pl, "protos", pr));
	return 0;
bad:
	snprintf(err, errlen,
		 "--fwmark '%.100s': must be MARK=VIP:PORTS[/tcp|udp|tcp+udp], e.g. "
		 "1=10.0.0.1:80,443 or 2=[2001:db8::1]:8000-8100/udp (1-16 ports or ranges)", arg);
	return -1;
}

json_t *lvs_fwmark_service(const json_t *fwmarks, unsigned long mark, char *why, size_t whylen)
{
	char key[16];
	json_t *m;

	snprintf(key, sizeof(key), "%lu", mark);
	m = fwmarks ? json_object_get(fwmarks, key) : NULL;
	if (m == NULL) {
		snprintf(why, whylen,
			 "firewall mark %lu: its VIP and ports are in iptables rules, not here; give "
			 "them with --fwmark %lu=VIP:PORTS[/PROTOS]", mark, mark);
		return NULL;
	}
	json_t *protos = json_object_get(m, "protos");
	return json_pack("{s:O, s:i, s:O, s:O, s:O}", "vip", json_object_get(m, "vip"), "port", 0,
			 "proto", json_array_get(protos, 0), "ports", json_object_get(m, "ports"),
			 "protos", protos);
}

size_t lvs_add_service(struct lb_import *imp, json_t *svc, unsigned line)
{
	json_object_set_new(svc, "reals", json_array());
	json_array_append_new(imp->services, svc);
	json_array_append_new(imp->lines, json_pack("{s:I, s:[]}", "line", (json_int_t)line, "reals"));
	return json_array_size(imp->services) - 1;
}

void lvs_add_real(struct lb_import *imp, size_t idx, json_t *real, unsigned line)
{
	json_array_append_new(json_object_get(json_array_get(imp->services, idx), "reals"), real);
	json_array_append_new(json_object_get(json_array_get(imp->lines, idx), "reals"),
			      json_integer((json_int_t)line));
}

long lvs_find_service(const struct lb_import *imp, const char *proto, const char *vip, long port,
		      unsigned long mark)
{
	for (size_t i = 0; i < json_array_size(imp->services); i++) {
		json_t *s = json_array_get(imp->services, i);
		json_t *m = json_object_get(json_array_get(imp->lines, i), "mark");
		if (mark != 0) {
			if (json_is_integer(m) && (unsigned long)json_integer_value(m) == mark)
				return (long)i;
			continue;
		}
		if (m == NULL && strcmp(json_string_value(json_object_get(s, "proto")), proto) == 0 &&
		    strcmp(json_string_value(json_object_get(s, "vip")), vip) == 0 &&
		    json_integer_value(json_object_get(s, "port")) == port)
			return (long)i;
	}
	return -1;
}
