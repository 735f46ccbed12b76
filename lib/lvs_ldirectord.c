/* ldirectord.cf into dpdk-lb services: global keys, virtual= blocks, reals and their checks
 * (mapped onto the health checks of docs/health.md). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvs_util.h"

#define MAX_WORDS 8

/* Keys with no effect on dpdk-lb: reported as not imported, with why. */
static const struct {
	const char *key, *why;
} ignored[] = {
	{"autoreload", "dpdk-lb-cli config backups/restore and config.apply replace it"},
	{"callback", "no equivalent: changes are applied through the RPC"},
	{"logfile", "dpdk-lb logs through rte_log (journal)"},
	{"execute", "one daemon serves every service"},
	{"fork", "checks run on the control lcore's event loop"},
	{"supervised", "run under systemd instead"},
	{"maintenancedir", "use dpdk-lb-cli real drain|offline|online"},
	{"smtp", "mail alerts are not sent; check.notify runs a command"},
	{"emailalert", "mail alerts are not sent; set check.notify to a command that mails"},
	{"emailalertfreq", "mail alerts are not sent"},
	{"emailalertstatus", "mail alerts are not sent"},
	{"emailalertfrom", "mail alerts are not sent"},
	{"readdquiescent", "reals are never removed from the configuration by checks"},
	{"cleanstop", "stopping dpdk-lb stops forwarding"},
	{"monitorfile", "check results are in dpdk-lb-cli health"},
	{"fallbackcommand", "no equivalent: the fallback server is taken while all reals are down"},
};

/* Check keys: ldirectord name -> dpdk-lb check key and kind ('n' number, 'i' integer, 'b'
 * yes/no, 's' string). */
static const struct {
	const char *key, *to;
	char kind;
	bool global;
} check_keys[] = {
	{"checktimeout", "timeout", 'n', true},	 {"negotiatetimeout", "negotiate_timeout", 'n', true},
	{"checkinterval", "interval", 'n', true}, {"failurecount", "failures", 'i', true},
	{"checkcount", "failures", 'i', true},	 {"quiescent", "quiescent", 'b', true},
	{"checkport", "port", 'i', false},	 {"request", "request", 's', false},
	{"receive", "receive_regex", 's', false}, {"httpmethod", "method", 's', false},
	{"virtualhost", "host", 's', false},	 {"login", "login", 's', false},
	{"passwd", "password", 's', false},	 {"database", "database", 's', false},
	{"checkcommand", "command", 's', false},
};

static const char *const services_ok[] = {"dns",  "ftp",	"http", "https", "imap", "ldap",
					  "mysql", "nntp", "pop", "pop3",  "simpletcp", "sip",
					  "smtp", NULL};

struct block {
	long idx;	   /* service index in imp, -1 when the block was refused */
	unsigned line;	   /* of virtual= */
	unsigned long mark; /* virtual=N */
	char proto[4];
	json_t *check;	   /* check keys given in the block */
	char type[16];	   /* checktype, "": not given (not a pointer: blocks are realloc'd) */
	unsigned type_line;
};

struct parser {
	struct lb_import *imp;
	const json_t *fwmarks;
	json_t *global_check;
	json_t *global_fallback;
	unsigned global_fallback_line;
	struct block *blocks;
	size_t n_blocks;
	struct block *cur;
};

/* Splits a value into words, keeping "quoted strings" (commas between them dropped). */
static int split_words(char *s, char **w)
{
	int n = 0;

	while (*s != '\0' && n < MAX_WORDS) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		if (*s == '"') {
			char *end = strchr(s + 1, '"');
			if (end == NULL)
				return -1;
			*end = '\0';
			w[n++] = s + 1;
			s = end + 1;
			continue;
		}
		w[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != ',')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	return *s == '\0' ? n : -1;
}

static char *unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		return v + 1;
	}
	return v;
}

static const char *forward_of(const char *m)
{
	if (strcmp(m, "gate") == 0)
		return "dr";
	if (strcmp(m, "masq") == 0)
		return "nat";
	if (strcmp(m, "ipip") == 0)
		return "tun";
	return NULL;
}

/* A real or fallback server "ADDR[:PORT] [gate|masq|ipip] [WEIGHT]" as a Real object. */
static json_t *server(struct parser *p, unsigned line, char **w, int n, long def_port,
		      const char *what)
{
	char ip[LVS_ADDR_LEN], why[LB_IMPORT_MSG_LEN];
	int port;
	unsigned long weight;

	if (n < 1 || lvs_parse_hostport(w[0], ip, &port, why, sizeof(why)) != 0) {
		lvs_error(p->imp, line, "%s: %s", what, n < 1 ? "needs ADDRESS[:PORT]" : why);
		return NULL;
	}
	json_t *r = json_pack("{s:s, s:I, s:s}", "ip", ip, "port",
			      (json_int_t)(def_port == 0 ? 0 : port >= 0 ? port : def_port),
			      "forward", "dr");
	if (n >= 2) {
		const char *f = forward_of(w[1]);
		if (f == NULL) {
			lvs_error(p->imp, line, "%s: forwarding method '%.20s' is not gate, masq or ipip",
				  what, w[1]);
			json_decref(r);
			return NULL;
		}
		json_object_set_new(r, "forward", json_string(f));
	}
	if (n >= 3) {
		if (lvs_parse_uint(w[2], 0, 65535, &weight) != 0) {
			lvs_error(p->imp, line, "%s: weight '%.20s' must be 0-65535", what, w[2]);
			json_decref(r);
			return NULL;
		}
		json_object_set_new(r, "weight", json_integer((json_int_t)weight));
	}
	return r;
}

/* "a.b.c.X->a.b.c.Y[:PORT]": the common "a.b.c" in prefix, X and Y, ":PORT" in rest; 0 or -1. */
static int ipv4_range(const char *s, const char *arrow, char prefix[32], unsigned *first,
		      unsigned *last, char *rest, size_t restlen)
{
	char lo[32], hi[32];
	unsigned char a[4], b[4];
	const char *colon = strchr(arrow + 2, ':');
	size_t ll = (size_t)(arrow - s), hl = colon ? (size_t)(colon - arrow - 2) : strlen(arrow + 2);

	if (ll >= sizeof(lo) || hl >= sizeof(hi))
		return -1;
	memcpy(lo, s, ll);
	lo[ll] = '\0';
	memcpy(hi, arrow + 2, hl);
	hi[hl] = '\0';
	if (inet_pton(AF_INET, lo, a) != 1 || inet_pton(AF_INET, hi, b) != 1 ||
	    memcmp(a, b, 3) != 0 || b[3] < a[3])
		return -1;
	snprintf(prefix, 32, "%u.%u.%u", a[0], a[1], a[2]);
	*first = a[3];
	*last = b[3];
	snprintf(rest, restlen, "%s", colon ? colon : "");
	return 0;
}

/* real=ADDR[->ADDR2][:PORT] METHOD [WEIGHT] ["REQUEST", "RECEIVE"]; an IPv4 range expands. */
static void add_reals(struct parser *p, unsigned line, char *value)
{
	char *w[MAX_WORDS], *arrow;
	int n = split_words(value, w);
	long def_port = json_integer_value(
		json_object_get(json_array_get(p->imp->services, (size_t)p->cur->idx), "port"));

	if (n < 1 || n > 5) {
		lvs_error(p->imp, line, "real: must be ADDRESS[:PORT] [gate|masq|ipip] [WEIGHT] "
			  "[\"REQUEST\", \"RECEIVE\"]");
		return;
	}
	json_t *check = NULL;
	if (n >= 4) {
		check = json_pack("{s:s}", "request", w[3]);
		if (n == 5)
			json_object_set_new(check, "receive_regex", json_string(w[4]));
		n = 3;
	}
	unsigned first = 0, last = 0;
	char rest[64] = "", prefix[32] = "";
	if ((arrow = strstr(w[0], "->")) != NULL &&
	    ipv4_range(w[0], arrow, prefix, &first, &last, rest, sizeof(rest)) != 0) {
		lvs_error(p->imp, line, "real: '%.60s' is not an IPv4 range a.b.c.X->a.b.c.Y[:PORT]",
			  w[0]);
		json_decref(check);
		return;
	}
	for (unsigned x = first; x <= last; x++) {
		char one[96];
		if (arrow != NULL) {
			snprintf(one, sizeof(one), "%s.%u%s", prefix, x, rest);
			w[0] = one;
		}
		json_t *r = server(p, line, w, n, def_port, "real");
		if (r == NULL)
			break;
		if (check != NULL)
			json_object_set(r, "check", check);
		lvs_add_real(p->imp, (size_t)p->cur->idx, r, line);
	}
	json_decref(check);
}

/* virtual=ADDR:PORT or virtual=MARK: opens a block. */
static void open_virtual(struct parser *p, unsigned line, char *value)
{
	char vip[LVS_ADDR_LEN], why[LB_IMPORT_MSG_LEN];
	int port;
	unsigned long mark = 0;
	struct block *b = realloc(p->blocks, (p->n_blocks + 1) * sizeof(*b));

	if (b == NULL)
		return;
	p->blocks = b;
	p->cur = b = &p->blocks[p->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->idx = -1;
	b->line = line;
	b->check = json_object();
	snprintf(b->proto, sizeof(b->proto), "tcp");
	value = unquote(value);
	if (lvs_parse_uint(value, 1, 4294967295ul, &mark) == 0) {
		json_t *svc = lvs_fwmark_service(p->fwmarks, mark, why, sizeof(why));
		if (svc == NULL) {
			lvs_error(p->imp, line, "virtual=%s: %s", value, why);
			return;
		}
		b->mark = mark;
		b->idx = (long)lvs_add_service(p->imp, svc, line);
		json_object_set_new(json_array_get(p->imp->lines, (size_t)b->idx), "mark",
				    json_integer((json_int_t)mark));
		return;
	}
	if (lvs_parse_hostport(value, vip, &port, why, sizeof(why)) != 0 || port < 1) {
		lvs_error(p->imp, line, "virtual: %s", port < 1 && why[0] == '\0' ?
			  "needs ADDRESS:PORT (port 1-65535) or a firewall mark" : why);
		return;
	}
	b->idx = (long)lvs_add_service(p->imp, json_pack("{s:s, s:i, s:s}", "vip", vip, "port", port,
							 "proto", "tcp"), line);
}

/* A check key into obj; 0, or -1 after an error. */
static int check_key(struct parser *p, unsigned line, size_t k, const char *v, json_t *obj)
{
	unsigned long u;
	char *end;

	switch (check_keys[k].kind) {
	case 'n': {
		double d = strtod(v, &end);
		if (end == v || *end != '\0' || !(d > 0 && d <= 86400)) {
			lvs_error(p->imp, line, "%s: '%.30s' must be seconds, 0-86400", check_keys[k].key, v);
			return -1;
		}
		json_object_set_new(obj, check_keys[k].to, json_real(d));
		break;
	}
	case 'i':
		if (lvs_parse_uint(v, 0, 65535, &u) != 0) {
			lvs_error(p->imp, line, "%s: '%.30s' must be an integer", check_keys[k].key, v);
			return -1;
		}
		json_object_set_new(obj, check_keys[k].to, json_integer((json_int_t)u));
		break;
	case 'b':
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
			lvs_error(p->imp, line, "%s: must be yes or no", check_keys[k].key);
			return -1;
		}
		json_object_set_new(obj, check_keys[k].to, json_boolean(strcmp(v, "yes") == 0));
		break;
	default:
		json_object_set_new(obj, check_keys[k].to, json_string(v));
	}
	if (strcmp(check_keys[k].key, "checkcount") == 0)
		lvs_note(p->imp, line, "checkcount (deprecated) taken as failurecount");
	return 0;
}

static void service_key(struct parser *p, unsigned line, const char *v)
{
	for (const char *const *s = services_ok; *s != NULL; s++)
		if (strcmp(v, *s) == 0) {
			json_object_set_new(p->cur->check, "service",
					    json_string(strcmp(v, "pop") == 0 ? "pop3" : v));
			return;
		}
	if (strcmp(v, "none") == 0) {
		json_object_set_new(p->cur->check, "service", json_string("none"));
		return;
	}
	lvs_error(p->imp, line, "service=%.30s: dpdk-lb has no %.30s check (it has dns ftp http "
		  "https imap ldap mysql nntp pop simpletcp sip smtp; see docs/health.md)", v, v);
}

static void block_key(struct parser *p, unsigned line, const char *key, char *v)
{
	struct block *b = p->cur;
	json_t *svc = json_array_get(p->imp->services, (size_t)b->idx);
	unsigned long u;

	if (strcmp(key, "real") == 0) {
		add_reals(p, line, v);
		return;
	}
	v = unquote(v);
	if (strcmp(key, "scheduler") == 0) {
		json_object_set_new(svc, "scheduler", json_string(v));
	} else if (strcmp(key, "persistent") == 0) {
		if (lvs_parse_uint(v, 0, 31536000, &u) != 0)
			lvs_error(p->imp, line, "persistent: '%.30s' must be seconds", v);
		else
			json_object_set_new(svc, "persistent", json_integer((json_int_t)u));
	} else if (strcmp(key, "netmask") == 0) {
		json_object_set_new(svc, "netmask", lvs_parse_uint(v, 0, 128, &u) == 0
							    ? json_integer((json_int_t)u)
							    : json_string(v));
	} else if (strcmp(key, "protocol") == 0) {
		if (strcmp(v, "fwm") == 0 ? b->mark == 0 : strcmp(v, "tcp") != 0 && strcmp(v, "udp") != 0)
			lvs_error(p->imp, line, "protocol=%.20s: must be tcp or udp (fwm with "
				  "virtual=MARK)", v);
		else if (b->mark == 0)
			snprintf(b->proto, sizeof(b->proto), "%s", v);
	} else if (strcmp(key, "checktype") == 0) {
		snprintf(b->type, sizeof(b->type), "%s", v);
		b->type_line = line;
	} else if (strcmp(key, "service") == 0) {
		service_key(p, line, v);
	} else if (strcmp(key, "fallback") == 0) {
		char *w[MAX_WORDS];
		int n = split_words(v, w);
		json_t *f = server(p, line, w, n, json_integer_value(json_object_get(svc, "port")),
				   "fallback");
		if (f != NULL)
			json_object_set_new(svc, "fallback", f);
	} else if (strcmp(key, "secret") == 0) {
		lvs_error(p->imp, line, "secret: dpdk-lb has no radius check");
	} else {
		for (size_t k = 0; k < sizeof(check_keys) / sizeof(check_keys[0]); k++)
			if (strcmp(key, check_keys[k].key) == 0) {
				check_key(p, line, k, v, b->check);
				return;
			}
		lvs_error(p->imp, line, "%.40s: not an ldirectord virtual key dpdk-lb knows", key);
	}
}

static void global_key(struct parser *p, unsigned line, const char *key, char *v)
{
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (strcmp(key, ignored[i].key) == 0) {
			lvs_note(p->imp, line, "%s: not imported (%s)", key, ignored[i].why);
			return;
		}
	if (p->cur != NULL) {
		block_key(p, line, key, v);
		return;
	}
	if (strcmp(key, "fallback") == 0) {
		json_decref(p->global_fallback);
		p->global_fallback = json_string(unquote(v));
		p->global_fallback_line = line;
		return;
	}
	for (size_t k = 0; k < sizeof(check_keys) / sizeof(check_keys[0]); k++)
		if (strcmp(key, check_keys[k].key) == 0 && check_keys[k].global) {
			check_key(p, line, k, unquote(v), p->global_check);
			return;
		}
	lvs_error(p->imp, line, "%.40s: not a global ldirectord key dpdk-lb knows (or it belongs "
		  "indented in a virtual= block)", key);
}

/* Whether dpdk-lb picks a negotiate protocol for this port by itself (docs/config.md). */
static bool port_has_protocol(json_int_t port)
{
	static const json_int_t known[] = {21, 25, 53, 80, 110, 119, 143, 389, 443, 3306, 5060};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i] == port)
			return true;
	return false;
}

/* The block's check: global keys under its own, checktype, service; null for checktype=on. */
static void finish_block(struct parser *p, struct block *b)
{
	json_t *svc = json_array_get(p->imp->services, (size_t)b->idx), *check = json_object();
	const char *type = b->type[0] ? b->type : "negotiate";
	unsigned long n;

	if (b->mark == 0)
		json_object_set_new(svc, "proto", json_string(b->proto));
	if (json_object_get(svc, "fallback") == NULL && p->global_fallback != NULL) {
		char *copy = strdup(json_string_value(p->global_fallback)), *w[MAX_WORDS];
		unsigned fl = p->global_fallback_line;
		int nw = copy ? split_words(copy, w) : -1;
		json_t *f = server(p, fl, w, nw < 0 ? 0 : nw,
				   json_integer_value(json_object_get(svc, "port")), "fallback");
		if (f != NULL)
			json_object_set_new(svc, "fallback", f);
		free(copy);
	}
	json_object_update(check, p->global_check);
	json_object_update(check, b->check);
	if (strcmp(type, "on") == 0) {
		json_decref(check); /* up without checking: dpdk-lb's "no check" */
		return;
	}
	if (strcmp(type, "connect") != 0 && strcmp(type, "negotiate") != 0 &&
	    strcmp(type, "ping") != 0 && strcmp(type, "external") != 0 &&
	    strcmp(type, "off") != 0 && lvs_parse_uint(type, 1, 1000, &n) != 0) {
		lvs_error(p->imp, b->type_line, "checktype=%s: must be connect, negotiate, ping, "
			  "external, on, off or a number 1-1000", type);
		json_decref(check);
		return;
	}
	json_t *service = json_object_get(check, "service");
	bool negotiates = strcmp(type, "negotiate") == 0 || lvs_parse_uint(type, 1, 1000, &n) == 0;
	json_int_t cport = json_integer_value(json_object_get(check, "port"));
	if (cport == 0)
		cport = json_integer_value(json_object_get(svc, "port"));
	if (negotiates && (service != NULL ? strcmp(json_string_value(service), "none") == 0
					   : !port_has_protocol(cport))) {
		lvs_note(p->imp, b->type[0] ? b->type_line : b->line,
			 "negotiate check without a protocol dpdk-lb has for port %lld (service=none "
			 "or unset): imported as a connect check", (long long)cport);
		type = "connect";
	}
	if (service != NULL && strcmp(json_string_value(service), "none") == 0)
		json_object_del(check, "service");
	json_object_set_new(check, "type", lvs_parse_uint(type, 1, 1000, &n) == 0
						    ? json_integer((json_int_t)n)
						    : json_string(type));
	json_object_set_new(svc, "check", check);
}

/* One line of the file: "key = value", indented when it belongs to the virtual= above it. */
static void parse_line(struct parser *p, unsigned line, char *s)
{
	bool indented = s[0] == ' ' || s[0] == '\t';
	char *key = s, *eq;

	while (*key == ' ' || *key == '\t')
		key++;
	size_t n = strlen(key);
	while (n > 0 && (key[n - 1] == ' ' || key[n - 1] == '\t' || key[n - 1] == '\r'))
		key[--n] = '\0';
	if (n == 0 || key[0] == '#')
		return;
	if ((eq = strchr(key, '=')) == NULL) {
		lvs_error(p->imp, line, "not 'key = value'");
		return;
	}
	char *v = eq + 1, *k_end = eq;
	while (k_end > key && (k_end[-1] == ' ' || k_end[-1] == '\t'))
		k_end--;
	*k_end = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	if (!indented)
		p->cur = NULL;
	if (strcmp(key, "virtual") == 0) {
		if (indented)
			lvs_error(p->imp, line, "virtual= must start at the beginning of its line");
		else
			open_virtual(p, line, v);
		return;
	}
	if (indented && p->cur == NULL) {
		lvs_error(p->imp, line, "%.40s: indented, but no virtual= line above it", key);
		return;
	}
	if (p->cur != NULL && p->cur->idx < 0)
		return; /* its virtual= line was refused already */
	global_key(p, line, key, v);
}

int lb_import_ldirectord(const char *text, size_t len, const json_t *fwmarks,
			 struct lb_import *out)
{
	struct parser p = {.imp = out, .fwmarks = fwmarks, .global_check = json_object()};
	unsigned line = 0;
	size_t pos = 0;

	lvs_import_init(out);
	while (pos < len) {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t ll = eol ? (size_t)(eol - text - pos) : len - pos;
		char buf[1024];

		line++;
		if (ll >= sizeof(buf))
			lvs_error(out, line, "line longer than %zu bytes", sizeof(buf) - 1);
		else if (memchr(text + pos, '\0', ll) != NULL)
			lvs_error(out, line, "a NUL byte: not a text file");
		else {
			memcpy(buf, text + pos, ll);
			buf[ll] = '\0';
			parse_line(&p, line, buf);
		}
		pos += ll + 1;
	}
	for (size_t i = 0; i < p.n_blocks; i++) {
		if (p.blocks[i].idx >= 0)
			finish_block(&p, &p.blocks[i]);
		json_decref(p.blocks[i].check);
	}
	free(p.blocks);
	json_decref(p.global_check);
	json_decref(p.global_fallback);
	return json_array_size(out->errors) == 0 ? 0 : -1;
}
