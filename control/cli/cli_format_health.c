/*
 * health.status as a table in the spirit of ipvsadm -Ln: one line per service (its check and
 * agent types), one per real with what the appliance observed and what it made of it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli_addr.h"
#include "cli_format.h"

#define LINE_MAX_LEN 1024

static const char *str(const json_t *obj, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : fallback;
}

void cli_format_age(char *buf, size_t len, double seconds)
{
	long long s = seconds > 0 ? (long long)seconds : 0;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

/* The age of the unix time at key, or "-" when it is null or absent. */
static void age_of(char *buf, size_t len, const json_t *obj, const char *key, double now)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_number(v) || json_number_value(v) <= 0)
		snprintf(buf, len, "-");
	else
		cli_format_age(buf, len, now - json_number_value(v));
}

/* A check or agent type: a name, a number (N connects, then a negotiate), or "-" for none. */
static void type_text(char *buf, size_t len, const json_t *v)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "-");
}

static void latency_text(char *buf, size_t len, const json_t *v)
{
	double ms = json_number_value(v);

	if (!json_is_number(v))
		snprintf(buf, len, "-");
	else if (ms < 10)
		snprintf(buf, len, "%.2fms", ms);
	else if (ms < 100)
		snprintf(buf, len, "%.1fms", ms);
	else
		snprintf(buf, len, "%.0fms", ms);
}

/* "drain; status 503 not in 200-299; agent \"up 75%\"": why the real has its weight. */
static void why_text(char *buf, size_t len, const json_t *real)
{
	const char *reason = str(real, "reason", ""), *error = str(real, "last_error", "");
	const json_t *agent = json_object_get(real, "agent");
	size_t off = 0;

	buf[0] = '\0';
#define APPEND(...)                                                                               \
	do {                                                                                      \
		if (off < len) {                                                                  \
			int n_ = snprintf(buf + off, len - off, __VA_ARGS__);                     \
			off += n_ > 0 ? (size_t)n_ : 0;                                           \
		}                                                                                 \
	} while (0)
	/* "configured": nothing to explain; "agent": the agent's reply below says it */
	if (reason[0] != '\0' && strcmp(reason, "configured") != 0 && strcmp(reason, "agent") != 0)
		APPEND("%s", reason);
	if (error[0] != '\0')
		APPEND("%s%s", off ? "; " : "", error);
	if (json_is_object(agent)) {
		const char *aerr = str(agent, "error", ""), *reply = str(agent, "reply", "");
		if (aerr[0] != '\0')
			APPEND("%sagent error: %s", off ? "; " : "", aerr);
		else if (reply[0] != '\0')
			APPEND("%sagent \"%s\"", off ? "; " : "", reply);
	}
#undef APPEND
}

/* Prints line without trailing blanks. */
static void put_trimmed(char *line)
{
	size_t n = strlen(line);

	while (n > 0 && line[n - 1] == ' ')
		line[--n] = '\0';
	puts(line);
}

#define ROW_FMT "  -> %-28s %-7s %-7s %-7s %-7s %-8s %-7s %-11s %s"

static void print_real(const json_t *real, double now)
{
	char line[LINE_MAX_LEN], name[CLI_ENDPOINT_STRLEN], since[24], checked[24], latency[24],
		counts[48], weight[48], why[512];

	cli_format_endpoint(name, sizeof(name), str(real, "ip", "?"),
			    (long long)json_integer_value(json_object_get(real, "port")));
	age_of(since, sizeof(since), real, "since", now);
	age_of(checked, sizeof(checked), real, "last_check", now);
	latency_text(latency, sizeof(latency), json_object_get(real, "latency_ms"));
	snprintf(counts, sizeof(counts), "%lld/%lld",
		 (long long)json_integer_value(json_object_get(real, "failures")),
		 (long long)json_integer_value(json_object_get(real, "successes")));
	/* out of scheduling (offline, or down without quiescent): no weight at all */
	if (json_is_false(json_object_get(real, "in_service")))
		snprintf(weight, sizeof(weight), "%lld->out",
			 (long long)json_integer_value(json_object_get(real, "weight")));
	else
		snprintf(weight, sizeof(weight), "%lld->%lld",
			 (long long)json_integer_value(json_object_get(real, "weight")),
			 (long long)json_integer_value(json_object_get(real, "effective_weight")));
	why_text(why, sizeof(why), real);
	snprintf(line, sizeof(line), ROW_FMT, name, str(real, "state", "?"), str(real, "admin", "?"),
		 since, checked, latency, counts, weight, why);
	put_trimmed(line);
}

void cli_print_health_table(const json_t *services, double now)
{
	char line[LINE_MAX_LEN];
	size_t i, j;
	const json_t *svc, *real;

	printf("Prot LocalAddress:Port Check Agent\n");
	snprintf(line, sizeof(line), ROW_FMT, "RemoteAddress:Port", "State", "Admin", "Since",
		 "Checked", "Latency", "Fail/OK", "Weight->Eff", "Why");
	put_trimmed(line);
	json_array_foreach(services, i, svc) {
		char proto[8], endpoint[CLI_ENDPOINT_STRLEN], check[32], agent[32];
		const char *p = str(svc, "proto", "?");
		size_t k;
		for (k = 0; p[k] != '\0' && k < sizeof(proto) - 1; k++)
			proto[k] = (char)toupper((unsigned char)p[k]);
		proto[k] = '\0';
		cli_format_endpoint(endpoint, sizeof(endpoint), str(svc, "vip", "?"),
				    (long long)json_integer_value(json_object_get(svc, "port")));
		type_text(check, sizeof(check), json_object_get(svc, "check"));
		type_text(agent, sizeof(agent), json_object_get(svc, "agent"));
		printf("%s  %s %s %s", proto, endpoint, check, agent);
		if (json_is_true(json_object_get(svc, "fallback_active")))
			printf(" (all down: fallback active)");
		else if (json_is_true(json_object_get(svc, "all_down")))
			printf(" (all down)");
		putchar('\n');
		json_array_foreach(json_object_get(svc, "reals"), j, real)
			print_real(real, now);
	}
}
