/*
 * Health-check and agent options into the API's "check" / "agent" objects. Forms are checked
 * here (a usage error names the option); ranges that depend on the configuration are the
 * daemon's (-32602 naming the key).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_health_opts.h"

static const char *const check_types[] = {"connect", "negotiate", "ping", "external", "on", "off",
					  NULL};
static const char *const agent_types[] = {"agent", "http", "haproxy", NULL};
static const char *const admin_states[] = {"online", "drain", "offline", NULL};

static int fail(char *err, size_t errlen, const char *fmt, const char *value)
	__attribute__((format(printf, 3, 0)));

static int fail(char *err, size_t errlen, const char *fmt, const char *value)
{
	snprintf(err, errlen, fmt, value);
	return -1;
}

static bool in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* Seconds as the API takes them (0.01-86400): an integer stays one, "2.5" becomes a real. */
static json_t *seconds(const char *s)
{
	char *end;
	double v;

	if (s[0] < '0' || s[0] > '9')
		return NULL;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v) || v < 0.01 || v > 86400)
		return NULL;
	return v == (double)(long long)v ? json_integer((json_int_t)v) : json_real(v);
}

static json_t *uint_in(const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;

	return cli_parse_ulong(s, min, max, &v) == 0 ? json_integer((json_int_t)v) : NULL;
}

/* The object an option writes to, created on first use. */
static json_t *object(json_t **o)
{
	if (*o == NULL)
		*o = json_object();
	return *o;
}

/* --check TYPE: a type name, a number N (N connects, then one negotiate) or none. */
static int check_type(struct cli_health_edit *h, const char *value, char *err, size_t errlen)
{
	json_t *n;

	if (strcmp(value, "none") == 0) {
		h->check_remove = true;
		return 0;
	}
	if (in_list(check_types, value)) {
		json_object_set_new(object(&h->check), "type", json_string(value));
		return 0;
	}
	if ((n = uint_in(value, 1, 1000)) != NULL) {
		json_object_set_new(object(&h->check), "type", n);
		return 0;
	}
	return fail(err, errlen,
		    "'%s': --check must be connect, negotiate, ping, external, on, off, a number "
		    "1-1000 (connect checks before a negotiate) or none",
		    value);
}

/* Options whose value is checked as a number: the key, the parser and the message. */
static int numeric_option(struct cli_health_edit *h, int id, const char *value, char *err,
			  size_t errlen)
{
	static const struct {
		int id;
		bool agent;
		const char *key;
		unsigned long min, max; /* 0, 0: seconds */
		const char *msg;
	} nums[] = {
		{HOPT_CHECK_PORT, false, "port", 0, 65535, "'%s': --check-port must be 0-65535"},
		{HOPT_CHECK_INTERVAL, false, "interval", 0, 0,
		 "'%s': --check-interval must be 0.01-86400 seconds"},
		{HOPT_CHECK_TIMEOUT, false, "timeout", 0, 0,
		 "'%s': --check-timeout must be 0.01-86400 seconds"},
		{HOPT_NEGOTIATE_TIMEOUT, false, "negotiate_timeout", 0, 0,
		 "'%s': --negotiate-timeout must be 0.01-86400 seconds"},
		{HOPT_FAILURES, false, "failures", 1, 1000, "'%s': --failures must be 1-1000"},
		{HOPT_SUCCESSES, false, "successes", 1, 1000, "'%s': --successes must be 1-1000"},
		{HOPT_AGENT_PORT, true, "port", 1, 65535, "'%s': --agent-port must be 1-65535"},
		{HOPT_AGENT_INTERVAL, true, "interval", 0, 0,
		 "'%s': --agent-interval must be 0.01-86400 seconds"},
		{HOPT_AGENT_TIMEOUT, true, "timeout", 0, 0,
		 "'%s': --agent-timeout must be 0.01-86400 seconds"},
	};

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (nums[i].id != id)
			continue;
		json_t *v = nums[i].max == 0 ? seconds(value) : uint_in(value, nums[i].min, nums[i].max);
		if (v == NULL)
			return fail(err, errlen, nums[i].msg, value);
		json_object_set_new(object(nums[i].agent ? &h->agent : &h->check), nums[i].key, v);
		return 0;
	}
	return 1; /* not a numeric option */
}

/* Options whose value is a string passed as it is. */
static const char *string_key(int id)
{
	switch (id) {
	case HOPT_CHECK_SERVICE:
		return "service";
	case HOPT_REQUEST:
		return "request";
	case HOPT_HOST:
		return "host";
	case HOPT_STATUS:
		return "status";
	case HOPT_RECEIVE:
		return "receive";
	case HOPT_RECEIVE_REGEX:
		return "receive_regex";
	case HOPT_CA_FILE:
		return "ca_file";
	case HOPT_LOGIN:
		return "login";
	case HOPT_PASSWORD:
		return "password";
	case HOPT_DATABASE:
		return "database";
	case HOPT_QUERY_TYPE:
		return "query_type";
	case HOPT_CHECK_COMMAND:
		return "command";
	case HOPT_NOTIFY:
		return "notify";
	default:
		return NULL;
	}
}

static int word_option(struct cli_health_edit *h, int id, const char *value, char *err,
		       size_t errlen)
{
	char word[16];
	size_t i;

	switch (id) {
	case HOPT_CHECK_PROTOCOL:
		for (i = 0; value[i] != '\0' && i < sizeof(word) - 1; i++)
			word[i] = (char)tolower((unsigned char)value[i]);
		word[i] = '\0';
		if (strcmp(word, "tcp") != 0 && strcmp(word, "udp") != 0)
			return fail(err, errlen, "'%s': --check-protocol must be tcp or udp", value);
		json_object_set_new(object(&h->check), "protocol", json_string(word));
		return 0;
	case HOPT_METHOD:
		if (strcasecmp(value, "GET") != 0 && strcasecmp(value, "HEAD") != 0)
			return fail(err, errlen, "'%s': --method must be GET or HEAD", value);
		json_object_set_new(object(&h->check), "method",
				    json_string(strcasecmp(value, "GET") == 0 ? "GET" : "HEAD"));
		return 0;
	case HOPT_AGENT:
		if (strcmp(value, "none") == 0) {
			h->agent_remove = true;
			return 0;
		}
		if (!in_list(agent_types, value))
			return fail(err, errlen, "'%s': --agent must be none, agent, http or haproxy",
				    value);
		json_object_set_new(object(&h->agent), "type", json_string(value));
		return 0;
	case HOPT_STATE:
		if (!in_list(admin_states, value))
			return fail(err, errlen, "'%s': --state must be online, drain or offline",
				    value);
		h->state = value;
		return 0;
	default:
		return 1;
	}
}

int cli_health_option(struct cli_health_edit *h, int id, const char *value, char *err,
		      size_t errlen)
{
	const char *key = string_key(id);
	int rc;

	if (key != NULL) {
		json_object_set_new(object(&h->check), key, json_string(value));
		return 0;
	}
	switch (id) {
	case HOPT_CHECK:
		return check_type(h, value, err, errlen);
	case HOPT_QUIESCENT:
	case HOPT_NO_QUIESCENT:
		json_object_set_new(object(&h->check), "quiescent", json_boolean(id == HOPT_QUIESCENT));
		return 0;
	case HOPT_VERIFY:
	case HOPT_NO_VERIFY:
		json_object_set_new(object(&h->check), "verify", json_boolean(id == HOPT_VERIFY));
		return 0;
	case HOPT_AGENT_SEND:
		json_object_set_new(object(&h->agent), "send", json_string(value));
		return 0;
	}
	if ((rc = numeric_option(h, id, value, err, errlen)) <= 0)
		return rc;
	if ((rc = word_option(h, id, value, err, errlen)) <= 0)
		return rc;
	return fail(err, errlen, "%s: unknown health option", value != NULL ? value : "?");
}

bool cli_health_has_keys(const struct cli_health_edit *h)
{
	return h->check != NULL || h->agent != NULL;
}

bool cli_health_has_any(const struct cli_health_edit *h)
{
	return cli_health_has_keys(h) || h->check_remove || h->agent_remove || h->state != NULL;
}

/* base's keys (when it is an object) with over's on top; new reference. */
static json_t *merged(const json_t *base, const json_t *over)
{
	json_t *o = json_is_object(base) ? json_deep_copy(base) : json_object();

	json_object_update(o, (json_t *)over);
	return o;
}

int cli_health_apply(const struct cli_health_edit *h, json_t *params, const json_t *base_check,
		     const json_t *base_agent, char *err, size_t errlen)
{
	if (h->check_remove && h->check != NULL)
		return fail(err, errlen, "%s", "--check none removes the check: give no other check option");
	if (h->agent_remove && h->agent != NULL)
		return fail(err, errlen, "%s", "--agent none removes the agent: give no other agent option");
	if (h->check_remove)
		json_object_set_new(params, "check", json_null());
	else if (h->check != NULL)
		json_object_set_new(params, "check", merged(base_check, h->check));
	if (h->agent_remove) {
		json_object_set_new(params, "agent", json_null());
	} else if (h->agent != NULL) {
		json_t *a = merged(base_agent, h->agent);
		const char *old = json_string_value(json_object_get(base_agent, "type"));
		const char *new = json_string_value(json_object_get(h->agent, "type"));
		if (old != NULL && new != NULL && strcmp(old, new) != 0 &&
		    json_object_get(h->agent, "interval") == NULL)
			json_object_del(a, "interval");
		const char *type = json_string_value(json_object_get(a, "type"));
		if (type == NULL || strcmp(type, "none") == 0) {
			json_decref(a);
			return fail(err, errlen, "%s",
				    "agent options need an agent: give --agent agent|http|haproxy");
		}
		json_object_set_new(params, "agent", a);
	}
	if (h->state != NULL)
		json_object_set_new(params, "state", json_string(h->state));
	return 0;
}

void cli_health_edit_free(struct cli_health_edit *h)
{
	json_decref(h->check);
	json_decref(h->agent);
	h->check = h->agent = NULL;
}
