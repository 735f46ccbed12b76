/*
 * The health-check and feedback-agent options of service add|update ("check" and "agent"
 * objects) and of real add|update (a real's "check" override and "state"), named after the
 * API's keys with ldirectord's spellings as aliases (--checktype, --virtualhost ...).
 */
#ifndef DPDK_LB_CLI_HEALTH_OPTS_H
#define DPDK_LB_CLI_HEALTH_OPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli_args.h"

/* Option ids of this file: above those of every command's own table. */
enum cli_health_opt {
	HOPT_CHECK = 100,
	HOPT_CHECK_SERVICE,
	HOPT_CHECK_PROTOCOL,
	HOPT_CHECK_PORT,
	HOPT_CHECK_INTERVAL,
	HOPT_CHECK_TIMEOUT,
	HOPT_NEGOTIATE_TIMEOUT,
	HOPT_FAILURES,
	HOPT_SUCCESSES,
	HOPT_QUIESCENT,
	HOPT_NO_QUIESCENT,
	HOPT_REQUEST,
	HOPT_METHOD,
	HOPT_HOST,
	HOPT_STATUS,
	HOPT_RECEIVE,
	HOPT_RECEIVE_REGEX,
	HOPT_VERIFY,
	HOPT_NO_VERIFY,
	HOPT_CA_FILE,
	HOPT_LOGIN,
	HOPT_PASSWORD,
	HOPT_DATABASE,
	HOPT_QUERY_TYPE,
	HOPT_CHECK_COMMAND,
	HOPT_NOTIFY,
	HOPT_AGENT,
	HOPT_AGENT_PORT,
	HOPT_AGENT_INTERVAL,
	HOPT_AGENT_TIMEOUT,
	HOPT_AGENT_SEND,
	HOPT_STATE,
};

/* Entries for a command's option table (no terminator): the check keys. */
#define CLI_CHECK_OPTIONS                                                                          \
	{"check", 0, true, HOPT_CHECK}, {"checktype", 0, true, HOPT_CHECK},                        \
	{"check-service", 0, true, HOPT_CHECK_SERVICE},                                            \
	{"check-protocol", 0, true, HOPT_CHECK_PROTOCOL},                                          \
	{"check-port", 0, true, HOPT_CHECK_PORT}, {"checkport", 0, true, HOPT_CHECK_PORT},         \
	{"check-interval", 0, true, HOPT_CHECK_INTERVAL},                                          \
	{"checkinterval", 0, true, HOPT_CHECK_INTERVAL},                                           \
	{"check-timeout", 0, true, HOPT_CHECK_TIMEOUT},                                            \
	{"checktimeout", 0, true, HOPT_CHECK_TIMEOUT},                                             \
	{"negotiate-timeout", 0, true, HOPT_NEGOTIATE_TIMEOUT},                                    \
	{"negotiatetimeout", 0, true, HOPT_NEGOTIATE_TIMEOUT},                                     \
	{"failures", 0, true, HOPT_FAILURES}, {"failurecount", 0, true, HOPT_FAILURES},            \
	{"successes", 0, true, HOPT_SUCCESSES}, {"quiescent", 0, false, HOPT_QUIESCENT},           \
	{"no-quiescent", 0, false, HOPT_NO_QUIESCENT}, {"request", 0, true, HOPT_REQUEST},         \
	{"method", 0, true, HOPT_METHOD}, {"httpmethod", 0, true, HOPT_METHOD},                    \
	{"host", 0, true, HOPT_HOST}, {"virtualhost", 0, true, HOPT_HOST},                         \
	{"status", 0, true, HOPT_STATUS}, {"receive", 0, true, HOPT_RECEIVE},                      \
	{"receive-regex", 0, true, HOPT_RECEIVE_REGEX}, {"verify", 0, false, HOPT_VERIFY},         \
	{"no-verify", 0, false, HOPT_NO_VERIFY}, {"ca-file", 0, true, HOPT_CA_FILE},               \
	{"login", 0, true, HOPT_LOGIN}, {"password", 0, true, HOPT_PASSWORD},                      \
	{"passwd", 0, true, HOPT_PASSWORD}, {"database", 0, true, HOPT_DATABASE},                  \
	{"query-type", 0, true, HOPT_QUERY_TYPE},                                                  \
	{"check-command", 0, true, HOPT_CHECK_COMMAND}, {"notify", 0, true, HOPT_NOTIFY}

/* The agent keys (services only). */
#define CLI_AGENT_OPTIONS                                                                          \
	{"agent", 0, true, HOPT_AGENT}, {"agent-port", 0, true, HOPT_AGENT_PORT},                  \
	{"agent-interval", 0, true, HOPT_AGENT_INTERVAL},                                          \
	{"agent-timeout", 0, true, HOPT_AGENT_TIMEOUT}, {"agent-send", 0, true, HOPT_AGENT_SEND}

#define CLI_CHECK_OPTS_USAGE                                                                       \
	"       [--check TYPE|N|none] [--check-service NAME] [--check-protocol tcp|udp]\n"          \
	"       [--check-port N] [--check-interval S] [--check-timeout S] [--negotiate-timeout S]\n" \
	"       [--failures N] [--successes N] [--quiescent|--no-quiescent] [--request STR]\n"     \
	"       [--method GET|HEAD] [--host NAME] [--status RANGES] [--receive STR]\n"             \
	"       [--receive-regex RE] [--verify|--no-verify] [--ca-file PATH] [--login USER]\n"     \
	"       [--password PW] [--database DB] [--query-type TYPE] [--check-command CMD]\n"       \
	"       [--notify CMD]"
#define CLI_AGENT_OPTS_USAGE                                                                       \
	"       [--agent none|agent|http|haproxy] [--agent-port N] [--agent-interval S]\n"          \
	"       [--agent-timeout S] [--agent-send STR]"

/* What the health options of one command line asked for. */
struct cli_health_edit {
	json_t *check;     /* check keys given, or NULL */
	bool check_remove; /* --check none: "check": null */
	json_t *agent;     /* agent keys given, or NULL */
	bool agent_remove; /* --agent none: "agent": null */
	const char *state; /* --state: a real's admin state, or NULL */
};

/* Takes option id (>= HOPT_CHECK) with its value; 0, or -1 with err set (a usage error). */
int cli_health_option(struct cli_health_edit *h, int id, const char *value, char *err,
		      size_t errlen);

/* True when the command line gave check or agent keys (not only a removal). */
bool cli_health_has_keys(const struct cli_health_edit *h);

/* True when it gave anything at all. */
bool cli_health_has_any(const struct cli_health_edit *h);

/*
 * Sets "check", "agent" and "state" in params: a removal as null, given keys merged over
 * base_check / base_agent (the current objects, NULL when none or for an add). An agent whose
 * type changes loses its old interval (the new type's default applies unless given). 0, or -1
 * with err set when agent keys are given without any agent type.
 */
int cli_health_apply(const struct cli_health_edit *h, json_t *params, const json_t *base_check,
		     const json_t *base_agent, char *err, size_t errlen);

/* Frees what the options collected. */
void cli_health_edit_free(struct cli_health_edit *h);

#endif
