/* import ipvsadm|ldirectord FILE, export ipvsadm|ldirectord [FILE]: migration from LVS. The
 * parsers are lib/lvs_*.c; an import is one config.apply, so all of it applies or none. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cli_commands.h"
#include "cli_format.h"
#include "cli_rpc.h"
#include "lvs_import.h"

enum { OPT_DRY_RUN = 1, OPT_REPLACE, OPT_FWMARK };

#define MAX_FILE_BYTES (64u << 20)

/* The whole of path ("-": stdin), malloc'd with *len; NULL after printing why. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", CLI_PROGRAM, path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (*len + 4096 > cap) {
			char *b = cap >= MAX_FILE_BYTES ? NULL : realloc(buf, cap + 65536);
			if (b == NULL) {
				fprintf(stderr, "%s: %s: larger than 64 MiB or out of memory\n",
					CLI_PROGRAM, path);
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			cap += 65536;
		}
		size_t n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0)
			break;
	}
	if (buf != NULL && ferror(f)) {
		fprintf(stderr, "%s: %s: %s\n", CLI_PROGRAM, path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

static void print_msgs(const char *path, json_t *list, const char *kind)
{
	size_t i;
	json_t *m;

	json_array_foreach(list, i, m)
		fprintf(stderr, "%s:%lld: %s%s\n", path,
			(long long)json_integer_value(json_object_get(m, "line")), kind,
			json_string_value(json_object_get(m, "message")));
}

static const char *service_text(const json_t *s, char *buf, size_t len)
{
	const char *vip = json_string_value(json_object_get(s, "vip"));
	long long port = (long long)json_integer_value(json_object_get(s, "port"));

	snprintf(buf, len, strchr(vip, ':') ? "%s [%s]:%lld" : "%s %s:%lld",
		 port == 0 ? "group" : json_string_value(json_object_get(s, "proto")), vip, port);
	return buf;
}

/* Reports a service that already runs, unless --replace; returns how many. */
static int report_existing(const char *path, const struct lb_import *imp, const json_t *running)
{
	size_t i, j;
	json_t *s, *r;
	int n = 0;
	char text[96];

	json_array_foreach(imp->services, i, s) {
		json_array_foreach(running, j, r) {
			if (json_equal(json_object_get(s, "vip"), json_object_get(r, "vip")) &&
			    json_equal(json_object_get(s, "port"), json_object_get(r, "port")) &&
			    json_equal(json_object_get(s, "proto"), json_object_get(r, "proto"))) {
				fprintf(stderr, "%s:%lld: service %s is running already (--replace "
						"replaces every running service)\n", path,
					(long long)json_integer_value(json_object_get(
						json_array_get(imp->lines, i), "line")),
					service_text(s, text, sizeof(text)));
				n++;
			}
		}
	}
	return n;
}

/* The line an error of config.apply is about: params.edits[K] or services[N](.reals[M]). */
static long long error_line(const struct lb_import *imp, const char *msg, size_t first_add,
			    size_t n_kept)
{
	const char *e = strstr(msg, "params.edits[");
	unsigned long k, n, m;

	if (e != NULL && sscanf(e, "params.edits[%lu]", &k) == 1 && k >= first_add) {
		json_t *l = json_array_get(imp->lines, k - first_add);
		if (l != NULL)
			return (long long)json_integer_value(json_object_get(l, "line"));
	}
	e = strstr(msg, "services[");
	if (e != NULL && sscanf(e, "services[%lu]", &n) == 1 && n >= n_kept) {
		json_t *l = json_array_get(imp->lines, n - n_kept);
		const char *re = strstr(e, "].reals[");
		if (l != NULL && re != NULL && sscanf(re, "].reals[%lu]", &m) == 1 &&
		    json_array_get(json_object_get(l, "reals"), m) != NULL)
			return (long long)json_integer_value(
				json_array_get(json_object_get(l, "reals"), m));
		if (l != NULL)
			return (long long)json_integer_value(json_object_get(l, "line"));
	}
	return 0;
}

static void print_plan(const struct lb_import *imp, const json_t *running, bool replace)
{
	size_t i;
	json_t *s;
	char text[96];

	if (replace)
		json_array_foreach(running, i, s)
			printf("remove  %s\n", service_text(s, text, sizeof(text)));
	json_array_foreach(imp->services, i, s) {
		json_t *check = json_object_get(s, "check"), *type = json_object_get(check, "type");
		printf("add     %-30s %-5s %3zu reals  check %s  (line %lld)\n",
		       service_text(s, text, sizeof(text)),
		       json_object_get(s, "scheduler") ? json_string_value(json_object_get(s, "scheduler"))
						       : "wlc",
		       json_array_size(json_object_get(s, "reals")),
		       json_is_string(type) ? json_string_value(type) : json_is_integer(type) ? "N" : "none",
		       (long long)json_integer_value(json_object_get(json_array_get(imp->lines, i), "line")));
	}
}

/* Applies the import as one config.apply; the exit code. */
static int apply(const struct cli_ctx *ctx, const char *path, const struct lb_import *imp,
		 json_t *config, bool replace)
{
	json_t *running = json_object_get(config, "services"), *edits = json_array(), *s;
	json_t *result, *error;
	size_t i;

	if (replace)
		json_array_foreach(running, i, s)
			json_array_append_new(edits, json_pack("{s:s, s:{s:O, s:O, s:O}}", "method",
							       "service.del", "params", "vip",
							       json_object_get(s, "vip"), "port",
							       json_object_get(s, "port"), "proto",
							       json_object_get(s, "proto")));
	size_t first_add = json_array_size(edits);
	json_array_foreach(imp->services, i, s)
		json_array_append_new(edits, json_pack("{s:s, s:O}", "method", "service.add", "params", s));
	if (json_array_size(edits) == 0) {
		json_decref(edits);
		printf("nothing to import\n");
		return CLI_EXIT_OK;
	}
	json_t *params = json_pack("{s:o, s:O}", "edits", edits, "if_generation",
				   json_object_get(config, "generation"));
	if (cli_rpc_call_error(ctx, "config.apply", params, &result, &error) != 0) {
		if (error == NULL)
			return CLI_EXIT_FAILURE;
		const char *msg = json_string_value(json_object_get(error, "message"));
		long long line = error_line(imp, msg ? msg : "", first_add,
					    replace ? 0 : json_array_size(running));
		if (line > 0)
			fprintf(stderr, "%s:%lld: %s\n", path, line, msg);
		else
			fprintf(stderr, "%s: %s (code %lld)\n", path, msg,
				(long long)json_integer_value(json_object_get(error, "code")));
		fprintf(stderr, "%s: nothing applied\n", path);
		json_decref(error);
		return CLI_EXIT_FAILURE;
	}
	if (ctx->json)
		cli_print_json(result);
	else
		printf("imported %zu services from %s (generation %lld)\n",
		       json_array_size(imp->services), path,
		       (long long)json_integer_value(json_object_get(result, "generation")));
	json_decref(result);
	return CLI_EXIT_OK;
}

static int do_import(struct cli_ctx *ctx, int argc, char **argv, bool ldirectord)
{
	static const struct cli_option opts[] = {{"dry-run", 'n', false, OPT_DRY_RUN},
						 {"replace", 0, false, OPT_REPLACE},
						 {"fwmark", 'f', true, OPT_FWMARK},
						 {NULL, 0, false, 0}};
	const char *cmd = ldirectord ? "import ldirectord" : "import ipvsadm", *path = NULL, *v;
	struct cli_args it;
	bool dry = false, replace = false;
	json_t *fwmarks = json_object(), *config = NULL;
	struct lb_import imp = {0};
	char err[256];
	int id, rc = CLI_EXIT_FAILURE;

	cli_args_init(&it, argc, argv, cmd,
		      ldirectord ? "import ldirectord FILE [--dry-run] [--replace] [--fwmark MARK=VIP:PORTS[/PROTOS]]..."
				 : "import ipvsadm FILE [--dry-run] [--replace] [--fwmark MARK=VIP:PORTS[/PROTOS]]...",
		      &ctx->json);
	while ((id = cli_args_next(&it, opts, &v)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR || id == CLI_ARG_HELP) {
			json_decref(fwmarks);
			return id == CLI_ARG_HELP ? cli_print_help(&it) : CLI_EXIT_USAGE;
		}
		if (id == CLI_ARG_POSITIONAL && path != NULL)
			rc = cli_usage_error(&it, "unexpected argument '%s'", v);
		else if (id == CLI_ARG_POSITIONAL)
			path = v;
		else if (id == OPT_DRY_RUN)
			dry = true;
		else if (id == OPT_REPLACE)
			replace = true;
		else if (lb_fwmark_parse(v, fwmarks, err, sizeof(err)) != 0)
			rc = cli_usage_error(&it, "%s", err);
		if (rc == CLI_EXIT_USAGE)
			goto out;
	}
	if (path == NULL) {
		rc = cli_usage_error(&it, "missing FILE");
		goto out;
	}
	size_t len;
	char *text = read_file(path, &len);
	if (text == NULL)
		goto out;
	int prc = ldirectord ? lb_import_ldirectord(text, len, fwmarks, &imp)
			     : lb_import_ipvsadm(text, len, fwmarks, &imp);
	free(text);
	print_msgs(path, imp.notes, "note: ");
	if (prc != 0) {
		print_msgs(path, imp.errors, "");
		fprintf(stderr, "%s: %zu lines not taken: nothing applied\n", path,
			json_array_size(imp.errors));
		goto out;
	}
	if (cli_rpc_call(ctx, "config.get", NULL, &config) != 0)
		goto out;
	if (!replace && report_existing(path, &imp, json_object_get(config, "services")) > 0) {
		fprintf(stderr, "%s: nothing applied\n", path);
		goto out;
	}
	if (dry) {
		if (ctx->json)
			cli_print_json(imp.services);
		else
			print_plan(&imp, json_object_get(config, "services"), replace);
		rc = CLI_EXIT_OK;
		goto out;
	}
	rc = apply(ctx, path, &imp, config, replace);
out:
	json_decref(config);
	json_decref(fwmarks);
	lb_import_free(&imp);
	return rc;
}

int cmd_import_ipvsadm(struct cli_ctx *ctx, int argc, char **argv)
{
	return do_import(ctx, argc, argv, false);
}

int cmd_import_ldirectord(struct cli_ctx *ctx, int argc, char **argv)
{
	return do_import(ctx, argc, argv, true);
}

static int do_export(struct cli_ctx *ctx, int argc, char **argv, bool ldirectord)
{
	static const struct cli_option opts[] = {{NULL, 0, false, 0}};
	const char *path = NULL, *v;
	struct cli_args it;
	json_t *config, *notes = json_array(), *n;
	int id;
	size_t i;

	cli_args_init(&it, argc, argv, ldirectord ? "export ldirectord" : "export ipvsadm",
		      ldirectord ? "export ldirectord [FILE]" : "export ipvsadm [FILE]", &ctx->json);
	while ((id = cli_args_next(&it, opts, &v)) != CLI_ARG_END) {
		if (id == CLI_ARG_ERROR || id == CLI_ARG_HELP || path != NULL) {
			json_decref(notes);
			return id == CLI_ARG_HELP ? cli_print_help(&it)
			       : id == CLI_ARG_ERROR ? CLI_EXIT_USAGE
						     : cli_usage_error(&it, "unexpected argument '%s'", v);
		}
		path = v;
	}
	if (cli_rpc_call(ctx, "config.get", NULL, &config) != 0) {
		json_decref(notes);
		return CLI_EXIT_FAILURE;
	}
	json_t *services = json_object_get(config, "services");
	char *text = ldirectord ? lb_export_ldirectord(services, notes)
				: lb_export_ipvsadm(services, notes);
	json_decref(config);
	int rc = CLI_EXIT_OK;
	FILE *f = path == NULL || strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (text == NULL || f == NULL || fputs(text, f) < 0 || (f != stdout && fclose(f) != 0)) {
		fprintf(stderr, "%s: export: %s: %s\n", CLI_PROGRAM, path ? path : "stdout",
			text == NULL ? "out of memory" : strerror(errno));
		rc = CLI_EXIT_FAILURE;
	}
	json_array_foreach(notes, i, n)
		fprintf(stderr, "note: %s\n", json_string_value(n));
	free(text);
	json_decref(notes);
	return rc;
}

int cmd_export_ipvsadm(struct cli_ctx *ctx, int argc, char **argv)
{
	return do_export(ctx, argc, argv, false);
}

int cmd_export_ldirectord(struct cli_ctx *ctx, int argc, char **argv)
{
	return do_export(ctx, argc, argv, true);
}
