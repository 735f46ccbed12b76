/* service add|update|del and real add|update|del: build the params, call, stay quiet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_cmd_util.h"
#include "cli_commands.h"
#include "cli_rpc.h"
#include "cli_format.h"

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
	{NULL, 0, false, 0},
};

static const struct cli_option real_opts[] = {
	{"weight", 'w', true, OPT_WEIGHT},	 {"forward", 0, true, OPT_FORWARD},
	{"gatewaying", 'g', false, OPT_FWD_DR},  {"ipip", 'i', false, OPT_FWD_TUN},
	{"masquerading", 'm', false, OPT_FWD_NAT}, {"u-threshold", 'x', true, OPT_U_THRESHOLD},
	{"l-threshold", 'y', true, OPT_L_THRESHOLD}, {"fullnat", 0, false, OPT_FWD_FNAT},
	{NULL, 0, false, 0},
};

static const struct cli_option no_opts[] = {{NULL, 0, false, 0}};

#define SERVICE_OPTS_USAGE                                                                         \
	"[--scheduler|-s SCHED] [--forward FWD|-g|-i|-m|--fullnat] [--persistent|-p SECONDS]\n"    \
	"       [--netmask|-M MASK] [--sched-flags|-b fallback,port] [--ops|-o]\n"                  \
	"       [--fallback IP[:PORT]|local|none] [--ports 80,443,LO-HI] [--protos tcp,udp]\n"     \
	"       [--laddr IP,IP...] [--client-address none|toa]"
#define REAL_OPTS_USAGE                                                                            \
	"[--weight|-w W] [--forward FWD|-g|-i|-m|--fullnat] [--u-threshold|-x N] [--l-threshold|-y N]"

/* What one of these commands was told on its command line. */
struct mutation {
	const char *positional[3];
	int n_positional;
	const char *scheduler;
	const char *forward;
	unsigned long weight;
	bool has_weight;
	json_t *extra; /* further params, as the daemon names them */
};

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

/*
 * Scans argv for exactly n_expected positionals and the options in opts; returns -1 to go on,
 * or the exit code to return (help printed, or a usage error).
 */
static int scan_mutation(struct cli_args *it, const struct cli_option *opts, int n_expected,
			 struct mutation *m)
{
	const char *value;
	int id;

	memset(m, 0, sizeof(*m));
	m->extra = json_object();
	while ((id = cli_args_next(it, opts, &value)) != CLI_ARG_END) {
		unsigned long n;
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
		case OPT_SCHEDULER:
			m->scheduler = value;
			break;
		case OPT_FORWARD:
			m->forward = value;
			break;
		case OPT_FWD_DR:
			m->forward = "dr";
			break;
		case OPT_FWD_TUN:
			m->forward = "tun";
			break;
		case OPT_FWD_NAT:
			m->forward = "nat";
			break;
		case OPT_FWD_FNAT:
			m->forward = "fnat";
			break;
		case OPT_LADDR:
			json_object_set_new(m->extra, "local_addresses", csv_array(value, false));
			break;
		case OPT_CLIENT_ADDRESS:
			json_object_set_new(m->extra, "client_address", json_string(value));
			break;
		case OPT_WEIGHT:
			if (cli_parse_ulong(value, 0, 65535, &m->weight) != 0)
				return cli_usage_error(it, "'%s': weight must be 0-65535", value);
			m->has_weight = true;
			break;
		case OPT_PERSISTENT:
			if (cli_parse_ulong(value, 0, 31536000, &n) != 0)
				return cli_usage_error(it, "'%s': persistence timeout must be 0-31536000 s", value);
			json_object_set_new(m->extra, "persistent", json_integer((json_int_t)n));
			break;
		case OPT_NETMASK:
			if (cli_parse_ulong(value, 0, 128, &n) == 0)
				json_object_set_new(m->extra, "netmask", json_integer((json_int_t)n));
			else
				json_object_set_new(m->extra, "netmask", json_string(value));
			break;
		case OPT_SCHED_FLAGS:
			json_object_set_new(m->extra, "sched_flags", csv_array(value, false));
			break;
		case OPT_OPS:
			json_object_set_new(m->extra, "ops", json_true());
			break;
		case OPT_PORTS:
			json_object_set_new(m->extra, "ports", csv_array(value, true));
			break;
		case OPT_PROTOS:
			json_object_set_new(m->extra, "protos", csv_array(value, false));
			break;
		case OPT_FALLBACK: {
			struct cli_endpoint fb;
			char err[160];
			if (strcmp(value, "none") == 0) {
				json_object_set_new(m->extra, "fallback", json_null());
				break;
			}
			if (strcmp(value, "local") == 0) { /* the appliance's holding page, 503 */
				json_object_set_new(m->extra, "fallback", json_pack("{s:b}", "local", 1));
				break;
			}
			if (cli_parse_endpoint(value, false, &fb, err, sizeof(err)) != 0)
				return cli_usage_error(it, "--fallback %s", err);
			json_t *o = json_pack("{s:s}", "ip", fb.ip);
			if (fb.has_port)
				json_object_set_new(o, "port", json_integer(fb.port));
			json_object_set_new(m->extra, "fallback", o);
			break;
		}
		case OPT_U_THRESHOLD:
		case OPT_L_THRESHOLD:
			if (cli_parse_ulong(value, 0, 4294967295UL, &n) != 0)
				return cli_usage_error(it, "'%s': threshold must be 0-4294967295", value);
			json_object_set_new(m->extra, id == OPT_U_THRESHOLD ? "u_threshold" : "l_threshold",
					    json_integer((json_int_t)n));
			break;
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
		json_decref(m.extra);
		return rc;
	}
	/* Refuse a no-op update here: it is almost certainly a forgotten option. */
	if (need_change && m.scheduler == NULL && m.forward == NULL && json_object_size(m.extra) == 0) {
		json_decref(m.extra);
		return cli_usage_error(&it, "nothing to update: give an option to change");
	}
	json_t *params = cli_service_key_from_args(&it, m.positional[0], m.positional[1], &rc);
	if (params == NULL) {
		json_decref(m.extra);
		return rc;
	}
	json_object_update(params, m.extra);
	json_decref(m.extra);
	if (m.scheduler != NULL)
		json_object_set_new(params, "scheduler", json_string(m.scheduler));
	if (m.forward != NULL)
		json_object_set_new(params, "forward", json_string(m.forward));
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
	if (rc >= 0) {
		json_decref(m.extra);
		return rc;
	}
	if (need_change && !m.has_weight && m.forward == NULL && json_object_size(m.extra) == 0) {
		json_decref(m.extra);
		return cli_usage_error(&it, "nothing to update: give --weight, --forward or a threshold");
	}
	if (cli_parse_endpoint(m.positional[2], false, &rip, err, sizeof(err)) != 0) {
		json_decref(m.extra);
		return cli_usage_error(&it, "RIP[:PORT] %s", err);
	}
	json_t *key = cli_service_key_from_args(&it, m.positional[0], m.positional[1], &rc);
	if (key == NULL) {
		json_decref(m.extra);
		return rc;
	}
	json_t *params = json_pack("{s:o, s:s}", "service", key, "ip", rip.ip);
	if (params == NULL) {
		json_decref(m.extra);
		fprintf(stderr, "%s: out of memory\n", CLI_PROGRAM);
		return CLI_EXIT_FAILURE;
	}
	/* Without a port the daemon uses the service's, which is what DR needs anyway. */
	if (rip.has_port)
		json_object_set_new(params, "port", json_integer(rip.port));
	if (m.has_weight)
		json_object_set_new(params, "weight", json_integer((json_int_t)m.weight));
	if (m.forward != NULL)
		json_object_set_new(params, "forward", json_string(m.forward));
	json_object_update(params, m.extra);
	json_decref(m.extra);
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
