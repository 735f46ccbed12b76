/* Read-only commands (list, stats, conns, info, config) and the generic `call`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_cmd_util.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_rpc.h"

#ifndef DPDK_LB_VERSION
#define DPDK_LB_VERSION "unknown" /* meson defines it; a bare gcc build may not */
#endif

enum { OPT_STATS = 1, OPT_RATE, OPT_EXACT, OPT_NUMERIC, OPT_LIMIT };

/* Collects up to max positionals, handling -h and errors; -1 to go on, else the exit code. */
static int scan_args(struct cli_args *it, const struct cli_option *opts, const char **pos,
		     int max, int *n_pos, int (*on_option)(void *, int, const char *), void *arg)
{
	const char *value;
	int id;

	*n_pos = 0;
	while ((id = cli_args_next(it, opts, &value)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR)
			return CLI_EXIT_USAGE;
		if (id == CLI_ARG_HELP)
			return cli_print_help(it);
		if (id == CLI_ARG_POSITIONAL) {
			if (*n_pos == max)
				return cli_usage_error(it, "unexpected argument '%s'", value);
			pos[(*n_pos)++] = value;
			continue;
		}
		int rc = on_option(arg, id, value);
		if (rc >= 0)
			return rc;
	}
	return -1;
}

struct list_opts {
	struct cli_args *it;
	bool stats, rate, exact;
	unsigned long limit;
	bool has_limit;
};

static int on_list_option(void *arg, int id, const char *value)
{
	struct list_opts *o = arg;

	switch (id) {
	case OPT_STATS:
		o->stats = true;
		break;
	case OPT_RATE:
		o->rate = true;
		break;
	case OPT_EXACT:
		o->exact = true;
		break;
	case OPT_LIMIT:
		if (cli_parse_ulong(value, 1, 100000, &o->limit) != 0)
			return cli_usage_error(o->it, "'%s': --limit must be 1-100000", value);
		o->has_limit = true;
		break;
	default: /* -n: addresses are always numeric, accepted for ipvsadm habits */
		break;
	}
	return -1;
}

static const struct cli_option list_opts_table[] = {
	{"stats", 0, false, OPT_STATS},	  {"rate", 0, false, OPT_RATE},
	{"exact", 0, false, OPT_EXACT}, {"numeric", 'n', false, OPT_NUMERIC},
	{NULL, 0, false, 0},
};

/* The service.list entry matching key, or NULL. */
static json_t *find_service(json_t *services, const char *proto, const struct cli_endpoint *vip)
{
	size_t i;
	json_t *svc;

	json_array_foreach(services, i, svc) {
		const char *p = json_string_value(json_object_get(svc, "proto"));
		const char *ip = json_string_value(json_object_get(svc, "vip"));
		long long port = (long long)json_integer_value(json_object_get(svc, "port"));
		if (p != NULL && ip != NULL && strcmp(p, proto) == 0 &&
		    cli_endpoint_equals(vip, ip, port))
			return svc;
	}
	return NULL;
}

/* list --stats / --rate; key (stolen) narrows it to one service, NULL lists them all. */
static int list_counters(struct cli_ctx *ctx, const struct list_opts *o, json_t *key)
{
	bool all_services = key == NULL;
	json_t *result;

	if (cli_rpc_call(ctx, "stats.get", key, &result) != 0)
		return CLI_EXIT_FAILURE;
	json_t *services = json_object_get(result, "services");
	int rc = CLI_EXIT_OK;
	if (ctx->json) {
		cli_print_json(result);
	} else if (o->rate && !cli_stats_have_rates(services)) {
		fprintf(stderr, "%s: list --rate: not supported yet (stats.get reports no rates)\n",
			CLI_PROGRAM);
		rc = CLI_EXIT_USAGE;
	} else {
		/* ipvsadm prints the version line only when listing every service. */
		if (all_services)
			printf("IP Virtual Server version %s (dpdk-lb)\n", DPDK_LB_VERSION);
		if (o->rate)
			cli_print_rate_table(services, o->exact);
		else
			cli_print_stats_table(services, o->exact);
	}
	json_decref(result);
	return rc;
}

int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_args it;
	struct list_opts o = {.it = &it};
	const char *pos[2];
	char proto[4];
	struct cli_endpoint vip;
	json_t *result, *services;
	int n_pos, rc;

	cli_args_init(&it, argc, argv, "list",
		      "list [--stats|--rate] [--exact] [-n] [PROTO VIP:PORT]", &ctx->json);
	rc = scan_args(&it, list_opts_table, pos, 2, &n_pos, on_list_option, &o);
	if (rc >= 0)
		return rc;
	if (o.stats && o.rate)
		return cli_usage_error(&it, "--stats and --rate exclude each other");
	if (n_pos == 1)
		return cli_usage_error(&it, "give both PROTO and VIP:PORT, or neither");
	if (n_pos == 2 && (rc = cli_parse_service_args(&it, pos[0], pos[1], proto, &vip)) != 0)
		return rc;
	if (o.stats || o.rate) {
		json_t *key = n_pos == 2 ? cli_service_key_json(proto, &vip) : NULL;
		return list_counters(ctx, &o, key);
	}

	if (cli_rpc_call(ctx, "service.list", NULL, &result) != 0)
		return CLI_EXIT_FAILURE;
	services = json_object_get(result, "services");
	rc = CLI_EXIT_OK;
	if (n_pos == 2) {
		/* service.list has no filter: narrow it here, like ipvsadm -L -t VIP:PORT. */
		json_t *svc = find_service(services, proto, &vip);
		if (svc == NULL) {
			fprintf(stderr, "%s: service.list: no such service %s %s\n", CLI_PROGRAM,
				proto, pos[1]);
			rc = CLI_EXIT_FAILURE;
		} else if (ctx->json) {
			json_t *one = json_pack("{s:[O]}", "services", svc);
			cli_print_json(one);
			json_decref(one);
		} else {
			json_t *one = json_pack("[O]", svc);
			cli_print_service_table(one);
			json_decref(one);
		}
	} else if (ctx->json) {
		cli_print_json(result);
	} else {
		printf("IP Virtual Server version %s (dpdk-lb)\n", DPDK_LB_VERSION);
		cli_print_service_table(services);
	}
	json_decref(result);
	return rc;
}

int cmd_stats(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option opts[] = {{"exact", 0, false, OPT_EXACT},
						 {NULL, 0, false, 0}};
	struct cli_args it;
	struct list_opts o = {.it = &it};
	const char *pos[2];
	json_t *key = NULL, *result;
	int n_pos, rc;

	cli_args_init(&it, argc, argv, "stats", "stats [--exact] [PROTO VIP:PORT]", &ctx->json);
	rc = scan_args(&it, opts, pos, 2, &n_pos, on_list_option, &o);
	if (rc >= 0)
		return rc;
	if (n_pos == 1)
		return cli_usage_error(&it, "give both PROTO and VIP:PORT, or neither");
	if (n_pos == 2 && (key = cli_service_key_from_args(&it, pos[0], pos[1], &rc)) == NULL)
		return rc;
	if (cli_rpc_call(ctx, "stats.get", key, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json) {
		cli_print_json(result);
	} else {
		cli_print_stats_table(json_object_get(result, "services"), o.exact);
		putchar('\n');
		cli_print_dataplane(json_object_get(result, "dataplane"));
	}
	json_decref(result);
	return CLI_EXIT_OK;
}

/* For commands whose only arguments are -h and --json. */
static int no_arguments(struct cli_ctx *ctx, int argc, char **argv, const char *command)
{
	static const struct cli_option none[] = {{NULL, 0, false, 0}};
	struct cli_args it;
	struct list_opts o = {.it = &it};
	const char *pos[1];
	int n_pos;

	cli_args_init(&it, argc, argv, command, command, &ctx->json);
	return scan_args(&it, none, pos, 0, &n_pos, on_list_option, &o);
}

int cmd_config_get(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *result;
	int rc = no_arguments(ctx, argc, argv, "config get");

	if (rc >= 0)
		return rc;
	if (cli_rpc_call(ctx, "config.get", NULL, &result) != 0)
		return CLI_EXIT_FAILURE;
	/* The configuration is JSON already: the same output with or without --json. */
	cli_print_json(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

/* PATH made absolute against our working directory, since the daemon's differs; malloc'd. */
static char *absolute_path(const char *path)
{
	char cwd[PATH_MAX], *out;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* config save|reload [PATH]: the RPC's params ({"path": absolute PATH} or none) into *params;
 * -1 to go on, else the exit status. */
static int config_path_params(struct cli_args *it, const char *name, json_t **params)
{
	static const struct cli_option none[] = {{NULL, 0, false, 0}};
	struct list_opts o = {.it = it};
	const char *pos[1];
	int n_pos, rc = scan_args(it, none, pos, 1, &n_pos, on_list_option, &o);

	*params = NULL;
	if (rc >= 0 || n_pos == 0)
		return rc;
	if (pos[0][0] == '\0')
		return cli_usage_error(it, "PATH is empty");
	char *path = absolute_path(pos[0]);
	if (path == NULL) {
		fprintf(stderr, CLI_PROGRAM ": %s: cannot resolve PATH: %s\n", name, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	*params = json_pack("{s:s}", "path", path);
	free(path);
	return -1;
}

int cmd_config_save(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_args it;
	json_t *params, *result;

	cli_args_init(&it, argc, argv, "config save", "config save [PATH]", &ctx->json);
	int rc = config_path_params(&it, "config save", &params);
	if (rc >= 0)
		return rc;
	if (cli_rpc_call(ctx, "config.save", params, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	else
		printf("saved %lld bytes to %s\n",
		       (long long)json_integer_value(json_object_get(result, "bytes")),
		       json_string_value(json_object_get(result, "path")) != NULL
			       ? json_string_value(json_object_get(result, "path"))
			       : "?");
	json_decref(result);
	return CLI_EXIT_OK;
}

int cmd_config_reload(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_args it;
	json_t *params, *result;

	cli_args_init(&it, argc, argv, "config reload", "config reload [PATH]", &ctx->json);
	int rc = config_path_params(&it, "config reload", &params);
	if (rc >= 0)
		return rc;
	if (cli_rpc_call(ctx, "config.reload", params, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	else if (json_is_true(json_object_get(result, "changed")))
		printf("reloaded %s: generation %lld\n",
		       json_string_value(json_object_get(result, "path")),
		       (long long)json_integer_value(json_object_get(result, "generation")));
	else
		printf("%s: no change (generation %lld)\n",
		       json_string_value(json_object_get(result, "path")),
		       (long long)json_integer_value(json_object_get(result, "generation")));
	json_decref(result);
	return CLI_EXIT_OK;
}

int cmd_info(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *result;
	int rc = no_arguments(ctx, argc, argv, "info");

	if (rc >= 0)
		return rc;
	if (cli_rpc_call(ctx, "system.info", NULL, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	else
		cli_print_system_info(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

int cmd_call(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option none[] = {{NULL, 0, false, 0}};
	struct cli_args it;
	struct list_opts o = {.it = &it};
	const char *pos[2];
	json_t *params = NULL, *result;
	json_error_t jerr;
	int n_pos, rc;

	cli_args_init(&it, argc, argv, "call", "call METHOD [JSON-PARAMS]", &ctx->json);
	rc = scan_args(&it, none, pos, 2, &n_pos, on_list_option, &o);
	if (rc >= 0)
		return rc;
	if (n_pos == 0)
		return cli_usage_error(&it, "missing METHOD");
	if (n_pos == 2) {
		params = json_loads(pos[1], 0, &jerr);
		if (params == NULL)
			return cli_usage_error(&it, "JSON-PARAMS: %s (at character %d)", jerr.text,
					       jerr.position);
	}
	if (cli_rpc_call(ctx, pos[0], params, &result) != 0)
		return CLI_EXIT_FAILURE;
	cli_print_json(result);
	json_decref(result);
	return CLI_EXIT_OK;
}
