/* service add|update|del and real add|update|del: build the params, call, stay quiet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cmd_util.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_health_opts.h"
#include "cli_rpc.h"

enum {
	OPT_SCHEDULER = 1,
	OPT_FORWARD,
	OPT_WEIGHT,
	OPT_FWD_DR,  /* ipvsadm -g, gatewaying */
	OPT_FWD_TUN, /* ipvsadm -i, ipip */
	OPT_FWD_NAT, /* ipvsadm -m, masquerading */
	OPT_PERSISTENT,  /* ipvsadm -p */
	OPT_NETMASK,     /* ipvsadm -M */
	OPT_SCHED_FLAGS, /* ipvsadm -b */
	OPT_OPS,         /* ipvsadm -o */
	OPT_FALLBACK,
	OPT_PORTS,
	OPT_PROTOS,
	OPT_U_THRESHOLD, /* ipvsadm -x */
	OPT_L_THRESHOLD, /* ipvsadm -y */
	OPT_FWD_FNAT,
	OPT_LADDR,
	OPT_CLIENT_ADDRESS,
};

static const struct cli_option service_opts[] = {
	{"scheduler", 's', true, OPT_SCHEDULER}, {"forward", 0, true, OPT_FORWARD},
	{"gatewaying", 'g', false, OPT_FWD_DR},  {"ipip", 'i', false, OPT_FWD_TUN},
	{"masquerading", 'm', false, OPT_FWD_NAT}, {"persistent", 'p', true, OPT_PERSISTENT},
	{"netmask", 'M', true, OPT_NETMASK},	   {"sched-flags", 'b', true, OPT_SCHED_FLAGS},
	{"ops", 'o', false, OPT_OPS},		   {"fallback", 0, true, OPT_FALLBACK},
	{"ports", 0, true, OPT_PORTS},		   {"protos", 0, true, OPT_PROTOS},
	{"fullnat", 0, false, OPT_FWD_FNAT},	   {"laddr", 0, true, OPT_LADDR},
	{"client-address", 0, true, OPT_CLIENT_ADDRESS},
	CLI_CHECK_OPTIONS,
	CLI_AGENT_OPTIONS,
	{NULL, 0, false, 0},
};

static const struct cli_option real_opts[] = {
	{"weight", 'w', true, OPT_WEIGHT},	 {"forward", 0, true, OPT_FORWARD},
	{"gatewaying", 'g', false, OPT_FWD_DR},  {"ipip", 'i', false, OPT_FWD_TUN},
	{"masquerading", 'm', false, OPT_FWD_NAT}, {"u-threshold", 'x', true, OPT_U_THRESHOLD},
	{"l-threshold", 'y', true, OPT_L_THRESHOLD}, {"fullnat", 0, false, OPT_FWD_FNAT},
	{"state", 0, true, HOPT_STATE},
	CLI_CHECK_OPTIONS,
	{NULL, 0, false, 0},
};

static const struct cli_option no_opts[] = {{NULL, 0, false, 0}};

#define SERVICE_OPTS_USAGE                                                                         \
	"[--scheduler|-s SCHED] [--forward FWD|-g|-i|-m|--fullnat] [--persistent|-p SECONDS]\n"    \
	"       [--netmask|-M MASK] [--sched-flags|-b fallback,port] [--ops|-o]\n"                  \
	"       [--fallback IP[:PORT]|local|none] [--ports 80,443,LO-HI] [--protos tcp,udp]\n"     \
	"       [--laddr IP,IP...] [--client-address none|toa]\n"                                 \
	CLI_CHECK_OPTS_USAGE "\n" CLI_AGENT_OPTS_USAGE
#define REAL_OPTS_USAGE                                                                            \
	"[--weight|-w W] [--forward FWD|-g|-i|-m|--fullnat] [--u-threshold|-x N] [--l-threshold|-y N]\n" \
	"       [--state online|drain|offline] (a check override:)\n" CLI_CHECK_OPTS_USAGE

/* What one of these commands was told on its command line. */
struct mutation {
	const char *positional[3];
	int n_positional;
	const char *scheduler;
	const char *forward;
	unsigned long weight;
	bool has_weight;
	json_t *extra; /* further params, as the daemon names them */
	struct cli_health_edit health;
};

static void mutation_free(struct mutation *m)
{
	json_decref(m->extra);
	cli_health_edit_free(&m->health);
}

/* "a,b,c" into a JSON array; numbers become integers when as_numbers. */
static json_t *csv_array(const char *text, bool as_numbers)
{
	json_t *a = json_array();
	char *copy = strdup(text), *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		/* ipvsadm writes scheduler flags as sh-fallback, mh-port ... */
		char *dash = as_numbers ? NULL : strchr(tok, '-');
		char *end;
		unsigned long n = strtoul(tok, &end, 10);
		if (as_numbers && *tok != '\0' && *end == '\0')
			json_array_append_new(a, json_integer((json_int_t)n));
		else
			json_array_append_new(a, json_string(dash ? dash + 1 : tok));
	}
	free(copy);
	return a;
}

/* --fallback none|local|RIP[:PORT] into m->extra; -1 to go on, or the exit code. */
static int fallback_option(struct cli_args *it, const char *value, struct mutation *m)
{
	struct cli_endpoint fb;
	char err[160];

	if (strcmp(value, "none") == 0) {
		json_object_set_new(m->extra, "fallback", json_null());
		return -1;
	}
	if (strcmp(value, "local") == 0) { /* the appliance's holding page, 503 */
		json_object_set_new(m->extra, "fallback", json_pack("{s:b}", "local", 1));
		return -1;
	}
	if (cli_parse_endpoint(value, false, &fb, err, sizeof(err)) != 0)
		return cli_usage_error(it, "--fallback %s", err);
	json_t *o = json_pack("{s:s}", "ip", fb.ip);
	if (fb.has_port)
		json_object_set_new(o, "port", json_integer(fb.port));
	json_object_set_new(m->extra, "fallback", o);
	return -1;
}

/* Options with a number: weight, persistence, netmask, thresholds; -1 to go on, or the exit. */
static int number_option(struct cli_args *it, int id, const char *value, struct mutation *m)
{
	unsigned long n;

	switch (id) {
	case OPT_WEIGHT:
		if (cli_parse_ulong(value, 0, 65535, &m->weight) != 0)
			return cli_usage_error(it, "'%s': weight must be 0-65535", value);
		m->has_weight = true;
		return -1;
	case OPT_PERSISTENT:
		if (cli_parse_ulong(value, 0, 31536000, &n) != 0)
			return cli_usage_error(it, "'%s': persistence timeout must be 0-31536000 s", value);
		json_object_set_new(m->extra, "persistent", json_integer((json_int_t)n));
		return -1;
	case OPT_NETMASK:
		if (cli_parse_ulong(value, 0, 128, &n) == 0)
			json_object_set_new(m->extra, "netmask", json_integer((json_int_t)n));
		else
			json_object_set_new(m->extra, "netmask", json_string(value));
		return -1;
	default: /* OPT_U_THRESHOLD, OPT_L_THRESHOLD */
		if (cli_parse_ulong(value, 0, 4294967295UL, &n) != 0)
			return cli_usage_error(it, "'%s': threshold must be 0-4294967295", value);
		json_object_set_new(m->extra, id == OPT_U_THRESHOLD ? "u_threshold" : "l_threshold",
				    json_integer((json_int_t)n));
		return -1;
	}
}

/* One option of a mutation into m; -1 to go on, or the exit code. */
static int mutation_option(struct cli_args *it, int id, const char *value, struct mutation *m)
{
	char err[200];

	switch (id) {
	case OPT_SCHEDULER:
		m->scheduler = value;
		return -1;
	case OPT_FORWARD:
		m->forward = value;
		return -1;
	case OPT_FWD_DR:
	case OPT_FWD_TUN:
	case OPT_FWD_NAT:
	case OPT_FWD_FNAT:
		m->forward = id == OPT_FWD_DR ? "dr" : id == OPT_FWD_TUN ? "tun"
			     : id == OPT_FWD_NAT ? "nat" : "fnat";
		return -1;
	case OPT_LADDR:
	case OPT_SCHED_FLAGS:
	case OPT_PROTOS:
	case OPT_PORTS:
		json_object_set_new(m->extra,
				    id == OPT_LADDR	    ? "local_addresses"
				    : id == OPT_SCHED_FLAGS ? "sched_flags"
				    : id == OPT_PROTOS	    ? "protos"
							    : "ports",
				    csv_array(value, id == OPT_PORTS));
		return -1;
	case OPT_CLIENT_ADDRESS:
		json_object_set_new(m->extra, "client_address", json_string(value));
		return -1;
	case OPT_OPS:
		json_object_set_new(m->extra, "ops", json_true());
		return -1;
	case OPT_FALLBACK:
		return fallback_option(it, value, m);
	case OPT_WEIGHT:
	case OPT_PERSISTENT:
	case OPT_NETMASK:
	case OPT_U_THRESHOLD:
	case OPT_L_THRESHOLD:
		return number_option(it, id, value, m);
	default: /* the health options (cli_health_opts.h) */
		if (cli_health_option(&m->health, id, value, err, sizeof(err)) != 0)
			return cli_usage_error(it, "%s", err);
		return -1;
	}
}

/*
 * Scans argv for exactly n_expected positionals and the options in opts; returns -1 to go on,
 * or the exit code to return (help printed, or a usage error).
 */
static int scan_mutation(struct cli_args *it, const struct cli_option *opts, int n_expected,
			 struct mutation *m)
{
	const char *value;
	int id, rc;

	memset(m, 0, sizeof(*m));
	m->extra = json_object();
	while ((id = cli_args_next(it, opts, &value)) != CLI_ARG_END) {
		switch (id) {
		case CLI_ARG_ERROR:
			return CLI_EXIT_USAGE;
		case CLI_ARG_HELP:
			return cli_print_help(it);
		case CLI_ARG_POSITIONAL:
			if (m->n_positional == n_expected)
				return cli_usage_error(it, "unexpected argument '%s'", value);
			m->positional[m->n_positional++] = value;
			break;
		default:
			if ((rc = mutation_option(it, id, value, m)) != -1)
				return rc;
		}
	}
	if (m->n_positional < n_expected)
		return cli_usage_error(it, "missing arguments");
	return -1;
}

/* Calls method with params (stolen); prints the result only with --json. */
static int call_quiet(struct cli_ctx *ctx, const char *method, json_t *params)
{
	json_t *result;

	if (cli_rpc_call(ctx, method, params, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

/*
 * The service named by key in service.list, for an update that merges check or agent keys
 * into the current objects: 0 with *list (service.list's result, a new reference) and *svc in
 * it (NULL when the daemon has no such service: the update then fails there); 1 after a failed
 * call.
 */
static int current_service(struct cli_ctx *ctx, const json_t *key, json_t **list, json_t **svc)
{
	const char *proto = json_string_value(json_object_get(key, "proto"));
	const char *vip = json_string_value(json_object_get(key, "vip"));
	json_int_t port = json_integer_value(json_object_get(key, "port"));
	size_t i;
	json_t *s;

	*svc = NULL;
	if (cli_rpc_call(ctx, "service.list", NULL, list) != 0)
		return 1;
	json_array_foreach(json_object_get(*list, "services"), i, s) {
		if (json_equal(json_object_get(s, "proto"), json_object_get(key, "proto")) &&
		    json_integer_value(json_object_get(s, "port")) == port && proto != NULL &&
		    vip != NULL && json_string_value(json_object_get(s, "vip")) != NULL &&
		    strcmp(json_string_value(json_object_get(s, "vip")), vip) == 0) {
			*svc = s;
			break;
		}
	}
	return 0;
}

/*
 * Adds the health options to params; on an update with check/agent keys, merged over the
 * current objects (real_ep: the real whose override is edited, NULL for a service). -1 to go
 * on, else the exit code.
 */
static int add_health(struct cli_ctx *ctx, struct cli_args *it, struct mutation *m,
		      json_t *params, const json_t *key, const struct cli_endpoint *real_ep,
		      bool update)
{
	json_t *list = NULL, *svc = NULL, *base_check = NULL, *base_agent = NULL;
	char err[200];

	if (update && cli_health_has_keys(&m->health)) {
		if (current_service(ctx, key, &list, &svc) != 0)
			return CLI_EXIT_FAILURE;
		if (real_ep == NULL) {
			base_check = json_object_get(svc, "check");
			base_agent = json_object_get(svc, "agent");
		} else {
			size_t i;
			json_t *r;
			struct cli_endpoint ep = *real_ep;
			if (!ep.has_port) { /* the daemon's default: the service's port */
				ep.has_port = true;
				ep.port = (unsigned)json_integer_value(json_object_get(key, "port"));
			}
			json_array_foreach(json_object_get(svc, "reals"), i, r)
				if (json_is_string(json_object_get(r, "ip")) &&
				    cli_endpoint_equals(&ep, json_string_value(json_object_get(r, "ip")),
							json_integer_value(json_object_get(r, "port"))))
					base_check = json_object_get(r, "check");
		}
	}
	int rc = cli_health_apply(&m->health, params, base_check, base_agent, err, sizeof(err));
	json_decref(list);
	return rc == 0 ? -1 : cli_usage_error(it, "%s", err);
}

static int service_command(struct cli_ctx *ctx, int argc, char **argv, const char *command,
			   const char *usage, const char *method, bool with_options,
			   bool need_change)
{
	struct cli_args it;
	struct mutation m;
	int rc;

	cli_args_init(&it, argc, argv, command, usage, &ctx->json);
	rc = scan_mutation(&it, with_options ? service_opts : no_opts, 2, &m);
	if (rc >= 0) {
		mutation_free(&m);
		return rc;
	}
	/* Refuse a no-op update here: it is almost certainly a forgotten option. */
	if (need_change && m.scheduler == NULL && m.forward == NULL &&
	    json_object_size(m.extra) == 0 && !cli_health_has_any(&m.health)) {
		mutation_free(&m);
		return cli_usage_error(&it, "nothing to update: give an option to change");
	}
	json_t *params = cli_service_key_from_args(&it, m.positional[0], m.positional[1], &rc);
	if (params == NULL) {
		mutation_free(&m);
		return rc;
	}
	json_object_update(params, m.extra);
	if (m.scheduler != NULL)
		json_object_set_new(params, "scheduler", json_string(m.scheduler));
	if (m.forward != NULL)
		json_object_set_new(params, "forward", json_string(m.forward));
	rc = add_health(ctx, &it, &m, params, params, NULL, need_change);
	mutation_free(&m);
	if (rc >= 0) {
		json_decref(params);
		return rc;
	}
	return call_quiet(ctx, method, params);
}

int cmd_service_add(struct cli_ctx *ctx, int argc, char **argv)
{
	return service_command(ctx, argc, argv, "service add",
			       "service add PROTO VIP:PORT " SERVICE_OPTS_USAGE, "service.add",
			       true, false);
}

int cmd_service_update(struct cli_ctx *ctx, int argc, char **argv)
{
	return service_command(ctx, argc, argv, "service update",
			       "service update PROTO VIP:PORT " SERVICE_OPTS_USAGE,
			       "service.update", true, true);
}

int cmd_service_del(struct cli_ctx *ctx, int argc, char **argv)
{
	return service_command(ctx, argc, argv, "service del", "service del PROTO VIP:PORT",
			       "service.del", false, false);
}

static int real_command(struct cli_ctx *ctx, int argc, char **argv, const char *command,
			const char *usage, const char *method, bool with_options, bool need_change)
{
	struct cli_args it;
	struct mutation m;
	struct cli_endpoint rip;
	char err[160];
	int rc;

	cli_args_init(&it, argc, argv, command, usage, &ctx->json);
	rc = scan_mutation(&it, with_options ? real_opts : no_opts, 3, &m);
	if (rc < 0 && need_change && !m.has_weight && m.forward == NULL &&
	    json_object_size(m.extra) == 0 && !cli_health_has_any(&m.health))
		rc = cli_usage_error(&it, "nothing to update: give --weight, --forward, a threshold, "
					  "--state or a check option");
	if (rc < 0 && cli_parse_endpoint(m.positional[2], false, &rip, err, sizeof(err)) != 0)
		rc = cli_usage_error(&it, "RIP[:PORT] %s", err);
	json_t *key = rc < 0 ? cli_service_key_from_args(&it, m.positional[0], m.positional[1], &rc)
			     : NULL;
	json_t *params = key != NULL ? json_pack("{s:O, s:s}", "service", key, "ip", rip.ip) : NULL;
	if (key != NULL && params == NULL) {
		fprintf(stderr, "%s: out of memory\n", CLI_PROGRAM);
		rc = CLI_EXIT_FAILURE;
	}
	if (params != NULL) {
		/* Without a port the daemon uses the service's, which is what DR needs anyway. */
		if (rip.has_port)
			json_object_set_new(params, "port", json_integer(rip.port));
		if (m.has_weight)
			json_object_set_new(params, "weight", json_integer((json_int_t)m.weight));
		if (m.forward != NULL)
			json_object_set_new(params, "forward", json_string(m.forward));
		json_object_update(params, m.extra);
		rc = add_health(ctx, &it, &m, params, key, &rip, need_change);
	}
	json_decref(key);
	mutation_free(&m);
	if (rc >= 0) {
		json_decref(params);
		return rc;
	}
	return call_quiet(ctx, method, params);
}

int cmd_real_add(struct cli_ctx *ctx, int argc, char **argv)
{
	return real_command(ctx, argc, argv, "real add",
			    "real add PROTO VIP:PORT RIP[:PORT] " REAL_OPTS_USAGE, "real.add", true,
			    false);
}

int cmd_real_update(struct cli_ctx *ctx, int argc, char **argv)
{
	return real_command(ctx, argc, argv, "real update",
			    "real update PROTO VIP:PORT RIP[:PORT] " REAL_OPTS_USAGE, "real.update",
			    true, true);
}

int cmd_real_del(struct cli_ctx *ctx, int argc, char **argv)
{
	return real_command(ctx, argc, argv, "real del", "real del PROTO VIP:PORT RIP[:PORT]",
			    "real.del", false, false);
}
