/* ipvsadm -S (ipvsadm-save) rules into dpdk-lb services: -A/-a with the options -S writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lvs_util.h"

#define MAX_TOKENS 32

/* One -A or -a line, as its options said. */
struct rule {
	bool add_service;
	char proto[4];
	char vip[LVS_ADDR_LEN];
	int port;
	unsigned long mark;
	json_t *svc; /* -A: the options seen (owned) */
	json_t *real; /* -a: the real (owned) */
};

static const struct {
	const char *s, *l;
} aliases[] = {
	{"-A", "--add-service"},    {"-a", "--add-server"},	  {"-t", "--tcp-service"},
	{"-u", "--udp-service"},    {"-f", "--fwmark-service"},	  {"-s", "--scheduler"},
	{"-p", "--persistent"},	    {"-M", "--netmask"},	  {"-b", "--sched-flags"},
	{"-o", "--ops"},	    {"-r", "--real-server"},	  {"-g", "--gatewaying"},
	{"-i", "--ipip"},	    {"-m", "--masquerading"},	  {"-w", "--weight"},
	{"-x", "--u-threshold"},    {"-y", "--l-threshold"},	  {"-C", "--clear"},
};

/* The short spelling of an option ("--weight" -> "-w"); the token itself otherwise. */
static const char *short_form(const char *t)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(t, aliases[i].l) == 0)
			return aliases[i].s;
	return t;
}

/* "sh-fallback,sh-port" (also mh-, flag-1, flag-2) into sched_flags; NULL when unknown. */
static json_t *sched_flags(const char *s)
{
	json_t *flags = json_array();
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *f = strtok_r(buf, ",", &save); f != NULL; f = strtok_r(NULL, ",", &save)) {
		const char *name = NULL;
		if (strcmp(f, "sh-fallback") == 0 || strcmp(f, "mh-fallback") == 0 ||
		    strcmp(f, "flag-1") == 0)
			name = "fallback";
		else if (strcmp(f, "sh-port") == 0 || strcmp(f, "mh-port") == 0 ||
			 strcmp(f, "flag-2") == 0)
			name = "port";
		if (name == NULL) {
			json_decref(flags);
			return NULL;
		}
		json_array_append_new(flags, json_string(name));
	}
	return flags;
}

static int take_value(struct lb_import *imp, unsigned line, char **tok, int n, int *i,
		      const char *opt, const char **value)
{
	if (*i + 1 >= n) {
		lvs_error(imp, line, "%s needs a value", opt);
		return -1;
	}
	*value = tok[++*i];
	return 0;
}

static int number(struct lb_import *imp, unsigned line, const char *opt, const char *v,
		  unsigned long max, unsigned long *out)
{
	if (lvs_parse_uint(v, 0, max, out) == 0)
		return 0;
	lvs_error(imp, line, "%s '%.40s': must be an integer 0-%lu", opt, v, max);
	return -1;
}

/* Applies a real's option tok[*i] (-r, -g, -i, -m, -w, -x, -y) to r: 0, -1 after an error, or
 * 1 when tok[*i] is none of them. */
static int real_option(struct lb_import *imp, unsigned line, struct rule *r, char **tok, int n,
		       int *i)
{
	const char *o = short_form(tok[*i]), *v = NULL;
	char why[LB_IMPORT_MSG_LEN];
	unsigned long u;
	int port;

	if (strcmp(o, "-r") == 0) {
		char ip[LVS_ADDR_LEN];
		if (take_value(imp, line, tok, n, i, o, &v) != 0)
			return -1;
		if (lvs_parse_hostport(v, ip, &port, why, sizeof(why)) != 0) {
			lvs_error(imp, line, "-r %s", why);
			return -1;
		}
		json_object_set_new(r->real, "ip", json_string(ip));
		if (port >= 0)
			json_object_set_new(r->real, "port", json_integer(port));
	} else if (strcmp(o, "-g") == 0 || strcmp(o, "-i") == 0 || strcmp(o, "-m") == 0) {
		json_object_set_new(r->real, "forward",
				    json_string(o[1] == 'g' ? "dr" : o[1] == 'i' ? "tun" : "nat"));
	} else if (strcmp(o, "-w") == 0 || strcmp(o, "-x") == 0 || strcmp(o, "-y") == 0) {
		bool w = o[1] == 'w';
		if (take_value(imp, line, tok, n, i, o, &v) != 0 ||
		    number(imp, line, o, v, w ? 65535 : 4294967295ul, &u) != 0)
			return -1;
		json_object_set_new(r->real, w ? "weight" : o[1] == 'x' ? "u_threshold" : "l_threshold",
				    json_integer((json_int_t)u));
	} else {
		return 1;
	}
	return 0;
}

/* Applies option tok[*i] (short form o) to r; 0 or -1 after an error. */
static int option(struct lb_import *imp, unsigned line, struct rule *r, char **tok, int n, int *i)
{
	const char *o = short_form(tok[*i]), *v = NULL;
	char why[LB_IMPORT_MSG_LEN];
	unsigned long u;
	int port, rc;

	if (strcmp(o, "-t") == 0 || strcmp(o, "-u") == 0) {
		if (take_value(imp, line, tok, n, i, o, &v) != 0)
			return -1;
		if (lvs_parse_hostport(v, r->vip, &port, why, sizeof(why)) != 0) {
			lvs_error(imp, line, "%s %s", o, why);
			return -1;
		}
		if (port < 1) {
			lvs_error(imp, line, "%s needs VIP:PORT with a port 1-65535", o);
			return -1;
		}
		r->port = port;
		snprintf(r->proto, sizeof(r->proto), "%s", o[1] == 't' ? "tcp" : "udp");
	} else if (strcmp(o, "-f") == 0) {
		if (take_value(imp, line, tok, n, i, o, &v) != 0 ||
		    number(imp, line, o, v, 4294967295ul, &u) != 0)
			return -1;
		if (u == 0) {
			lvs_error(imp, line, "-f 0: a firewall mark is 1-4294967295");
			return -1;
		}
		r->mark = u;
	} else if (strcmp(o, "-6") == 0) {
		/* the family of a mark comes from the VIP given with --fwmark */
	} else if (strcmp(o, "-s") == 0) {
		if (take_value(imp, line, tok, n, i, o, &v) != 0)
			return -1;
		json_object_set_new(r->svc, "scheduler", json_string(v));
	} else if (strcmp(o, "-p") == 0) {
		/* -p takes an optional timeout; ipvsadm's default is 300 s */
		u = 300;
		if (*i + 1 < n && tok[*i + 1][0] != '-' &&
		    number(imp, line, o, tok[++*i], 31536000, &u) != 0)
			return -1;
		json_object_set_new(r->svc, "persistent", json_integer((json_int_t)u));
	} else if (strcmp(o, "-M") == 0) {
		if (take_value(imp, line, tok, n, i, o, &v) != 0)
			return -1;
		json_object_set_new(r->svc, "netmask",
				    lvs_parse_uint(v, 0, 128, &u) == 0 ? json_integer((json_int_t)u)
								       : json_string(v));
	} else if (strcmp(o, "-b") == 0) {
		json_t *f;
		if (take_value(imp, line, tok, n, i, o, &v) != 0)
			return -1;
		if ((f = sched_flags(v)) == NULL) {
			lvs_error(imp, line, "-b '%.60s': flags are sh-fallback, sh-port, mh-fallback, "
				  "mh-port (flag-1, flag-2)", v);
			return -1;
		}
		json_object_set_new(r->svc, "sched_flags", f);
	} else if (strcmp(o, "-o") == 0) {
		json_object_set_new(r->svc, "ops", json_true());
	} else if ((rc = real_option(imp, line, r, tok, n, i)) != 1) {
		return rc;
	} else {
		lvs_error(imp, line, "option '%.40s' is not taken: not an ipvsadm -S option dpdk-lb "
			  "has (see docs/migration.md)", tok[*i]);
		return -1;
	}
	return 0;
}

/* Files the -A of r as a new service; errors when it is there already. */
static void add_service(struct lb_import *imp, unsigned line, struct rule *r,
			const json_t *fwmarks)
{
	char why[LB_IMPORT_MSG_LEN];
	json_t *svc;

	if (lvs_find_service(imp, r->proto, r->vip, r->port, r->mark) >= 0) {
		lvs_error(imp, line, "this service was added before");
		return;
	}
	if (r->mark != 0) {
		svc = lvs_fwmark_service(fwmarks, r->mark, why, sizeof(why));
		if (svc == NULL) {
			lvs_error(imp, line, "%s", why);
			return;
		}
	} else {
		svc = json_pack("{s:s, s:i, s:s}", "vip", r->vip, "port", r->port, "proto", r->proto);
	}
	json_object_update(svc, r->svc);
	size_t idx = lvs_add_service(imp, svc, line);
	if (r->mark != 0)
		json_object_set_new(json_array_get(imp->lines, idx), "mark",
				    json_integer((json_int_t)r->mark));
}

static void add_real(struct lb_import *imp, unsigned line, struct rule *r)
{
	long idx = lvs_find_service(imp, r->proto, r->vip, r->port, r->mark);

	if (json_object_get(r->real, "ip") == NULL) {
		lvs_error(imp, line, "-a needs -r REAL[:PORT]");
		return;
	}
	if (idx < 0) {
		lvs_error(imp, line, "-a for a service that no -A line before it adds");
		return;
	}
	json_t *svc = json_array_get(imp->services, (size_t)idx);
	if (json_integer_value(json_object_get(svc, "port")) == 0) {
		json_t *p = json_object_get(r->real, "port");
		if (p != NULL && json_integer_value(p) != 0)
			lvs_note(imp, line, "real port %lld not kept: the reals of a firewall-mark "
				 "service group get the client's destination port",
				 (long long)json_integer_value(p));
		json_object_set_new(r->real, "port", json_integer(0));
	}
	if (json_object_get(r->real, "forward") == NULL)
		json_object_set_new(r->real, "forward", json_string("dr")); /* ipvsadm's default */
	lvs_add_real(imp, (size_t)idx, json_incref(r->real), line);
}

/* Parses one line's tokens. */
static void parse_rule(struct lb_import *imp, unsigned line, char **tok, int n,
		       const json_t *fwmarks)
{
	struct rule r = {.svc = json_object(), .real = json_object(), .port = -1};
	const char *cmd = short_form(tok[0]);

	if (strcmp(cmd, "-C") == 0) {
		lvs_note(imp, line, "-C (clear) not applied: an import adds services; "
			 "dpdk-lb-cli import --replace removes the running ones first");
		goto out;
	}
	if (strcmp(cmd, "-A") != 0 && strcmp(cmd, "-a") != 0) {
		lvs_error(imp, line, "'%.40s' is not taken: lines of ipvsadm -S start with -A or -a",
			  tok[0]);
		goto out;
	}
	r.add_service = cmd[1] == 'A';
	for (int i = 1; i < n; i++) {
		const char *o = short_form(tok[i]);
		bool svc_opt = strcmp(o, "-s") == 0 || strcmp(o, "-p") == 0 || strcmp(o, "-M") == 0 ||
			       strcmp(o, "-b") == 0 || strcmp(o, "-o") == 0;
		bool real_opt = strcmp(o, "-r") == 0 || strcmp(o, "-g") == 0 || strcmp(o, "-i") == 0 ||
				strcmp(o, "-m") == 0 || strcmp(o, "-w") == 0 || strcmp(o, "-x") == 0 ||
				strcmp(o, "-y") == 0;
		if ((svc_opt && !r.add_service) || (real_opt && r.add_service)) {
			lvs_error(imp, line, "%s does not belong on an %s line", tok[i], cmd);
			goto out;
		}
		if (option(imp, line, &r, tok, n, &i) != 0)
			goto out;
	}
	if (r.port < 0 && r.mark == 0) {
		lvs_error(imp, line, "%s needs -t, -u or -f", cmd);
		goto out;
	}
	if (r.add_service)
		add_service(imp, line, &r, fwmarks);
	else
		add_real(imp, line, &r);
out:
	json_decref(r.svc);
	json_decref(r.real);
}

int lb_import_ipvsadm(const char *text, size_t len, const json_t *fwmarks, struct lb_import *out)
{
	lvs_import_init(out);
	unsigned line = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t ll = eol ? (size_t)(eol - text - pos) : len - pos;
		char buf[1024], *tok[MAX_TOKENS], *save = NULL;
		int n = 0;

		line++;
		if (ll >= sizeof(buf)) {
			lvs_error(out, line, "line longer than %zu bytes", sizeof(buf) - 1);
		} else {
			memcpy(buf, text + pos, ll);
			buf[ll] = '\0';
			if (memchr(buf, '\0', ll) != NULL) {
				lvs_error(out, line, "a NUL byte: not a text file");
				goto next;
			}
			for (char *t = strtok_r(buf, " \t\r", &save); t != NULL && n < MAX_TOKENS;
			     t = strtok_r(NULL, " \t\r", &save))
				tok[n++] = t;
			if (n == MAX_TOKENS)
				lvs_error(out, line, "more than %d words", MAX_TOKENS - 1);
			else if (n > 0 && tok[0][0] != '#')
				parse_rule(out, line, tok, n, fwmarks);
		}
next:
		pos += ll + 1;
	}
	return json_array_size(out->errors) == 0 ? 0 : -1;
}
