/*
 * Health-check and feedback-agent configuration: the "check" and "agent" objects of a service
 * and the "check" overrides of its reals, with ldirectord's and keepalived's defaults. The
 * configuration keeps them as normalised JSON (immutable, shared between candidates by
 * reference); the validator and the checker turn them into these structs.
 */
#ifndef DPDK_LB_HEALTH_CONFIG_H
#define DPDK_LB_HEALTH_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check_dialogue.h"

enum lb_check_type {
	LB_CHECK_CONNECT = 0,
	LB_CHECK_NEGOTIATE,
	LB_CHECK_PING,
	LB_CHECK_EXTERNAL,
	LB_CHECK_ON,  /* always up, never checked */
	LB_CHECK_OFF, /* always down, never checked */
	LB_CHECK_TYPE_COUNT,
};

enum lb_admin_state {
	LB_ADMIN_ONLINE = 0,
	LB_ADMIN_DRAIN,   /* weight 0: no new connections, existing ones continue */
	LB_ADMIN_OFFLINE, /* out of scheduling */
	LB_ADMIN_COUNT,
};

enum lb_agent_type {
	LB_AGENT_NONE = 0,
	LB_AGENT_LVS,     /* "agent": TCP, one integer (idle CPU 0-100) */
	LB_AGENT_HTTP,    /* "http": GET /, the body is that integer */
	LB_AGENT_HAPROXY, /* "haproxy": HAProxy agent-check line */
	LB_AGENT_TYPE_COUNT,
};

#define LB_CHECK_STR 256
#define LB_CHECK_NAME 16

struct lb_check_cfg {
	uint8_t type;              /* enum lb_check_type */
	uint32_t connects_first;   /* type N: N connect checks, then one negotiate (0 = plain type) */
	char service[LB_CHECK_NAME]; /* negotiate protocol; "" = from the port */
	uint8_t protocol;          /* IPPROTO_TCP / IPPROTO_UDP; 0 = the service's */
	uint16_t port;             /* 0 = the real's port */
	uint32_t interval_ms, timeout_ms, negotiate_timeout_ms;
	uint32_t failures, successes;
	bool quiescent;
	char request[LB_CHECK_STR];
	char method[8];
	char host[LB_CHECK_STR];
	char status[64];
	uint8_t n_status;
	uint16_t status_lo[CHECK_MAX_STATUS_RANGES], status_hi[CHECK_MAX_STATUS_RANGES];
	char receive[LB_CHECK_STR];
	char receive_regex[LB_CHECK_STR];
	bool verify;
	char ca_file[LB_CHECK_STR];
	char login[128], password[128], database[128];
	char query_type[16];
	uint16_t dns_type;
	char command[LB_CHECK_STR];
	char notify[LB_CHECK_STR];
};

struct lb_agent_cfg {
	uint8_t type; /* enum lb_agent_type */
	uint16_t port;
	uint32_t interval_ms, timeout_ms;
	char send[128];
};

/* "connect" ... for a check type (the numeric form is printed by the caller). */
const char *lb_check_type_name(uint8_t type);

/* "online", "drain", "offline"; NULL for an unknown value. */
const char *lb_admin_state_name(uint8_t state);

/* The admin state called name, or -1. */
int lb_admin_state_find(const char *name);

/* "none", "agent", "http", "haproxy". */
const char *lb_agent_type_name(uint8_t type);

/*
 * Parses a check: the keys of base (a service's normalised check, or NULL) overridden by those
 * of over (a real's override, or NULL), defaults for the rest. Form and range only; the
 * protocol and port rules are the validator's. 0, or -1 with err naming path and key.
 */
int lb_check_from_json(const json_t *base, const json_t *over, const char *path,
		       struct lb_check_cfg *out, char *err, size_t errlen);

/* The check as a normalised object, every key present; new reference. */
json_t *lb_check_to_json(const struct lb_check_cfg *c);

/* Parses an agent object (defaults for absent keys); 0, or -1 with err. */
int lb_agent_from_json(const json_t *obj, const char *path, struct lb_agent_cfg *out, char *err,
		       size_t errlen);

/* The agent as a normalised object; new reference. */
json_t *lb_agent_to_json(const struct lb_agent_cfg *a);

/*
 * The negotiate protocol of a check for a real on real_port: the named service, else the one
 * the check port selects; NULL when there is none.
 */
const struct check_proto *lb_check_proto(const struct lb_check_cfg *c, uint16_t real_port);

/* Parses "200-299,301" into c->status ranges; 0 or -1. */
int lb_check_parse_status(const char *s, struct lb_check_cfg *c);

#endif
