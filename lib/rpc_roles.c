/* Roles on the management socket: rpc.roles, who has which role, what each method needs. */
#include "rpc_roles.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const role_names[] = {"none", "reports", "maintenance", "config"};

const char *lb_role_name(enum lb_role role)
{
	return (unsigned)role < sizeof(role_names) / sizeof(role_names[0]) ? role_names[role] : "none";
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Unix user and group names as useradd accepts them: letters, digits, '_', '-', '.', '$'. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= LB_ROLE_NAME_LEN || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
		      (ch == '$' && i == n - 1)))
			return false;
	}
	return true;
}

static int parse_map(const json_t *map, bool group, struct lb_roles *r, char *err, size_t errlen)
{
	const char *what = group ? "groups" : "users";
	const char *name;
	json_t *v;

	if (map == NULL)
		return 0;
	if (!json_is_object(map))
		return fail(err, errlen, "rpc.roles.%s: must be an object {NAME: ROLE}", what);
	json_object_foreach((json_t *)map, name, v) {
		const char *role = json_string_value(v);
		uint8_t k = LB_ROLE_NONE;
		if (!valid_name(name))
			return fail(err, errlen,
				    "rpc.roles.%s: '%.40s' is not a %s name (1-32 letters, digits, "
				    "'_', '-', '.')", what, name, group ? "group" : "user");
		for (uint8_t i = LB_ROLE_REPORTS; role != NULL && i <= LB_ROLE_CONFIG; i++)
			if (strcmp(role, role_names[i]) == 0)
				k = i;
		if (k == LB_ROLE_NONE)
			return fail(err, errlen,
				    "rpc.roles.%s.%s: must be \"config\", \"maintenance\" or \"reports\"",
				    what, name);
		if (r->n == LB_ROLES_MAX)
			return fail(err, errlen, "rpc.roles: at most %d users and groups in all",
				    LB_ROLES_MAX);
		struct lb_role_entry *e = &r->entries[r->n++];
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->group = group;
		e->role = k;
	}
	return 0;
}

int lb_roles_from_json(const json_t *v, struct lb_roles *r, char *err, size_t errlen)
{
	const char *key;
	json_t *member;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(v))
		return fail(err, errlen, "rpc.roles: must be an object {\"users\": {...}, \"groups\": {...}}");
	json_object_foreach((json_t *)v, key, member) {
		if (strcmp(key, "users") != 0 && strcmp(key, "groups") != 0)
			return fail(err, errlen, "rpc.roles.%.40s: unknown key (users, groups)", key);
	}
	if (parse_map(json_object_get(v, "users"), false, r, err, errlen) != 0 ||
	    parse_map(json_object_get(v, "groups"), true, r, err, errlen) != 0)
		return -1;
	return 0;
}

json_t *lb_roles_to_json(const struct lb_roles *r)
{
	json_t *users = json_object(), *groups = json_object();

	for (uint32_t i = 0; i < r->n; i++)
		json_object_set_new(r->entries[i].group ? groups : users, r->entries[i].name,
				    json_string(role_names[r->entries[i].role]));
	return json_pack("{s:o, s:o}", "users", users, "groups", groups);
}

enum lb_role lb_roles_resolve(const struct lb_roles *r, uint32_t uid, const char *user,
			      const char *const *groups, size_t n_groups)
{
	enum lb_role best = LB_ROLE_NONE;

	if (uid == 0)
		return LB_ROLE_CONFIG;
	for (uint32_t i = 0; user != NULL && i < r->n; i++)
		if (!r->entries[i].group && strcmp(r->entries[i].name, user) == 0)
			return (enum lb_role)r->entries[i].role;
	for (uint32_t i = 0; i < r->n; i++) {
		if (!r->entries[i].group || r->entries[i].role <= best)
			continue;
		for (size_t g = 0; g < n_groups; g++)
			if (groups[g] != NULL && strcmp(r->entries[i].name, groups[g]) == 0)
				best = (enum lb_role)r->entries[i].role;
	}
	return best;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* real.update that only changes the weight or the state of a real: maintenance's work. */
static bool is_weight_update(const json_t *params)
{
	const char *key;
	json_t *v;

	if (!json_is_object(params))
		return false;
	json_object_foreach((json_t *)params, key, v) {
		if (strcmp(key, "service") != 0 && strcmp(key, "ip") != 0 &&
		    strcmp(key, "port") != 0 && strcmp(key, "weight") != 0 &&
		    strcmp(key, "state") != 0)
			return false;
	}
	return true;
}

static enum lb_role edit_required(const char *method, const json_t *params)
{
	if (strcmp(method, "real.drain") == 0 || strcmp(method, "real.offline") == 0 ||
	    strcmp(method, "real.online") == 0)
		return LB_ROLE_MAINTENANCE;
	if (strcmp(method, "real.update") == 0 && is_weight_update(params))
		return LB_ROLE_MAINTENANCE;
	return LB_ROLE_CONFIG;
}

/* config.apply needs the most any of its edits needs; a malformed one is config's to get wrong. */
static enum lb_role apply_required(const json_t *params)
{
	json_t *edits = json_is_object(params) ? json_object_get(params, "edits") : NULL;
	enum lb_role need = LB_ROLE_MAINTENANCE;
	size_t i;
	json_t *e;

	if (!json_is_array(edits) || json_array_size(edits) == 0)
		return LB_ROLE_CONFIG;
	json_array_foreach(edits, i, e) {
		const char *m = json_string_value(json_object_get(e, "method"));
		if (m == NULL || edit_required(m, json_object_get(e, "params")) == LB_ROLE_CONFIG)
			return LB_ROLE_CONFIG;
	}
	return need;
}

enum lb_role lb_role_required(const char *method, const json_t *params)
{
	/* Reads by name: every method that only reports is called *.get, *.list, *.status or
	 * *.info; config.backups lists the backups. */
	if (strcmp(method, "config.backups") == 0 || ends_with(method, ".get") ||
	    ends_with(method, ".list") || ends_with(method, ".status") || ends_with(method, ".info"))
		return LB_ROLE_REPORTS;
	if (strcmp(method, "config.apply") == 0)
		return apply_required(params);
	return edit_required(method, params);
}

/* "tcp 10.0.0.1:80" from a service key object; false when it is not one. */
static bool service_key(const json_t *k, char *buf, size_t len)
{
	const char *vip = json_string_value(json_object_get(k, "vip"));
	const char *proto = json_string_value(json_object_get(k, "proto"));
	json_t *port = json_object_get(k, "port");

	if (vip == NULL || !json_is_integer(port))
		return false;
	snprintf(buf, len, strchr(vip, ':') ? "%s [%s]:%lld" : "%s %s:%lld", proto ? proto : "?",
		 vip, (long long)json_integer_value(port));
	return true;
}

static void one_key(const json_t *params, char *buf, size_t len)
{
	char svc[96];
	const char *s;

	snprintf(buf, len, "-");
	if (!json_is_object(params))
		return;
	if (service_key(params, svc, sizeof(svc))) {
		snprintf(buf, len, "%s", svc);
	} else if (service_key(json_object_get(params, "service"), svc, sizeof(svc))) {
		const char *ip = json_string_value(json_object_get(params, "ip"));
		json_t *port = json_object_get(params, "port");
		if (ip == NULL)
			snprintf(buf, len, "%s", svc);
		else if (json_is_integer(port))
			snprintf(buf, len, strchr(ip, ':') ? "%s real [%s]:%lld" : "%s real %s:%lld",
				 svc, ip, (long long)json_integer_value(port));
		else
			snprintf(buf, len, "%s real %s", svc, ip);
	} else if ((s = json_string_value(json_object_get(params, "name"))) != NULL) {
		snprintf(buf, len, "backup %s", s);
	} else if ((s = json_string_value(json_object_get(params, "label"))) != NULL) {
		snprintf(buf, len, "label %s", s);
	} else if ((s = json_string_value(json_object_get(params, "path"))) != NULL) {
		snprintf(buf, len, "path %s", s);
	}
}

void lb_rpc_object_key(const char *method, const json_t *params, char *buf, size_t len)
{
	json_t *edits = json_is_object(params) ? json_object_get(params, "edits") : NULL;
	size_t used = 0, i;
	json_t *e;
	char one[160];

	if (len == 0)
		return;
	if (strcmp(method, "config.apply") != 0 || !json_is_array(edits)) {
		one_key(params, buf, len);
		return;
	}
	buf[0] = '\0';
	json_array_foreach(edits, i, e) {
		const char *m = json_string_value(json_object_get(e, "method"));
		one_key(json_object_get(e, "params"), one, sizeof(one));
		int n = snprintf(buf + used, len - used, "%s%s %s", i ? "; " : "", m ? m : "?", one);
		if (n < 0 || (size_t)n >= len - used) {
			/* Cut at the last whole edit and say how many there were. */
			buf[used] = '\0';
			snprintf(buf + used, len - used, "%s... (%zu edits)", used ? "; " : "",
				 json_array_size(edits));
			return;
		}
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "-");
}
