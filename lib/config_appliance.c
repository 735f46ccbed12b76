/* The appliance's sections of the configuration: backups (config.backup, config.restore). */
#include "config.h"

#include <stdio.h>
#include <string.h>

static int get_path(const json_t *v, const char *key, bool may_be_empty, char *out, size_t size,
		    char *err, size_t errlen)
{
	json_t *s = json_object_get(v, key);

	if (s == NULL)
		return 0;
	if (!json_is_string(s) || (!may_be_empty && json_string_length(s) == 0) ||
	    json_string_length(s) >= size || (json_string_length(s) > 0 &&
					      json_string_value(s)[0] != '/'))
		return lb_err(err, errlen, "backups.%s: must be an absolute path of %s%zu bytes", key,
			      may_be_empty ? "0 or 1-" : "1-", size - 1);
	snprintf(out, size, "%s", json_string_value(s));
	return 0;
}

int lb_config_parse_backups(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"dir", "keep", "factory_file", NULL};

	if (!json_is_object(v))
		return lb_err(err, errlen, "backups: must be an object");
	if (lb_json_check_keys(v, "backups", keys, err, errlen) != 0 ||
	    get_path(v, "dir", false, c->backups_dir, sizeof(c->backups_dir), err, errlen) != 0 ||
	    get_path(v, "factory_file", true, c->backups_factory_file,
		     sizeof(c->backups_factory_file), err, errlen) != 0 ||
	    lb_json_get_uint(v, "keep", "backups", 1, 10000, &c->backups_keep, err, errlen) != 0)
		return -1;
	return 0;
}

json_t *lb_config_backups_to_json(const struct lb_config *c)
{
	return json_pack("{s:s, s:I, s:s}", "dir", c->backups_dir, "keep",
			 (json_int_t)c->backups_keep, "factory_file", c->backups_factory_file);
}
