/* The admin states that survive a restart (see admin_state_file.h). */
#include "admin_state_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "health_config.h"
#include "lb_log.h"

static char path[LB_SOCKET_PATH_LEN * 2 + 8];

void admin_state_file_init(const struct lb_config *c, const char *config_path)
{
	if (c->health_state_file[0] != '\0')
		snprintf(path, sizeof(path), "%s", c->health_state_file);
	else if (config_path != NULL)
		snprintf(path, sizeof(path), "%s.state", config_path);
	else
		path[0] = '\0';
}

const char *admin_state_file_path(void)
{
	return path;
}

/* One entry: {"service": {vip, port, proto}, "ip", "port", "state"}. */
static int apply_entry(struct lb_config *c, const json_t *e, size_t i, char *err, size_t errlen)
{
	char epath[48];
	struct lb_addr vip, ip;
	uint16_t vport;
	uint8_t proto;
	json_t *v = json_object_get(e, "ip"), *p = json_object_get(e, "port");
	json_t *st = json_object_get(e, "state");
	int state = json_is_string(st) ? lb_admin_state_find(json_string_value(st)) : -1;

	snprintf(epath, sizeof(epath), "reals[%zu]", i);
	if (lb_service_key_from_json(json_object_get(e, "service"), epath, &vip, &vport, &proto, err,
				     errlen) != 0)
		return -1;
	if (!json_is_string(v) || lb_addr_parse(json_string_value(v), &ip) != 0 ||
	    !json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > 65535 ||
	    state < 0)
		return lb_err(err, errlen, "%s: needs ip, port and state (online, drain, offline)",
			      epath);
	int si = lb_config_find_service(c, &vip, vport, proto);
	int ri = si < 0 ? -1
			: lb_service_find_real(&c->services[si], &ip, (uint16_t)json_integer_value(p));
	if (ri < 0)
		return 0; /* the real is no longer configured: its wish went with it */
	c->services[si].reals[ri].admin_state = (uint8_t)state;
	return 1;
}

int admin_state_file_apply(struct lb_config *c, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *reals;
	int n = 0;

	if (path[0] == '\0' || access(path, F_OK) != 0)
		return 0;
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		return lb_err(err, errlen, "%s: line %d: %s", path, jerr.line, jerr.text);
	reals = json_object_get(root, "reals");
	if (!json_is_array(reals)) {
		json_decref(root);
		return lb_err(err, errlen, "%s: \"reals\" must be an array", path);
	}
	/* Checked whole before anything is set: a bad file changes nothing. */
	struct lb_config probe = {0};
	for (int pass = 0; pass < 2; pass++) {
		n = 0;
		for (size_t i = 0; i < json_array_size(reals); i++) {
			char why[LB_ERR_LEN];
			int rc = apply_entry(pass ? c : &probe, json_array_get(reals, i), i, why,
					     sizeof(why));
			if (rc < 0) {
				json_decref(root);
				return lb_err(err, errlen, "%s: %s", path, why);
			}
			n += rc;
		}
	}
	json_decref(root);
	return n;
}

void admin_state_file_write(const struct lb_config *c)
{
	char err[LB_ERR_LEN], ab[LB_ADDR_STRLEN];
	json_t *reals = json_array();

	if (path[0] == '\0' || reals == NULL) {
		json_decref(reals);
		return;
	}
	for (uint32_t i = 0; i < c->n_services; i++) {
		const struct lb_service_cfg *s = &c->services[i];
		for (uint32_t j = 0; j < s->n_reals; j++) {
			const struct lb_real_cfg *r = &s->reals[j];
			if (r->admin_state == LB_ADMIN_ONLINE)
				continue;
			json_t *key = lb_service_to_json(s, false);
			json_t *svc = json_pack("{s:O, s:O, s:O}", "vip", json_object_get(key, "vip"),
						"port", json_object_get(key, "port"), "proto",
						json_object_get(key, "proto"));
			json_decref(key);
			json_array_append_new(reals, json_pack("{s:o, s:s, s:I, s:s}", "service", svc,
							       "ip", lb_addr_format(&r->ip, ab, sizeof(ab)),
							       "port", (json_int_t)r->port, "state",
							       lb_admin_state_name(r->admin_state)));
		}
	}
	json_t *root = json_pack("{s:o}", "reals", reals);
	if (root == NULL || lb_json_save_file(root, path, err, sizeof(err)) < 0)
		LB_LOG(ERR, "health: cannot save the admin states to %s: %s", path,
		       root == NULL ? "out of memory" : err);
	json_decref(root);
}
