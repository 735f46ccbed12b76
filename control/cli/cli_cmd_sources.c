/*
 * What operators ran netstat and ipvsadm -Lnc for: conns (filtered, paged), summary (connections
 * by state), top-sources (who holds or sends the most) and block (the blocklist, and blocking
 * the top sources after confirmation).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_addr.h"
#include "cli_args.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_rpc.h"

#define CONNS_DEFAULT_LIMIT 1000

static const char *str_of(const json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : fallback;
}

static long long int_of(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static int parse_count(const struct cli_args *it, const char *opt, const char *v,
		       unsigned long max, unsigned long *out)
{
	if (cli_parse_ulong(v, 1, max, out) != 0)
		return cli_usage_error(it, "%s: '%s' is not a number 1-%lu", opt, v, max);
	return -1;
}

/* -t/-u VIP:PORT into params.service. */
static int service_filter(const struct cli_args *it, json_t *params, const char *proto,
			  const char *v)
{
	struct cli_endpoint ep;
	char err[128];

	if (cli_parse_endpoint(v, true, &ep, err, sizeof(err)) != 0)
		return cli_usage_error(it, "%s", err);
	json_object_set_new(params, "service", cli_service_key_json(proto, &ep));
	return -1;
}

static int real_filter(const struct cli_args *it, json_t *params, const char *v)
{
	struct cli_endpoint ep;
	char err[128];

	if (cli_parse_endpoint(v, false, &ep, err, sizeof(err)) != 0)
		return cli_usage_error(it, "%s", err);
	json_t *r = json_pack("{s:s}", "ip", ep.ip);
	if (ep.has_port)
		json_object_set_new(r, "port", json_integer(ep.port));
	json_object_set_new(params, "real", r);
	return -1;
}

/* "ESTABLISHED,SYN_RECV" into ["ESTABLISHED", "SYN_RECV"] (upper case). */
static json_t *state_list(const char *v)
{
	json_t *list = json_array();
	char *copy = strdup(v), *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		for (char *c = tok; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		json_array_append_new(list, json_string(tok));
	}
	free(copy);
	return list;
}

/* conns' options into filters, *limit and *has_limit; -1 to go on, else an exit code. */
static int conns_args(struct cli_ctx *ctx, int argc, char **argv, json_t *filters,
		      unsigned long *limit, bool *has_limit)
{
	enum { O_LIMIT = 1, O_NUMERIC, O_TCP, O_UDP, O_REAL, O_CLIENT, O_STATE, O_PROTO };
	static const struct cli_option opts[] = {
		{"limit", 0, true, O_LIMIT},	  {"numeric", 'n', false, O_NUMERIC},
		{"tcp-service", 't', true, O_TCP}, {"udp-service", 'u', true, O_UDP},
		{"real", 'r', true, O_REAL},	  {"client", 'c', true, O_CLIENT},
		{"state", 0, true, O_STATE},	  {"proto", 0, true, O_PROTO},
		{NULL, 0, false, 0}};
	struct cli_args it;
	const char *v;
	int id, rc = -1;

	cli_args_init(&it, argc, argv, "conns",
		      "conns [--limit N] [-t|-u VIP:PORT] [-r RIP[:PORT]] [-c ADDR[/LEN]] "
		      "[--state S[,S...]] [--proto tcp|udp]",
		      &ctx->json);
	while (rc < 0 && (id = cli_args_next(&it, opts, &v)) != CLI_ARG_END) {
		if (id == O_LIMIT) {
			rc = parse_count(&it, "--limit", v, 100000000, limit);
			*has_limit = true;
		} else if (id == O_TCP || id == O_UDP) {
			rc = service_filter(&it, filters, id == O_TCP ? "tcp" : "udp", v);
		} else if (id == O_REAL) {
			rc = real_filter(&it, filters, v);
		} else if (id == O_CLIENT || id == O_PROTO) {
			json_object_set_new(filters, id == O_CLIENT ? "client" : "proto", json_string(v));
		} else if (id == O_STATE) {
			json_object_set_new(filters, "state", state_list(v));
		} else if (id == CLI_ARG_HELP) {
			rc = cli_print_help(&it);
		} else if (id == CLI_ARG_POSITIONAL) {
			rc = cli_usage_error(&it, "unexpected argument '%s'", v);
		} else if (id != O_NUMERIC) { /* -n: always numeric, as ipvsadm -n */
			rc = CLI_EXIT_USAGE;
		}
	}
	return rc;
}

/*
 * conn.list pages into all until limit connections or the end: the first page asks with the
 * filters (and --limit when given), the next ones follow the cursor with the filters again (a
 * page may stop short of its limit). 0 with *truncated and *cursor set, or 1 (error printed).
 */
static int conns_fetch(struct cli_ctx *ctx, json_t *filters, unsigned long limit, bool has_limit,
		       json_t *all, json_t **cursor, bool *truncated)
{
	json_t *params = json_deep_copy(filters), *page;

	if (has_limit)
		json_object_set_new(params, "limit", json_integer((json_int_t)limit));
	if (json_object_size(params) == 0) {
		json_decref(params);
		params = NULL;
	}
	if (cli_rpc_call(ctx, "conn.list", params, &page) != 0)
		return 1;
	json_array_extend(all, json_object_get(page, "connections"));
	*cursor = json_incref(json_object_get(page, "cursor"));
	*truncated = json_is_true(json_object_get(page, "truncated"));
	json_decref(page);
	while (json_is_string(*cursor) && json_array_size(all) < limit) {
		params = json_deep_copy(filters);
		json_object_set_new(params, "limit",
				    json_integer((json_int_t)(limit - json_array_size(all))));
		json_object_set(params, "cursor", *cursor);
		if (cli_rpc_call(ctx, "conn.list", params, &page) != 0)
			return 1;
		json_array_extend(all, json_object_get(page, "connections"));
		json_t *next = json_object_get(page, "cursor");
		/* A cursor that does not move would never end the listing. */
		bool moved = json_is_string(next) && !json_equal(next, *cursor);
		json_decref(*cursor);
		*cursor = moved ? json_incref(next) : json_null();
		*truncated = moved;
		json_decref(page);
	}
	return 0;
}

int cmd_conns(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *filters = json_object(), *all = json_array(), *cursor = NULL;
	unsigned long limit = CONNS_DEFAULT_LIMIT;
	bool has_limit = false, truncated = false;
	int rc = conns_args(ctx, argc, argv, filters, &limit, &has_limit);

	if (rc < 0 && conns_fetch(ctx, filters, limit, has_limit, all, &cursor, &truncated) != 0)
		rc = CLI_EXIT_FAILURE;
	if (rc < 0 && ctx->json) {
		json_t *out = json_pack("{s:O, s:b, s:O}", "connections", all, "truncated", truncated,
					"cursor", cursor ? cursor : json_null());
		cli_print_json(out);
		json_decref(out);
	} else if (rc < 0) {
		cli_print_conn_table(all);
		/* On stderr, so that a script reading the table is not confused by it. */
		if (truncated)
			fprintf(stderr, "%s: conn.list: only the first %zu connections shown "
					"(see --limit)\n", CLI_PROGRAM, json_array_size(all));
	}
	json_decref(filters);
	json_decref(all);
	json_decref(cursor);
	return rc < 0 ? CLI_EXIT_OK : rc;
}

static void print_states(const json_t *states)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)states, k, v)
		printf(" %s=%lld", k, (long long)json_integer_value(v));
}

static void upper(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	dst[i] = '\0';
}

static void print_summary(const json_t *r)
{
	const char *k;
	json_t *v, *svc, *real;
	size_t i, j;
	char ep[CLI_ENDPOINT_STRLEN], proto[8];

	printf("Connections %lld (TCP %lld, UDP %lld), persistence templates %lld\n",
	       int_of(r, "total"), int_of(r, "tcp"), int_of(r, "udp"), int_of(r, "templates"));
	printf("%-12s %10s\n", "State", "Count");
	json_object_foreach(json_object_get(r, "states"), k, v)
		printf("%-12s %10lld\n", k, (long long)json_integer_value(v));
	printf("\nProt LocalAddress:Port          Total Templates States\n");
	printf("  -> RemoteAddress:Port         Total           States\n");
	json_array_foreach(json_object_get(r, "services"), i, svc) {
		upper(proto, str_of(svc, "proto", "?"), sizeof(proto));
		cli_format_endpoint(ep, sizeof(ep), str_of(svc, "vip", "?"), int_of(svc, "port"));
		printf("%-4s %-24s %6lld %9lld", proto, ep, int_of(svc, "total"),
		       int_of(svc, "templates"));
		print_states(json_object_get(svc, "states"));
		putchar('\n');
		json_array_foreach(json_object_get(svc, "reals"), j, real) {
			cli_format_endpoint(ep, sizeof(ep), str_of(real, "ip", "?"), int_of(real, "port"));
			printf("  -> %-24s %6lld %9s", ep, int_of(real, "total"),
			       json_is_true(json_object_get(real, "fallback")) ? "fallback" : "");
			print_states(json_object_get(real, "states"));
			putchar('\n');
		}
	}
}

int cmd_summary(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option none[] = {{NULL, 0, false, 0}};
	struct cli_args it;
	const char *v;
	json_t *result;
	int id;

	cli_args_init(&it, argc, argv, "summary", "summary", &ctx->json);
	while ((id = cli_args_next(&it, none, &v)) != CLI_ARG_END) {
		if (id == CLI_ARG_HELP)
			return cli_print_help(&it);
		if (id == CLI_ARG_POSITIONAL)
			return cli_usage_error(&it, "unexpected argument '%s'", v);
		return CLI_EXIT_USAGE;
	}
	if (cli_rpc_call(ctx, "conn.summary", NULL, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	else
		print_summary(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

/* conn.top's options; -1 to go on, else an exit code. */
enum { T_BY = 100, T_PREFIX, T_PREFIX6, T_LIMIT };
static int top_option(const struct cli_args *it, int id, const char *v, json_t *params)
{
	unsigned long n;

	switch (id) {
	case T_BY:
		json_object_set_new(params, "by", json_string(v));
		return -1;
	case T_PREFIX:
		if (cli_parse_ulong(v, 0, 32, &n) != 0)
			return cli_usage_error(it, "--prefix: '%s' is not 0-32", v);
		json_object_set_new(params, "prefix", json_integer((json_int_t)n));
		return -1;
	case T_PREFIX6:
		if (cli_parse_ulong(v, 0, 128, &n) != 0)
			return cli_usage_error(it, "--prefix6: '%s' is not 0-128", v);
		json_object_set_new(params, "prefix6", json_integer((json_int_t)n));
		return -1;
	case T_LIMIT:
		if (cli_parse_ulong(v, 1, 1000, &n) != 0)
			return cli_usage_error(it, "--limit: '%s' is not 1-1000", v);
		json_object_set_new(params, "limit", json_integer((json_int_t)n));
		return -1;
	}
	return CLI_EXIT_USAGE;
}

static void print_top(const json_t *r)
{
	size_t i;
	json_t *s;

	printf("Top sources by %s (prefix /%lld, /%lld for IPv6; rates over the last %.1f s)\n",
	       str_of(r, "by", "?"), int_of(r, "prefix"), int_of(r, "prefix6"),
	       json_real_value(json_object_get(r, "interval")));
	printf("%-43s %10s %10s %12s %10s\n", "Source", "Conns", "CPS", "PPS", "Drops/s");
	json_array_foreach(json_object_get(r, "sources"), i, s) {
		char conns[24] = "-"; /* not counted when ranking by a rate */
		if (json_is_integer(json_object_get(s, "conns")))
			snprintf(conns, sizeof(conns), "%lld", int_of(s, "conns"));
		printf("%-43s %10s %10.1f %12.1f %10.1f\n", str_of(s, "source", "?"), conns,
		       json_real_value(json_object_get(s, "cps")),
		       json_real_value(json_object_get(s, "pps")),
		       json_real_value(json_object_get(s, "drops")));
	}
}

int cmd_top_sources(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_option opts[] = {
		{"by", 0, true, T_BY},		{"prefix", 0, true, T_PREFIX},
		{"prefix6", 0, true, T_PREFIX6}, {"limit", 0, true, T_LIMIT},
		{NULL, 0, false, 0}};
	struct cli_args it;
	json_t *params = json_object(), *result;
	const char *v;
	int id, rc = -1;

	cli_args_init(&it, argc, argv, "top-sources",
		      "top-sources [--by conns|cps|pps|drops] [--prefix N] [--prefix6 N] [--limit N]",
		      &ctx->json);
	while (rc < 0 && (id = cli_args_next(&it, opts, &v)) != CLI_ARG_END) {
		if (id == CLI_ARG_HELP)
			rc = cli_print_help(&it);
		else if (id == CLI_ARG_POSITIONAL)
			rc = cli_usage_error(&it, "unexpected argument '%s'", v);
		else if (id < 0)
			rc = CLI_EXIT_USAGE;
		else
			rc = top_option(&it, id, v, params);
	}
	if (rc >= 0) {
		json_decref(params);
		return rc;
	}
	if (cli_rpc_call(ctx, "conn.top", params, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	else
		print_top(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

static void print_block_list(const json_t *r)
{
	size_t i;
	json_t *e;

	printf("Blocklist: %zu of %lld entries, %lld packets blocked\n",
	       json_array_size(json_object_get(r, "entries")), int_of(r, "capacity"),
	       int_of(r, "blocked"));
	printf("%-43s %12s %10s  %s\n", "Prefix", "Hits", "TTL", "Reason");
	json_array_foreach(json_object_get(r, "entries"), i, e) {
		char ttl[24];
		if (int_of(e, "expires") == 0)
			snprintf(ttl, sizeof(ttl), "never");
		else
			snprintf(ttl, sizeof(ttl), "%llds", int_of(e, "ttl"));
		printf("%-43s %12lld %10s  %s\n", str_of(e, "cidr", "?"), int_of(e, "hits"), ttl,
		       str_of(e, "reason", ""));
	}
}

/* Asks on stdin; true only for an answer starting with y or Y. */
static bool confirm(const char *question)
{
	char line[64];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	return fgets(line, sizeof(line), stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
}

/* block add --from-top N: the top N of conn.top, shown, confirmed, then one config.apply. */
static int block_from_top(struct cli_ctx *ctx, unsigned long n, json_t *top_params,
			  json_t *entry, bool yes)
{
	json_t *top, *edits = json_array(), *s, *result;
	size_t i;

	json_object_set_new(top_params, "limit", json_integer((json_int_t)n));
	if (cli_rpc_call(ctx, "conn.top", top_params, &top) != 0) {
		json_decref(edits);
		return CLI_EXIT_FAILURE;
	}
	print_top(top);
	json_array_foreach(json_object_get(top, "sources"), i, s) {
		json_t *p = json_deep_copy(entry);
		json_object_set_new(p, "cidr", json_string(str_of(s, "source", "")));
		json_array_append_new(edits, json_pack("{s:s, s:o}", "method", "block.add", "params", p));
	}
	json_decref(top);
	if (json_array_size(edits) == 0) {
		fprintf(stderr, "%s: block: no sources to block\n", CLI_PROGRAM);
		json_decref(edits);
		return CLI_EXIT_FAILURE;
	}
	char question[96];
	snprintf(question, sizeof(question), "Block these %zu sources?", json_array_size(edits));
	if (!yes && !confirm(question)) {
		fprintf(stderr, "%s: block: nothing blocked\n", CLI_PROGRAM);
		json_decref(edits);
		return CLI_EXIT_FAILURE;
	}
	if (cli_rpc_call(ctx, "config.apply", json_pack("{s:o}", "edits", edits), &result) != 0)
		return CLI_EXIT_FAILURE;
	printf("blocked %lld sources\n", int_of(result, "applied"));
	json_decref(result);
	return CLI_EXIT_OK;
}

/* block list, block add CIDR, block del CIDR (entry: the add's ttl and reason; stolen). */
static int block_one(struct cli_ctx *ctx, const char *verb, const char *cidr, json_t *entry)
{
	json_t *result;
	bool list = strcmp(verb, "list") == 0;

	if (list) {
		json_decref(entry);
		entry = NULL;
	} else {
		if (strcmp(verb, "del") == 0)
			json_object_clear(entry);
		json_object_set_new(entry, "cidr", json_string(cidr));
	}
	if (cli_rpc_call(ctx, list ? "block.list" : strcmp(verb, "add") == 0 ? "block.add"
									     : "block.del",
			 entry, &result) != 0)
		return CLI_EXIT_FAILURE;
	if (ctx->json)
		cli_print_json(result);
	else if (list)
		print_block_list(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

int cmd_block(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { B_TTL = 1, B_REASON, B_FROM_TOP, B_YES };
	static const struct cli_option opts[] = {
		{"ttl", 0, true, B_TTL},	    {"reason", 0, true, B_REASON},
		{"from-top", 0, true, B_FROM_TOP}, {"yes", 'y', false, B_YES},
		{"by", 0, true, T_BY},		    {"prefix", 0, true, T_PREFIX},
		{"prefix6", 0, true, T_PREFIX6},   {NULL, 0, false, 0}};
	struct cli_args it;
	json_t *entry = json_object(), *top_params = json_object();
	/* "block --from-top N" is "block add --from-top N" */
	bool bare = argc > 0 && strncmp(argv[0], "--from-top", 10) == 0;
	const char *verb = bare ? "add" : argc > 0 ? argv[0] : "", *v, *cidr = NULL;
	unsigned long from_top = 0, ttl;
	bool yes = false;
	int id, rc = -1;

	cli_args_init(&it, argc > 0 && !bare ? argc - 1 : argc, argv + (argc > 0 && !bare), "block",
		      "block add CIDR [--ttl S] [--reason TEXT] | block add --from-top N "
		      "[--by conns|cps|pps|drops] [--prefix N] [--prefix6 N] [--ttl S] [--reason TEXT] "
		      "[--yes] | block del CIDR | block list",
		      &ctx->json);
	if (strcmp(verb, "add") != 0 && strcmp(verb, "del") != 0 && strcmp(verb, "list") != 0)
		rc = strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0
			     ? cli_print_help(&it)
			     : cli_usage_error(&it, "expected add, del or list");
	while (rc < 0 && (id = cli_args_next(&it, opts, &v)) != CLI_ARG_END) {
		if (id == CLI_ARG_HELP) {
			rc = cli_print_help(&it);
		} else if (id == CLI_ARG_POSITIONAL) {
			if (cidr != NULL || strcmp(verb, "list") == 0)
				rc = cli_usage_error(&it, "unexpected argument '%s'", v);
			cidr = v;
		} else if (id == B_TTL) {
			if (cli_parse_ulong(v, 0, 315360000, &ttl) != 0)
				rc = cli_usage_error(&it, "--ttl: '%s' is not seconds 0-315360000", v);
			json_object_set_new(entry, "ttl", json_integer((json_int_t)ttl));
		} else if (id == B_REASON) {
			json_object_set_new(entry, "reason", json_string(v));
		} else if (id == B_FROM_TOP) {
			rc = parse_count(&it, "--from-top", v, 1000, &from_top);
		} else if (id == B_YES) {
			yes = true;
		} else if (id > 0) {
			rc = top_option(&it, id, v, top_params);
		} else {
			rc = CLI_EXIT_USAGE;
		}
	}
	if (rc < 0 && strcmp(verb, "list") != 0 && (cidr == NULL) == (from_top == 0))
		rc = cli_usage_error(&it, from_top ? "give CIDR or --from-top, not both"
						   : "missing CIDR");
	if (rc < 0 && from_top != 0 && strcmp(verb, "add") != 0)
		rc = cli_usage_error(&it, "--from-top goes with add");
	if (rc >= 0) {
		json_decref(entry);
		json_decref(top_params);
		return rc;
	}
	if (from_top != 0) {
		rc = block_from_top(ctx, from_top, top_params, entry, yes);
		json_decref(entry);
		return rc;
	}
	json_decref(top_params);
	return block_one(ctx, verb, cidr, entry);
}
