/* config.backup, config.backups, config.restore, config.factory_reset: the appliance's backups. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup_name.h"
#include "config_replace.h"
#include "config_store.h"
#include "dataplane.h"
#include "rpc_methods.h"

struct backup_list {
	char (*names)[LB_BACKUP_NAME_LEN];
	size_t n;
};

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* The backups in dir, oldest first (names sort by time); -1 with errno when dir is unreadable. */
static int list_backups(const char *dir, struct backup_list *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	l->names = NULL;
	l->n = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		uint64_t ms;
		char label[LB_BACKUP_LABEL_MAX + 1];
		if (strlen(e->d_name) >= LB_BACKUP_NAME_LEN ||
		    lb_backup_name_parse(e->d_name, &ms, label) != 0)
			continue;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 32;
			void *bigger = realloc(l->names, cap * sizeof(*l->names));
			if (bigger == NULL)
				break;
			l->names = bigger;
		}
		snprintf(l->names[l->n++], LB_BACKUP_NAME_LEN, "%s", e->d_name);
	}
	closedir(d);
	if (l->n > 0)
		qsort(l->names, l->n, sizeof(*l->names), by_name);
	return 0;
}

static int mkdirs(const char *path)
{
	char p[sizeof(((struct lb_config *)0)->backups_dir)];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0750) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

static uint64_t unix_ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Removes the oldest backups beyond backups.keep. */
static void prune(const struct lb_config *c)
{
	struct backup_list l;
	char path[sizeof(c->backups_dir) + LB_BACKUP_NAME_LEN + 1];

	if (list_backups(c->backups_dir, &l) != 0)
		return;
	for (size_t i = 0; l.n > c->backups_keep && i < l.n - c->backups_keep; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->backups_dir, l.names[i]);
		if (unlink(path) != 0)
			LB_LOG(WARNING, "config.backup: cannot remove %s: %s", path, strerror(errno));
	}
	free(l.names);
}

/* Writes the running configuration as a new backup; its description, or NULL with err set. */
static json_t *make_backup(const char *label, struct rpc_error *err)
{
	const struct lb_config *c = config_store_running();
	char name[LB_BACKUP_NAME_LEN], path[sizeof(c->backups_dir) + LB_BACKUP_NAME_LEN + 1];
	uint64_t ms = unix_ms_now();
	struct stat st;

	if (mkdirs(c->backups_dir) != 0)
		return rpc_fail(err, LB_RPC_IO_ERROR, "backups.dir: cannot create %s: %s",
				c->backups_dir, strerror(errno));
	/* Two backups in one millisecond get consecutive stamps rather than one file. */
	do {
		if (lb_backup_name_format(ms++, label, name, sizeof(name)) != 0)
			return rpc_fail(err, JSONRPC_INTERNAL_ERROR, "cannot name the backup");
		snprintf(path, sizeof(path), "%s/%s", c->backups_dir, name);
	} while (stat(path, &st) == 0);
	long n = lb_config_save_file(c, path, err->message, sizeof(err->message));
	if (n < 0)
		return rpc_fail(err, LB_RPC_IO_ERROR, "%s", err->message);
	prune(c);
	LB_LOG(NOTICE, "config.backup: wrote %s (generation %llu)", path,
	       (unsigned long long)config_store_generation());
	return json_pack("{s:s, s:s, s:I, s:I}", "name", name, "path", path, "bytes", (json_int_t)n,
			 "generation", (json_int_t)config_store_generation());
}

static json_t *config_backup(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"label", NULL};
	json_t *label = json_object_get(params, "label");

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	if (label != NULL && !lb_backup_label_valid(json_string_value(label)))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"params.label: must be 1-%d letters, digits, '.', '_' or '-' (not "
				"starting with '.' or '-')", LB_BACKUP_LABEL_MAX);
	return make_backup(json_string_value(label), err);
}

static json_t *config_backups(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {NULL};
	const struct lb_config *c = config_store_running();
	char path[sizeof(c->backups_dir) + LB_BACKUP_NAME_LEN + 1];
	struct backup_list l;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	if (list_backups(c->backups_dir, &l) != 0)
		return rpc_fail(err, LB_RPC_IO_ERROR, "backups.dir: cannot read %s: %s",
				c->backups_dir, strerror(errno));
	json_t *list = json_array();
	for (size_t i = l.n; i-- > 0;) {
		uint64_t ms;
		char label[LB_BACKUP_LABEL_MAX + 1];
		struct stat st;
		lb_backup_name_parse(l.names[i], &ms, label);
		snprintf(path, sizeof(path), "%s/%s", c->backups_dir, l.names[i]);
		json_array_append_new(list, json_pack("{s:s, s:s, s:f, s:I}", "name", l.names[i],
						      "label", label, "time", (double)ms / 1000.0,
						      "bytes", stat(path, &st) == 0 ? (json_int_t)st.st_size : -1));
	}
	free(l.names);
	return json_pack("{s:s, s:I, s:o}", "dir", c->backups_dir, "keep",
			 (json_int_t)c->backups_keep, "backups", list);
}

/*
 * Makes loaded's services the running ones, as one change, after a backup of what runs now
 * labelled why; the result names both, or NULL with err set and nothing changed.
 */
static json_t *replace_services(struct lb_config *loaded, const char *why, const char *source,
				struct rpc_error *err)
{
	json_t *before = make_backup(why, err), *not_applied;

	if (before == NULL)
		return NULL;
	not_applied = config_restart_sections(config_store_running(), loaded);
	/* The one whole-document path (config_replace.h): reals that stay keep their flows. */
	int code = config_replace(loaded, CONFIG_REPLACE_SERVICES_ONLY, err->message,
				  sizeof(err->message));
	if (code != 0) {
		err->code = code;
		json_decref(before);
		json_decref(not_applied);
		return NULL;
	}
	LB_LOG(NOTICE, "%s: services of %s applied (generation %llu); previous configuration in %s",
	       why, source, (unsigned long long)config_store_generation(),
	       json_string_value(json_object_get(before, "name")));
	return json_pack("{s:I, s:s, s:o, s:o}", "generation", (json_int_t)config_store_generation(),
			 "source", source, "backup_before", before, "not_applied", not_applied);
}

static json_t *config_restore(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"name", NULL};
	const struct lb_config *c = config_store_running();
	const char *name = json_string_value(json_object_get(params, "name"));
	char path[sizeof(c->backups_dir) + LB_BACKUP_NAME_LEN + 1], label[LB_BACKUP_LABEL_MAX + 1];
	struct lb_config loaded;
	uint64_t ms;

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	if (name == NULL || strlen(name) >= LB_BACKUP_NAME_LEN ||
	    lb_backup_name_parse(name, &ms, label) != 0)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"params.name: must be the name of a backup from config.backups "
				"(dpdk-lb-YYYYmmddTHHMMSS.mmmZ[-LABEL].json)");
	snprintf(path, sizeof(path), "%s/%s", c->backups_dir, name);
	if (access(path, F_OK) != 0)
		return rpc_fail(err, LB_RPC_NOT_FOUND, "no backup %s in %s", name, c->backups_dir);
	if (lb_config_load_file(path, &loaded, err->message, sizeof(err->message)) != 0)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"backup refused, nothing changed: %s", err->message);
	json_t *r = replace_services(&loaded, "before-restore", name, err);
	lb_config_free(&loaded);
	return r;
}

static json_t *config_factory_reset(json_t *params, struct rpc_error *err)
{
	static const char *const keys[] = {"confirm", NULL};
	const struct lb_config *c = config_store_running();
	struct lb_config loaded;
	const char *source = c->backups_factory_file[0] ? c->backups_factory_file : "built-in default";

	if (rpc_check_keys(params, keys, err) != 0)
		return NULL;
	if (!json_is_true(json_object_get(params, "confirm")))
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"params.confirm: must be true: a factory reset removes every service");
	if (c->backups_factory_file[0] == '\0')
		lb_config_init_defaults(&loaded);
	else if (lb_config_load_file(c->backups_factory_file, &loaded, err->message,
				     sizeof(err->message)) != 0)
		return rpc_fail(err, JSONRPC_INVALID_PARAMS,
				"backups.factory_file refused, nothing changed: %s", err->message);
	json_t *r = replace_services(&loaded, "before-factory-reset", source, err);
	lb_config_free(&loaded);
	return r;
}

const struct rpc_method rpc_backup_methods[] = {
	{"config.backup", config_backup},
	{"config.backups", config_backups},
	{"config.restore", config_restore},
	{"config.factory_reset", config_factory_reset},
	{NULL, NULL},
};
